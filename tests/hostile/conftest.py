"""Start every collected hostile test's console-script runs as the first hostile test begins (see runner.Ahead):
they run in worker threads while the in-process tests (properties, servers) use the main thread; the packages they
run are byte-compiled once first."""

from __future__ import annotations

import compileall
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.runner import Ahead

PACKAGES = ("dockit", "targd", "minid", "castage", "dignore", "dlayer", "rget")


@pytest.fixture(scope="session", autouse=True)
def _runs_ahead(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # byte-compiled once, as pip install leaves them: this machine sets PYTHONDONTWRITEBYTECODE, so each of the ~130
    # console-script runs would compile the modules again
    for name in PACKAGES:
        compileall.compile_dir(Path(str(importlib.import_module(name).__file__)).parent, quiet=1)
    items = request.session.items
    modules = {getattr(item, "module", None) for item in items if item.nodeid.startswith("tests/hostile/")}
    started: list[Ahead[object]] = []
    for module in sorted(filter(None, modules), key=lambda m: m.__name__):
        runs = getattr(module, "RUNS", None)
        if isinstance(runs, Ahead):
            runs.root = tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1])
            runs.start_all(request.session.items, module, module.AHEAD)
            started.append(runs)
    yield
    for runs in started:
        runs.close()
