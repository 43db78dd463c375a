"""dockit.ignore.Pattern.within: a root rule confined to one directory decides the same inside it, nothing outside."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dockit.ignore import Pattern, PatternMatcher

NAMES = ["a", "b", "ab", "x.txt", "node_modules", "q^r", "s*t"]
TOKENS = ["a", "b", "ab", "x.txt", "node_modules", "*", "?", "**", "a*", "*.txt", "[ab]", "q^r", "s\\*t"]

names = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
patterns = st.tuples(
    st.sampled_from(["", "!"]), st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4).map("/".join)
).map("".join)


@settings(max_examples=400, deadline=None)
@given(pattern=patterns, directory=names, below=st.lists(names, min_size=1, max_size=6), outside=names)
def test_within_decides_the_same_inside_and_nothing_outside(
    pattern: str, directory: str, below: list[str], outside: str
) -> None:
    original = Pattern.compile(pattern)
    confined = original.within(directory)
    if confined is None:
        return  # not expressible by component steps; dignore falls back to checking the tree
    original_m, confined_m = PatternMatcher([pattern]), PatternMatcher(confined)
    assert all(p.exclusion == original.exclusion for p in confined_m.patterns)
    for rel in below:
        path = f"{directory}/{rel}"
        assert confined_m.matches(path) == original_m.matches(path), (confined, path)
    if not (outside + "/").startswith(directory + "/"):
        assert not confined_m.matches(outside), (confined, outside)


def test_within_examples() -> None:
    cases = {
        ("**/node_modules", "svc/api"): ["svc/api/**/node_modules"],
        ("!**/node_modules/keep.js", "svc/api"): ["!svc/api/**/node_modules/keep.js"],
        ("svc/*/dist", "svc/api"): ["svc/api/dist"],
        ("*/api", "svc/api"): ["svc/api"],
        ("!svc", "svc/api"): ["!svc/api"],
        ("*.log", "svc/api"): [],
        ("svc/**/*.tmp", "svc/a^b"): ["svc/a\\^b/**/*.tmp"],
        ("**.log", "svc"): None,
    }
    assert {k: Pattern.compile(k[0]).within(k[1]) for k in cases} == cases
