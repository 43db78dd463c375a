"""Workspace dependencies, per ecosystem: dignore DIR keeps the service, what it depends on (transitively, local
paths only), the root files, and nothing the root .dockerignore drops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dockit.build_context import walk_context
from dockit.ignore import PatternMatcher
from tests.dignore.conftest import Result, write_tree
from tests.dignore.monorepos import ECOSYSTEMS, GO, Monorepo


def sent(root: Path, text: str) -> set[str]:
    return {e.path for e in walk_context(root, PatternMatcher.parse(text)) if e.kind != "dir"}


@pytest.mark.parametrize("repo", ECOSYSTEMS, ids=[r.name for r in ECOSYSTEMS])
def test_each_service_keeps_itself_its_dependencies_and_the_root_files(
    repo: Monorepo, tmp_path: Path, dignore: Callable[..., Result]
) -> None:
    root = write_tree(tmp_path, repo.tree("busybox"))
    for service, files in repo.services.items():
        r = dignore(service, cwd=root)
        assert r.code == 0, r.err
        assert "warning" not in r.err, r.err
        assert sent(root, r.out) == files | repo.root_files, service


def test_no_deps_and_explain(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(tmp_path, GO.tree("busybox"))
    bare = dignore("svc/api", "--no-deps", cwd=root)
    assert sent(root, bare.out) == {"svc/api/Dockerfile", "svc/api/go.mod", "svc/api/main.go", "go.work", "go.work.sum"}
    assert "--no-deps" in bare.out.splitlines()[0]
    r = dignore("svc/api", "--explain", cwd=root)
    assert r.err.splitlines() == [
        "dignore: keeps go.work: root file",
        "dignore: keeps go.work.sum: root file",
        "dignore: keeps svc/api: named DIR",
        "dignore: keeps third_party/x: dependency of svc/api via svc/api/go.mod:7 (replace)",
        "dignore: keeps lib/common: dependency of svc/api via go.work:6 (use, required by svc/api/go.mod:5)",
        "dignore: keeps lib/log/go.mod: dependency of svc/api via go.work:7"
        " (use: go reads every workspace module's go.mod) (inside lib/log)",
        "dignore: keeps svc/worker/go.mod: dependency of svc/api via go.work:5"
        " (use: go reads every workspace module's go.mod)",
        "dignore: keeps lib/log: dependency of lib/common via go.work:7 (use, required by lib/common/go.mod:3)",
    ]


def test_dependencies_outside_the_context_or_missing_are_warned(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(
        tmp_path / "repo",
        {
            "svc/a/package.json": '{"dependencies": {"x": "file:../../../outside", "y": "link:../gone",'
            ' "z": "workspace:*"}}\n',
            "svc/a/Cargo.toml": '[dependencies]\nq = { path = "/elsewhere/q" }\n',
        },
    )
    r = dignore("svc/a", cwd=root)
    assert r.code == 0
    assert r.err.splitlines() == [
        "dignore: warning: svc/a/package.json:1: ../../../outside is outside the build context; not kept",
        "dignore: warning: svc/a/package.json:1: ../gone: no such file or directory; not kept",
        "dignore: warning: svc/a/package.json:1: z: workspace:*: no workspace package of that name",
        "dignore: warning: svc/a/Cargo.toml:2: /elsewhere/q is outside the build context; not kept",
    ]


def test_a_broken_manifest_names_its_file(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(tmp_path, {"svc/a/Cargo.toml": "[dependencies\n"})
    r = dignore("svc/a", cwd=root)
    assert r.code == 1 and r.err.startswith("dignore: svc/a/Cargo.toml: not valid TOML: ")
