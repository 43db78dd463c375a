"""dockit.expand against BuildKit's own lexer tables (tests/shared/lexer/) and the cases of its lex_test.go.

Each table row is read as BuildKit's TestShellParser4EnvVars / TestShellParser4Words read it; the expectations are
BuildKit's, not ours.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dockit.dockerfile import parse
from dockit.errors import DockerfileError
from dockit.expand import (
    MAX_DEPTH,
    Budget,
    ExpansionError,
    ExpansionTooLarge,
    Glob,
    expand,
    referenced_names,
    reverse_pattern,
    split_words,
)

TABLES = Path(__file__).parent / "lexer"


def _env_var_rows() -> list[tuple[int, str, str]]:
    rows = []
    for number, line in enumerate((TABLES / "envVarTest").read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("#") or not line.strip():
            continue
        platform, source, expected = (part.strip() for part in line.strip().split("|"))
        assert platform in ("A", "U", "W"), number
        if platform != "W":
            rows.append((number, source, expected))
    return rows


def _words_rows() -> list[tuple[int, str, list[str], list[str]]]:
    rows = []
    envs: list[str] = []
    for number, line in enumerate((TABLES / "wordsTest").read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("#") or not line:
            continue
        if line.startswith("ENV "):
            envs.append(line[3:].lstrip(" "))
            continue
        test, expected = line.split("|")
        rows.append((number, test.strip(), expected.lstrip(" ").split(","), list(envs)))
    return rows


BUILDKIT_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


@pytest.mark.parametrize(("number", "source", "expected"), _env_var_rows(), ids=lambda v: str(v))
def test_env_var_table(number: int, source: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(ExpansionError):
            expand(source, BUILDKIT_ENV)
    else:
        assert expand(source, BUILDKIT_ENV).value == expected, f"envVarTest line {number}"


def test_the_tables_are_all_there() -> None:
    assert len(_env_var_rows()) > 200 and len(_words_rows()) > 20


@pytest.mark.parametrize(("number", "source", "expected", "envs"), _words_rows(), ids=lambda v: str(v))
def test_words_table(number: int, source: str, expected: list[str], envs: list[str]) -> None:
    env = dict(e.split("=", 1) for e in envs)
    try:
        words = split_words(source, env).words
    except ExpansionError:
        words = ["error"]
    assert words == expected, f"wordsTest line {number}"


def test_mandatory_variables() -> None:
    no_empty, no_unset = "${VAR:?message here$ARG}", "${VAR?message here$ARG}"
    assert expand(no_empty, {"VAR": "plain", "ARG": "x"}).value == "plain"
    for env in ({"VAR": "", "ARG": "x"}, {"ARG": "x"}):
        with pytest.raises(ExpansionError, match="message herex"):
            expand(no_empty, env)
    assert expand(no_unset, {"VAR": "plain", "ARG": "x"}).value == "plain"
    assert expand(no_unset, {"VAR": "", "ARG": "x"}).value == ""
    with pytest.raises(ExpansionError, match="message herex"):
        expand(no_unset, {"ARG": "x"})


# BuildKit's TestProcessWithMatches: input, env, expected value (None: an error), names read that were set, unset.
MATCHES: list[tuple[str, dict[str, str], str | None, set[str], set[str]]] = [
    ("x", {"DUMMY": "dummy"}, "x", set(), set()),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x ", set(), {"UNUSED"}),
    ("x ${FOO}", {"FOO": "y"}, "x y", {"FOO"}, set()),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${FOO:-}", {}, "", set(), {"FOO"}),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb ", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  ", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${BAR?bbb}", {"FOO": "xxx", "BAR": ""}, "", {"BAR"}, set()),
    ("${BAZ?ccc}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO:?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${BAR:?bbb}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${BAZ:?ccc}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${BAZ:?}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=aaa}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=:aaa}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=}", {}, None, set(), set()),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x", {"FOO"}, set()),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx", {"FOO"}, set()),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y", {"FOO"}, set()),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy", {"FOO", "BAR"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy", {"FOO"}, set()),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y", {"FOO"}, set()),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy.", {"FOO"}, {"ABC"}),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a", {"FOO"}, set()),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO:#}", {}, None, set(), set()),
    ("${FOO:##}", {}, None, set(), set()),
    ("${FOO:%}", {}, None, set(), set()),
    ("${FOO:%%}", {}, None, set(), set()),
    (
        "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
        {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
        "/foo.*/*.txt - /foo..*.txt",
        {"FOO", "NEEDLE"},
        set(),
    ),
    (
        "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
        {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
        "/tmp/bar.txt - /bar.txt",
        {"FOO", "NEEDLE"},
        set(),
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
        {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
        "/foo/b/c.txt - /foo/c.txt",
        {"FOO", "NEEDLE", "REPLACEMENT"},
        set(),
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT}",
        {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
        "https://google.de",
        {"FOO", "NEEDLE", "REPLACEMENT"},
        set(),
    ),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt", {"FOO"}, set()),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy", {"FOO", "BAR"}, set()),
    ("${FOO//ww}", {"FOO": "xxyy"}, None, set(), set()),
    ("${FOO//}", {"FOO": "xxyy"}, None, set(), set()),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO///}", {}, "", set(), {"FOO"}),
]


@pytest.mark.parametrize(("word", "env", "expected", "matched", "unmatched"), MATCHES, ids=[m[0] for m in MATCHES])
def test_process_with_matches(
    word: str, env: dict[str, str], expected: str | None, matched: set[str], unmatched: set[str]
) -> None:
    if expected is None:
        with pytest.raises(ExpansionError):
            expand(word, env)
        return
    result = expand(word, env)
    assert result.value == expected
    assert set(result.used) - set(result.unset) == matched
    assert set(result.unset) == unmatched


def test_release_file_names() -> None:
    """BuildKit's TestProcessWithMatchesPlatform: TARGETVARIANT set, empty, or unset."""
    release = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz"
    base = {"VERSION": "v1.2.3", "TARGETOS": "linux"}
    assert expand(release, {**base, "TARGETARCH": "arm", "TARGETVARIANT": "v7"}).value == (
        "something-v1.2.3.linux-arm-v7.tar.gz"
    )
    assert expand(release, {**base, "TARGETARCH": "arm64", "TARGETVARIANT": ""}).value == (
        "something-v1.2.3.linux-arm64.tar.gz"
    )
    assert expand(release, {**base, "TARGETARCH": "arm64"}).value == "something-v1.2.3.linux-arm64.tar.gz"


