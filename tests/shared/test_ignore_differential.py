"""dockit.build_context against docker-py's ``exclude_paths`` on generated trees and rule sets.

docker-py is the reference, with its known differences kept out of the generated cases:
- it lower-cases names and patterns: names are lower-case;
- it re-includes Dockerfile and .dockerignore: we append the same two exceptions;
- its ``[!...]`` means negation, unlike Go: no character classes (nor backslashes, which it does not read);
- its parent check looks only at the parent as deep as the pattern has components (moby's deprecated ``Matches``),
  which differs from moby for patterns with a leading or inner ``**`` once an exception opens an excluded directory:
  rule sets with exceptions use ``**`` only as the last component;
- it opens an excluded directory when an exception starts with the directory's name without the ``/`` (moby needs
  ``dir/``): names are never prefixes of one another, and exceptions do not start with a name followed by ``*``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from docker.utils.build import exclude_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockit.build_context import walk_context
from dockit.ignore import PatternMatcher

NAMES = ["a", "b", "c", "dd", "x.txt", "y.log"]
COMPONENTS = [*NAMES, "*", "?", "a*", "*.txt", "**", "*b", "?.*"]

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join)
trees = st.lists(st.tuples(paths, st.booleans()), min_size=1, max_size=14)
raw_patterns = st.tuples(
    st.booleans(),  # exception
    st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3),
    st.sampled_from(["", "/", "./"]),  # prefix
    st.sampled_from(["", "/"]),  # suffix
)


def _pattern(exception: bool, comps: list[str], prefix: str, suffix: str, any_exception: bool) -> str:
    if any_exception:
        comps = [c for c in comps[:-1] if c != "**"] + comps[-1:] or ["*"]
    if exception and comps[0] == "a*":
        comps = ["*", *comps[1:]]
    return ("!" if exception else "") + prefix + "/".join(comps) + suffix


def build(root: Path, tree: list[tuple[str, bool]]) -> None:
    for rel, is_dir in tree:
        target = root / rel
        if any((root / p).is_file() for p in [*Path(rel).parents][:-1]) or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            target.mkdir()
        else:
            target.write_text(rel)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, raw=st.lists(raw_patterns, min_size=1, max_size=6))
def test_files_left_match_docker_py(tree: list[tuple[str, bool]], raw: list[tuple[bool, list[str], str, str]]) -> None:
    any_exception = any(r[0] for r in raw)
    patterns = [_pattern(*r, any_exception=any_exception) for r in raw]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        build(root, tree)
        reference = {p for p in exclude_paths(str(root), list(patterns)) if not (root / p).is_dir()}
        matcher = PatternMatcher.parse("\n".join([*patterns, "!Dockerfile", "!.dockerignore"]))
        ours = {e.path for e in walk_context(root, matcher) if e.kind != "dir"}
    assert ours == reference, patterns
