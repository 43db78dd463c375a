"""Every docstring example of dockit and the five Dockerfile tools runs (rget: tests/rget/test_rget_doctests.py).

pytest collects only tests/, so without this a module's examples are never run by ``make test``. A module is tested
when its source holds a ``>>>`` prompt, and every prompt must be an example doctest collects: one in a docstring
doctest never looks at (a nested function's, a comment) would otherwise pass unseen, as would a module with no
examples; and each module must run at least one (``+SKIP`` on all of them: :data:`ONLY_SKIPPED`).
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

PACKAGES = ["dockit", "targd", "minid", "castage", "dlayer", "dignore"]
PROMPT = re.compile(r"^\s*>>>", re.MULTILINE)


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}.")]
    return sorted(set(names))


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin)


def _prompts(path: Path) -> int:
    """The examples a reader sees: lines that start with ``>>>``."""
    return len(PROMPT.findall(path.read_text()))


def _examples(module: ModuleType) -> list[doctest.Example]:
    """The examples doctest collects (it runs those not marked ``+SKIP``)."""
    return [example for test in doctest.DocTestFinder().find(module) for example in test.examples]


# Modules whose every example is marked +SKIP (they read an image archive on disk): illustration, which cannot fail.
ONLY_SKIPPED = {"dockit.archive.reader"}


WITH_EXAMPLES = [m for m in _modules() if _prompts(_source(m))]


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_docstring_examples_run(module: str) -> None:
    imported = importlib.import_module(module)
    prompts = _prompts(_source(module))
    examples = _examples(imported)
    assert len(examples) == prompts, f"{module}: some >>> lines are no example doctest runs"
    ran = sum(1 for example in examples if not example.options.get(doctest.SKIP))
    assert (ran == 0) == (module in ONLY_SKIPPED), f"{module}: {ran} examples run"
    result = doctest.testmod(imported)
    assert result.attempted == ran and result.failed == 0


def test_every_module_file_is_walked() -> None:
    """A module walk_packages missed would have its examples skipped, not failed."""
    on_disk = set()
    for package in PACKAGES:
        root = _source(package).parent
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            on_disk.add(".".join((package, *parts[: -1 if parts[-1] == "__init__" else None])))
    assert on_disk == set(_modules())


def test_a_prompt_doctest_does_not_collect_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "hidden_example.py"
    source.write_text(
        'def outer() -> None:\n    def inner() -> None:\n        """\n        >>> 1 + 1\n        3\n        """\n',
    )
    spec = importlib.util.spec_from_file_location("hidden_example", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "hidden_example", module)
    spec.loader.exec_module(module)
    assert (_prompts(source), len(_examples(module))) == (1, 0)
