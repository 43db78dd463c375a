"""A made-up monorepo, and dignore run in-process through its console-script entry point."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dignore.cli import main

MONOREPO = {
    "go.work": "go 1.22\n",
    "package.json": "{}\n",
    "pnpm-lock.yaml": "lockfileVersion: 9\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "docs/index.md": "# docs\n",
    "svc/Makefile": "all:\n",
    "svc/api/main.py": "print('api')\n",
    "svc/api/dist/bundle.js": "x" * 100,
    "svc/api/node_modules/left-pad/index.js": "module.exports = 1\n",
    "svc/api/node_modules/keep.js": "keep\n",
    "svc/api/sub/dist/kept.txt": "kept: only the root's dist is excluded\n",
    "svc/api/sub/trace.tmp": "t\n",
    "svc/api/sub/important.tmp": "i\n",
    "svc/api/debug.log": "d\n",
    "svc/api/.dockerignore": "\ufeff# the service's own rules\n\nnode_modules\n!node_modules/keep.js\n/dist\n**/*.tmp\n"
    "!**/important.tmp\n*.log\n",
    "svc/web/index.js": "web\n",
    "svc/web/.dockerignore": "*\n",
    "lib/common/util.py": "u = 1\n",
    "lib/common/deep/er/x.py": "x = 1\n",
    "lib/other/o.py": "o = 1\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def write_paths(root: Path, files: list[str]) -> None:
    """Files named by generated paths, each holding its own path; a path below a file, or a directory, is skipped."""
    for rel in files:
        target = root / rel
        if any(p.is_file() for p in [target, *target.parents]) or target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rel)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", MONOREPO)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def dignore(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``dignore ARGS`` from directory ``cwd`` (the console script's code path, in-process)."""

    def call(*args: str, cwd: Path | None = None) -> Result:
        old = os.getcwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            with pytest.raises(SystemExit) as e:
                main(list(args))
        finally:
            os.chdir(old)
        captured = capsys.readouterr()
        return Result(int(e.value.code or 0), captured.out, captured.err)

    return call
