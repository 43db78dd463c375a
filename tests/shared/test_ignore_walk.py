"""dockit.build_context: the entries docker sends, on made-up trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockit.build_context import ContextSize, read_dockerignore, walk_context
from dockit.errors import DockitError
from dockit.ignore import PatternMatcher


def make_tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/"):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(content)


def sent(root: Path, patterns: list[str]) -> list[str]:
    return [e.path for e in walk_context(root, PatternMatcher(patterns)) if e.kind != "dir"]


def test_no_ignore_file_sends_everything_with_sizes(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a/b.txt": "hello", "c": "", "empty/": ""})
    entries = list(walk_context(tmp_path))
    assert [(e.path, e.kind, e.size) for e in entries] == [
        ("a", "dir", 0),
        ("a/b.txt", "file", 5),
        ("c", "file", 0),
        ("empty", "dir", 0),
    ]
    assert ContextSize.of(entries) == ContextSize(files=2, bytes=5)


def test_exception_inside_excluded_directory(tmp_path: Path) -> None:
    make_tree(tmp_path, {"docs/README.md": "r", "docs/other.md": "o", "docs/img/x.png": "x", "main.go": "m"})
    assert sent(tmp_path, ["docs", "!docs/README.md"]) == ["docs/README.md", "main.go"]


def test_directory_exception_reincludes_its_subtree(tmp_path: Path) -> None:
    make_tree(tmp_path, {"svc/api/a.py": "", "svc/api/sub/b.py": "", "svc/web/c.js": "", "go.work": ""})
    assert sent(tmp_path, ["*", "!svc/api"]) == ["svc/api/a.py", "svc/api/sub/b.py"]


def test_wildcard_exception_does_not_open_an_excluded_directory(tmp_path: Path) -> None:
    # docker skips an excluded directory unless an exception starts with its path: "!**/keep" re-includes nothing
    # below "vendor", although the pattern by itself matches vendor/keep.
    make_tree(tmp_path, {"vendor/keep": "", "keep": "", "x": ""})
    m = PatternMatcher(["vendor", "x", "!**/keep"])
    assert not m.matches("vendor/keep")
    assert sent(tmp_path, ["vendor", "x", "!**/keep"]) == ["keep"]


def test_double_star_at_any_depth(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"node_modules/a.js": "", "web/node_modules/b.js": "", "web/src/c.js": "", "web/x.tmp": "", "y.tmp": ""},
    )
    assert sent(tmp_path, ["**/node_modules", "**/*.tmp"]) == ["web/src/c.js"]


def test_symlinks_are_sent_as_links_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"real/f": "data", "outside/secret": "s"})
    os.symlink("real", tmp_path / "link")
    os.symlink("../outside", tmp_path / "real" / "up")
    entries = {e.path: e.kind for e in walk_context(tmp_path, PatternMatcher(["outside"]))}
    assert entries == {"link": "symlink", "real": "dir", "real/f": "file", "real/up": "symlink"}


def test_directory_named_like_a_pattern(tmp_path: Path) -> None:
    make_tree(tmp_path, {"*/x": "", "a/x": "", "[b]/y": ""})
    assert sent(tmp_path, ["\\*"]) == ["[b]/y", "a/x"]
    assert sent(tmp_path, ["*/x"]) == ["[b]/y"]


def test_root_symlink_is_resolved(tmp_path: Path) -> None:
    make_tree(tmp_path, {"ctx/f": ""})
    os.symlink("ctx", tmp_path / "alias")
    assert [e.path for e in walk_context(tmp_path / "alias")] == ["f"]


def test_missing_context_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DockitError, match="missing: not a directory"):
        list(walk_context(tmp_path / "missing"))


def test_read_dockerignore(tmp_path: Path) -> None:
    assert read_dockerignore(tmp_path).patterns == ()
    (tmp_path / ".dockerignore").write_text("*.log\n[\n")
    with pytest.raises(DockitError, match=r"\.dockerignore:2: "):
        read_dockerignore(tmp_path)