@pytest.mark.parametrize("pattern", ["\\", "\\x", "\\\\\\"])
def test_invalid_patterns(pattern: str) -> None:
    """BuildKit's TestConvertShellPatternToRegex, the invalid half (the valid half is in the tables above)."""
    with pytest.raises(ExpansionError, match="invalid pattern"):
        Glob(pattern, greedy=True)


@pytest.mark.parametrize(
    ("pattern", "reversed_"),
    [("a\\*c", "c\\*a"), ("\\\\\\ab", "b\\a\\\\"), ("ab\\", "\\ba"), ("👽\\🚀🖖", "🖖\\🚀👽"), ("\\\\b", "b\\\\")],
)
def test_reverse_pattern(pattern: str, reversed_: str) -> None:
    assert reverse_pattern(pattern) == reversed_


@pytest.mark.parametrize(
    ("word", "env", "expected"),
    [
        # the stage choices of BuildKit's and moby's own Dockerfiles (issue 19)
        ("${TARGETPLATFORM#linux/amd64}", {"TARGETPLATFORM": "linux/amd64"}, ""),
        ("${TARGETPLATFORM#linux/amd64}", {"TARGETPLATFORM": "linux/loong64"}, "linux/loong64"),
        # Go's ReplaceAllString: no second replacement for the empty match after a match, $0 is the match
        ("${A//*/x}", {"A": "abc"}, "x"),
        ("${A//b/<\\$0>}", {"A": "abc"}, "a<\\b>c"),
        ("${A//b/$D}", {"A": "abc", "D": "$$"}, "a$c"),
        ("${A//b/[\\${0}]}", {"A": "abc"}, "a[\\${0c]}"),  # the } closes the ${: the template has no ${0}
        ("${A/b/$D}", {"A": "abc", "D": "$$"}, "a$$c"),  # a single replacement is literal
        ("${A//?/}", {"A": "a\nb"}, "\n"),  # neither ? nor * matches a newline
        ("${A%%.*}", {"A": "1.22.3"}, "1"),
        ("${A%.*}", {"A": "1.22.3"}, "1.22"),
        ("${A##*/}", {"A": "ghcr.io/x/y:1"}, "y:1"),
        ("`$A", {"A": "v"}, "$A"),
    ],
)
def test_patterns(word: str, env: dict[str, str], expected: str) -> None:
    escape = "`" if word.startswith("`") else "\\"
    assert expand(word, env, escape).value == expected


