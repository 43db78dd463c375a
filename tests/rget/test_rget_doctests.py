"""The examples in rget's docstrings run as written: every module that has one (a new module is not forgotten)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import rget

SOURCE = Path(rget.__file__).parent
MODULES = sorted(
    "rget" if path.stem == "__init__" else f"rget.{path.stem}"
    for path in SOURCE.glob("*.py")
    if any(">>>" in line and "+SKIP" not in line for line in path.read_text(encoding="utf-8").splitlines())
)


def test_every_module_with_examples_is_run() -> None:
    assert {"rget.early", "rget.blocks", "rget.remote", "rget.options"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
