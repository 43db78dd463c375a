"""dockit.ignore: reading and matching, on the behaviour tables of moby/patternmatcher and Go's filepath.Match."""

from __future__ import annotations

import pytest

from dockit.errors import DockitError
from dockit.ignore import IgnoreLine, Pattern, PatternMatcher, go_clean, read_ignorefile

# (pattern, path, matches the path itself, matches the path or a parent): moby/patternmatcher's TestMatches table.
MOBY_TABLE = [
    ("**", "file", True, True),
    ("**/", "file", True, True),
    ("**", "dir/file", True, True),
    ("**/**", "dir/file", True, True),
    ("dir/**", "dir/file", True, True),
    ("dir/**", "dir/dir2/file", True, True),
    ("**/dir", "dir", True, True),
    ("**/dir", "dir/file", False, True),
    ("**/dir2/*", "dir/dir2/file", True, True),
    ("**/dir2/**", "dir/dir2/dir3/file", True, True),
    ("**file", "file", True, True),
    ("**file", "dir/file", True, True),
    ("**/file", "dir/dir/file", True, True),
    ("**/file*", "dir/dir/file.txt", True, True),
    ("**/file*txt", "dir/dir/file.txt", True, True),
    ("**/file*.txt*", "dir/dir/file.txt", True, True),
    ("**/**/*.txt", "dir/dir/file.txt", True, True),
    ("**/**/*.txt2", "dir/dir/file.txt", False, False),
    ("**/*.txt", "file.txt", True, True),
    ("**/**/*.txt", "file.txt", True, True),
    ("a**/*.txt", "a/dir/dir/file.txt", True, True),
    ("a/*.txt", "a/dir/file.txt", False, False),
    ("a/*.txt", "a/file.txt", True, True),
    ("a/*.txt**", "a/file.txt", True, True),
    ("a[b-d]e", "ace", True, True),
    ("a[b-d]e", "aae", False, False),
    ("a[^b-d]e", "aze", True, True),
    (".*", ".foo", True, True),
    (".*", "foo", False, False),
    ("abc.def", "abcdef", False, False),
    ("abc.def", "abc.def", True, True),
    ("abc?def", "abcZdef", True, True),
    ("abc?def", "abcdef", False, False),
    ("**/foo/bar", "dir/dir2/foo/bar", True, True),
    ("abc/**", "abc", False, False),
    ("abc/**", "abc/def/ghi", True, True),
    ("**/.foo", ".foo", True, True),
    ("**/.foo", "bar.foo", False, False),
    ("a(b)c/def", "a(b)c/def", True, True),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True, True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True, True),
    ("a\\\\", "a\\", True, True),
    ("a\\*b", "a*b", True, True),
    ("a\\*b", "ab", False, False),
    # Go's filepath.Match table, as moby's TestMatch runs it
    ("a*", "ab/c", False, True),
    ("a*/b", "a/c/b", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False),
    ("ab[^c]", "abc", False, False),
    ("a?b", "a\u263ab", True, True),
    ("a???b", "a\u263ab", False, False),
    ("[a-\u03b6]*", "\u03b1", True, True),
    ("a?b", "a/b", False, False),
    ("[\\]a]", "]", True, True),
    ("[x\\-]", "-", True, True),
    ("[\\-x]", "a", False, False),
    # what a newline in a name does: Go's $ is the end of the text, and ? matches any character but /
    ("*o", "foo\n", False, False),
    ("fo?", "fo\n", True, True),
]


@pytest.mark.parametrize(("pattern", "path", "exact", "with_parents"), MOBY_TABLE)
def test_moby_match_table(pattern: str, path: str, exact: bool, with_parents: bool) -> None:
    assert Pattern.compile(pattern).match(path) is exact
    assert PatternMatcher([pattern]).matches(path) is with_parents


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["**", "!util/docker/web"], "util/docker/web/foo", False),
        (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
        (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
        (["!fileutils.go", "*.go"], "fileutils.go", True),
        (["*.go", "!fileutils.go"], "fileutils.go", False),
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs/", "!docs/README.md"], "docs/README.md", False),
        (["docs/*", "!docs/README.md"], "docs/other.md", True),
        (["*.go"], ".", False),
        ([], "any/path/there", False),
    ],
)
def test_last_match_wins(patterns: list[str], path: str, excluded: bool) -> None:
    assert PatternMatcher(patterns).matches(path) is excluded


@pytest.mark.parametrize(
    "bad",
    ["[", "[^", "[^bc", "a[", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "!"],
)
def test_malformed_patterns_are_errors_naming_file_and_line(bad: str) -> None:
    with pytest.raises(DockitError) as e:
        PatternMatcher.parse(f"ok\n# comment\n{bad}\n", "svc/.dockerignore")
    assert str(e.value).startswith("svc/.dockerignore:3: ")


def test_reader_follows_moby_ignorefile() -> None:
    # moby/patternmatcher/ignorefile's TestReadAll content, plus a BOM, CRLF and a # that is not in column 1
    data = b"\xef\xbb\xbftest1\r\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n  #x\n"
    assert read_ignorefile(data) == [
        IgnoreLine("test1", 1),
        IgnoreLine("test2", 2),
        IgnoreLine("a/file/here", 3),
        IgnoreLine("lastfile", 5),
        IgnoreLine("!inverted/abs/path", 7),
        IgnoreLine("#x", 8),
    ]


def test_reader_cleans_like_go() -> None:
    lines = read_ignorefile("./a/../b//c/\n//x\n!  ./y/.\n/\n..\n\x1cz\n")
    assert [p.text for p in lines] == ["b/c", "x", "!y", "/", "..", "\x1cz"]


def test_bom_only_dropped_on_first_line() -> None:
    assert [p.text for p in read_ignorefile(b"a\n\xef\xbb\xbfb\n")] == ["a", "\ufeffb"]


def test_non_utf8_names_round_trip() -> None:
    m = PatternMatcher.parse(b"caf\xe9*\n")
    assert m.matches(b"caf\xe9.txt".decode("utf-8", "surrogateescape"))


def test_overlong_line_is_an_error() -> None:
    with pytest.raises(DockitError, match=r"^\.dockerignore:2: line too long"):
        read_ignorefile(b"a\n" + b"x" * 70000 + b"\n")


@pytest.mark.parametrize(
    ("path", "clean"),
    [("", "."), ("a/./b/", "a/b"), ("/../x", "/x"), ("../../x", "../../x"), ("a/../..", ".."), ("//x//", "/x")],
)
def test_go_clean(path: str, clean: str) -> None:
    assert go_clean(path) == clean


def test_pattern_dot_and_root_match_nothing() -> None:
    m = PatternMatcher.parse(".\n/\n")
    assert not any(m.matches(p) for p in ("a", "a/b", ".dockerignore"))


def test_docstring_examples_hold() -> None:
    import doctest

    import dockit.build_context
    import dockit.ignore

    for module in (dockit.ignore, dockit.build_context):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
