"""dockit.words: a legacy ENV/LABEL value written as one key=value word that BuildKit reads back as the same value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockit.dockerfile import parse
from dockit.expand import ExpansionError, expand
from dockit.words import blanks_are_quoted, is_plain, legacy_value_word


@pytest.mark.parametrize(
    ("raw", "escape", "word"),
    [
        ("plain", "\\", "plain"),
        ("some value  here", "\\", '"some value  here"'),
        ("$HOME and ${USER:-x}", "\\", '"$HOME and ${USER:-x}"'),
        ("'a b' c", "\\", "'a b'\\ c"),
        ('say "hi there" now', "\\", 'say\\ "hi there"\\ now'),
        ("C:\\dir with space", "`", '"C:\\dir with space"'),
        ("'x y' z", "`", "'x y'` z"),
        ("a\\ b c", "\\", "a\\ b\\ c"),
        ("it's open", "\\", None),  # BuildKit rejects the unterminated quote too
        ("ends with \\", "\\", None),
        ("`", "`", None),  # BuildKit reads `ENV K=`` as a continued line: K would be empty
        ("a\\\\", "\\", None),
    ],
)
def test_legacy_value_word(raw: str, escape: str, word: str | None) -> None:
    assert legacy_value_word(raw, escape) == word


def test_is_plain() -> None:
    assert [w for w in ["a.txt", "dir/", "*.json", "a b", "'q'", '"q"', "$X", "[x]", "a`b", "#c"] if is_plain(w)] == [
        "a.txt",
        "dir/",
        "*.json",
    ]


VALUES = st.text(alphabet=st.sampled_from([*"ab $'\"\\`{}:-=", "\t"]), min_size=1, max_size=14)


@given(raw=VALUES, escape=st.sampled_from(["\\", "`"]))
def test_the_word_is_one_word_with_the_same_value(raw: str, escape: str) -> None:
    """BuildKit's own parser keeps the word whole, and the lexer gives it the value of the legacy form."""
    raw = raw.strip()
    head = "# escape=`\n" if escape == "`" else ""
    try:
        legacy = parse(f"{head}FROM a\nENV K {raw}\n").stages[0].instructions[0]
    except Exception:
        return  # not a legacy value the parser accepts (empty, or it looks like key=value)
    if len(legacy.args) != 2 or legacy.args[0] != "K":
        return
    word = legacy_value_word(legacy.args[1], escape)
    if word is None:
        return
    pair = parse(f"{head}FROM a\nENV K={word}\n").stages[0].instructions[0]
    assert pair.args == ["K", word]
    env = {"a": "<a>", "b": "<b>"}
    try:
        before = expand(legacy.args[1], env, escape)
    except ExpansionError:
        return  # BuildKit refuses the legacy value too
    assert expand(word, env, escape).value == before.value


@pytest.mark.parametrize(
    ("word", "escape", "one"),
    [
        ("plain", "\\", True),
        ('"a b"', "\\", True),
        ("'a b'", "\\", True),
        ("a\\ b", "\\", True),
        ("a` b", "`", True),
        ("a\\ b", "`", False),
        ("a b", "\\", False),
        ("'a b", "\\", False),
        ("'a\\' b", "\\", False),  # no escape inside single quotes: the quote closes, the blank is bare
        ('"a\\" b"', "\\", True),
        ("a\\", "\\", False),
        ("a\\\\", "\\", False),  # an escaped escape still ends the line with one: BuildKit continues it
    ],
)
def test_blanks_are_quoted(word: str, escape: str, one: bool) -> None:
    assert blanks_are_quoted(word, escape) is one


@given(word=VALUES, escape=st.sampled_from(["\\", "`"]))
def test_a_word_with_quoted_blanks_stays_one_word_for_buildkit(word: str, escape: str) -> None:
    word = word.strip()
    if not word or not blanks_are_quoted(word, escape):
        return
    head = "# escape=`\n" if escape == "`" else ""
    label = parse(f"{head}FROM a\nLABEL K={word}\n").stages[0].instructions[0]
    assert label.args == ["K", word]