def test_names_read() -> None:
    assert referenced_names("$A ${B:-$C} ${D#$E}") == ["A", "C", "B", "E", "D"]
    assert referenced_names("${A:-${B:?}") == ["B"]  # as far as it reads


# --- issue 21: bounded ------------------------------------------------------------------------------------------


def test_doubling_is_refused_before_memory_goes() -> None:
    env = {"A0": "x" * 1000}
    budget = Budget()
    with pytest.raises(ExpansionTooLarge):
        for level in range(1, 40):
            env[f"A{level}"] = expand(f"${{A{level - 1}}}" * 10, env, budget=budget).value


def test_deep_nesting_is_an_error_not_a_recursion_error() -> None:
    start = time.monotonic()
    for word in ("${A:-" * 1000, "${A:-" * 1000 + "}" * 1000, "${A:-" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1)):
        with pytest.raises(ExpansionError):
            expand(word, {})
    assert expand("${A:-" * MAX_DEPTH + "x" + "}" * MAX_DEPTH, {}).value == "x"
    assert time.monotonic() - start < 1


def test_pattern_matching_is_linear() -> None:
    """A pattern that backtracks exponentially in a regex engine costs one pass here."""
    start = time.monotonic()
    value = "a" * 1000
    assert expand("${V#*a*a*a*a*a*a*a*a*b}", {"V": value}).value == value
    assert expand("${V//*a*a*a*a*b/x}", {"V": value}).value == value
    assert time.monotonic() - start < 2
    with pytest.raises(ExpansionTooLarge):
        expand("${V//*a*a*a*a*a*a*a*a*b/x}", {"V": "a" * 200_000}, budget=Budget(1_000_000))


# --- through the Dockerfile model ---------------------------------------------------------------------------------


def test_exponential_args_name_the_arg_and_line() -> None:
    lines = ["ARG A0=" + "x" * 100, *(f"ARG A{i}=" + f"${{A{i - 1}}}" * 10 for i in range(1, 13)), "FROM a:${A12}"]
    with pytest.raises(DockerfileError, match=r"^Dockerfile:\d+: expansion of A\d+ too large") as e:
        parse("\n".join(lines) + "\n")
    assert e.value.line is not None and e.value.line <= 7


def test_unclosed_nesting_is_one_line() -> None:
    with pytest.raises(DockerfileError, match=r"^Dockerfile:1: ARG X: failed to process '\$\{A:-.*nested more"):
        parse("ARG X=" + "${A:-" * 1000 + "\nFROM a\n")
    with pytest.raises(DockerfileError, match=r"^Dockerfile:2: FROM: failed to process .*missing '}'"):
        parse("FROM a\nFROM b${A:-x\n")


@pytest.mark.parametrize(("platform", "chosen"), [("linux/amd64", "supported"), ("linux/arm64", "unsupported")])
def test_a_pattern_chooses_the_stage(platform: str, chosen: str) -> None:
    """BuildKit's own Dockerfile: ``${TARGETPLATFORM#linux/amd64}`` is empty on amd64, which picks ``-supported``."""
    text = (
        "ARG BUILD_AMD64=${TARGETPLATFORM#linux/amd64}\n"
        "FROM scratch AS exit-amd64-supported\n"
        "FROM scratch AS exit-amd64-unsupported\n"
        "FROM exit-amd64-${BUILD_AMD64:+un}supported\n"
    )
    df = parse(text, platform=platform)
    assert df.stages[-1].base == f"exit-amd64-{chosen}"
    assert [s.name for s in df.closure(None)] == [f"exit-amd64-{chosen}", None]


def test_an_unset_base_is_kept_when_asked() -> None:
    text = "ARG BASE\nFROM ${BASE}\nRUN a\n"
    with pytest.raises(DockerfileError, match="empty image name"):
        parse(text)
    assert parse(text, strict_base=False).stages[0].base == ""
    assert parse(text, build_args={"BASE": "alpine"}).stages[0].base == "alpine"
