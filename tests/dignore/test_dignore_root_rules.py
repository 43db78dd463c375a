"""The root .dockerignore stays in force: what the generated file sends is what the kept paths, the root file and the
service's own rules would all send, for generated trees and rules (and the patterns alone say it when they can)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dignore.generate import Rules, generate
from dignore.kept import Kept
from dockit.build_context import walk_context, walk_context_all
from dockit.ignore import PatternMatcher
from tests.dignore.conftest import Result, write_paths, write_tree

NAMES = ["a", "b", "x.txt", "y.log", "node_modules", "keep"]
TOKENS = [*NAMES, "*", "**", "a*", "*.txt", "**/*.log", "s", "s/t"]

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
rules = st.tuples(st.sampled_from(["", "!", "/"]), st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3)).map(
    lambda t: t[0] + "/".join(t[1])
)

root_side = st.tuples(
    st.sampled_from(["", "!", "s/t/", "!s/t/", "**/", "!**/", "!s/"]),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=2),
).map(lambda t: t[0] + "/".join(t[1]))


def sent(root: Path, matchers: list[PatternMatcher]) -> set[str]:
    return {e.path for e in walk_context_all(root, matchers) if e.kind != "dir"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(["a", "b/x.txt"], ["b"], ["*", "!s", "!s/t/a"], ["keep"], [])  # whitelist: the service's rules still hold
@example(["node_modules/keep", "node_modules/a"], [], ["**/node_modules", "!s/t/node_modules/keep"], [], [])
@example(["a/y.log", "keep"], ["!keep"], ["**/*.log", "keep", "!**/a"], ["y.log"], ["**/b"])
@given(
    files=st.lists(paths, min_size=1, max_size=10),
    own=st.lists(rules, max_size=4),
    root_rules=st.lists(root_side, max_size=5),
    root_files=st.lists(st.sampled_from(["x.txt", "y.log", "keep", "go.work"]), max_size=3),
    excludes=st.lists(st.sampled_from(["**/b", "s/t/a", "*.txt"]), max_size=2),
)
def test_generated_file_sends_what_every_set_of_rules_sends(
    files: list[str], own: list[str], root_rules: list[str], root_files: list[str], excludes: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write_paths(root / "s/t", files)
        write_paths(root, ["other/keep", "s/sibling", "s/t2/a", *root_files])
        (root / "s/t/.dockerignore").write_text("\n".join(own) + "\n")
        (root / ".dockerignore").write_text("\n".join(root_rules) + "\n")
        root_m = PatternMatcher.parse("\n".join(root_rules) + "\n")
        out = generate(root, [Kept("s/t", True)], rules=Rules(root_m, tuple(excludes)))
        got = sent(root, [PatternMatcher.parse(out.text)])
        alone = {
            f"s/t/{e.path}"
            for e in walk_context(root / "s/t", PatternMatcher.parse("\n".join(own) + "\n"))
            if e.kind != "dir"
        }
        rooted = sent(root, [root_m, PatternMatcher(excludes)])
        top = {f for f in root_files if "/" not in f}
        assert got == (alone | top) & rooted, out.text
        # exceptions on one side only: the patterns say it all, no path is named one by one
        if not any(r.startswith("!") for r in root_rules) or not any(r.startswith("!") for r in own):
            assert out.listed == 0, out.text


ROOT_RULES = ".git\n**/node_modules\n*.log\n.env\n"


def test_the_issue_report_the_context_never_grows(monorepo: Path, dignore: Callable[..., Result]) -> None:
    write_tree(monorepo, {".dockerignore": ROOT_RULES, ".env": "SECRET=1\n", "app.log": "l\n"})
    write_tree(monorepo, {"lib/common/node_modules/x/index.js": "x\n"})
    r = dignore("lib/common", "--stats", cwd=monorepo)
    assert r.code == 0, r.err
    assert "more" not in r.err and "warning" not in r.err
    body = r.out.splitlines()[1:]
    assert "!.env" not in body and "!app.log" not in body
    assert body[body.index("!lib/common") + 1 :] == ["**/node_modules"]  # the others cannot reach lib/common
    sent_paths = {e.path for e in walk_context(monorepo, PatternMatcher.parse(r.out)) if e.kind != "dir"}
    assert "lib/common/node_modules/x/index.js" not in sent_paths and "lib/common/util.py" in sent_paths


def test_dot_keeps_the_root_rules(monorepo: Path, dignore: Callable[..., Result]) -> None:
    write_tree(monorepo, {".dockerignore": ROOT_RULES})
    r = dignore(".", "--exclude", "docs", cwd=monorepo)
    assert r.out.splitlines()[1:] == [".git", "**/node_modules", "*.log", ".env", "docs"]


def test_whitelisting_root_file(monorepo: Path, dignore: Callable[..., Result]) -> None:
    # "*" then exceptions: the service comes back through the root's "!svc", its own rules must still hold
    write_tree(monorepo, {".dockerignore": "*\n!svc\n!go.work\n**/*.tmp\n!**/important.tmp\n"})
    r = dignore("svc/api", "lib/common", cwd=monorepo)
    assert r.code == 0, r.err
    assert "dignore: warning: lib/common: the root .dockerignore leaves it out" in r.err
    sent_paths = {e.path for e in walk_context(monorepo, PatternMatcher.parse(r.out)) if e.kind != "dir"}
    assert sent_paths == {
        "go.work",
        "svc/api/.dockerignore",
        "svc/api/main.py",
        "svc/api/node_modules/keep.js",
        "svc/api/sub/dist/kept.txt",
        "svc/api/sub/important.tmp",
    }


def test_drop_root_rules_and_excludes(monorepo: Path, dignore: Callable[..., Result]) -> None:
    write_tree(monorepo, {".dockerignore": ROOT_RULES, "app.log": "l\n"})
    r = dignore("lib/common", "--drop-root-rules", "--exclude", "**/deep", "--exclude", "*.lock", cwd=monorepo)
    body = r.out.splitlines()
    assert body[0].endswith("dignore --drop-root-rules --exclude '**/deep' --exclude '*.lock' lib/common")
    assert "!app.log" in body and body[-2:] == ["**/deep", "*.lock"] and ".git" not in body
    bad = dignore("lib/common", "--exclude", "!keep", cwd=monorepo)
    assert bad.code == 2 and "--exclude '!keep': takes paths to leave out" in bad.err


def test_duplicated_exceptions_go(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    # the root's "!svc/api" and the kept DIR are one line; a service rule repeated is one line too
    write_tree(tmp_path, {".dockerignore": "svc\n!svc/api\n", "svc/api/.dockerignore": "x\nx\n", "svc/api/a": ""})
    body = dignore("svc/api", cwd=tmp_path).out.splitlines()[1:]
    assert body == ["*", "svc", "!svc/api", "svc/api/x"]
