"""The examples in rget's docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "rget.args",
        "rget.help",
        "rget.blocks",
        "rget.remote",
        "rget.cli",
        "rget.redact",
        "rget.output",
        "rget.extract",
        "rget.manifest",
    ],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
