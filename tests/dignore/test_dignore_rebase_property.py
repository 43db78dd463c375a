"""Carried-over rules keep their meaning: for generated trees and service .dockerignore files, what docker sends
from the service with dignore's output equals what it sends when the service directory is itself the context."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dignore.generate import generate
from dignore.kept import Kept
from dockit.build_context import walk_context
from dockit.ignore import PatternMatcher
from tests.dignore.conftest import write_paths

NAMES = ["a", "b", "ab", "x.txt", "y.log", "node_modules"]
TOKENS = [*NAMES, "*", "?", "**", "a*", "*.txt", "**b", "**.log", "x?txt"]

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join)
rules = st.tuples(
    st.sampled_from(["", "!", "/", "!/", "./"]),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3).map("/".join),
    st.sampled_from(["", "/"]),
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(paths, min_size=1, max_size=12),
    own=st.lists(rules, max_size=6),
    where=st.sampled_from(["s", "s/t", "s/q^r.x"]),
)
def test_rebased_rules_keep_their_meaning(files: list[str], own: list[str], where: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        service = root / where
        write_paths(service, files)
        write_paths(root, ["other/file", "s/sibling"])
        ignore = "\n".join(own) + "\n"
        (service / ".dockerignore").write_text(ignore)
        alone = {f"{where}/{e.path}" for e in walk_context(service, PatternMatcher.parse(ignore)) if e.kind != "dir"}
        text = generate(root, [Kept(where, True)], keep_root_files=False).text
        kept = {e.path for e in walk_context(root, PatternMatcher.parse(text)) if e.kind != "dir"}
    assert kept == alone, text
