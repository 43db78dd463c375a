"""Every docstring example of dockit and the five Dockerfile tools runs (rget: tests/rget/test_rget_doctests.py).

pytest collects only tests/, so without this a module's examples are never run by ``make test``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ["dockit", "targd", "minid", "castage", "dlayer", "dignore"]


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}.")]
    return sorted(set(names))


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
