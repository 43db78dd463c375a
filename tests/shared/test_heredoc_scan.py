"""dockit's line scan (run before BuildKit's parser, to bound its work) finds the same instructions and heredoc bodies
as the parser itself (the ``dockerfile`` package: BuildKit v0.12.5's parser), on inputs crafted where a lenient
scan went wrong and on generated ones.

The crafted cases each end with ``RUN end``: where the scan ends a heredoc body too early or too late, the
instruction lines it reports differ from the parser's.
"""

from __future__ import annotations

import dockerfile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockit import dockerfile as model
from dockit.errors import DockerfileError
from dockit.heredocs import opened

CRAFTED = {
    # a quoted name ends only at the bare name: the old scan also ended at the quoted line
    "double-quoted-name": 'RUN <<"EOF" cat\n"EOF"\nEOF\n',
    "single-quoted-name-with-blanks": "RUN <<'E O F' cat\nE\nE O F\n",
    "partly-quoted-name": "RUN <<E'O'F cat\nE'O'F\nEOF\n",
    "escaped-name": "RUN <<E\\OF cat\nE\\OF\nEOF\n",
    # leading tabs are cut only with <<-
    "tab-before-name-without-chomp": "RUN <<EOF cat\n\tEOF\nEOF\n",
    "tab-before-name-with-chomp": "RUN <<-EOF cat\n\t\tEOF\n",
    # words that are no heredoc at all
    "marker-inside-double-quotes": 'RUN echo "a <<EOF"\nEOF\n',
    "marker-inside-single-quotes": "RUN echo 'a <<EOF' b\nEOF\n",
    "marker-in-json-form": 'RUN ["sh", "-c", "cat <<EOF"]\nEOF\n',
    "json-form-then-more": 'RUN ["cat"] <<EOF\nEOF\n',
    "two-markers-in-one-word": "RUN cat <<EOF<<X\nEOF\nX\n",
    "marker-glued-to-a-word": "RUN cat<<EOF\nEOF\n",
    "continued-onto-the-marker": "RUN cat\\\n<<EOF\nEOF\n",
    "unclosed-quote-on-the-line": "RUN cat <<EOF 'open\nEOF\n",
    "marker-in-a-flag": "RUN --mount=type=bind,target=<<EOF cat\nEOF\n",
    "escaped-marker": "RUN cat \\<<EOF\nEOF\n",
    # agreements worth keeping
    "redirect-glued-to-the-name": "RUN cat <<EOF>out\nEOF\nEOF>out\n",
    "two-heredocs": "COPY <<A <<-B /x\nA\n\tB\n",
    "fd-digits": "RUN 3<<EOF cat\nEOF\n",
    "onbuild": "ONBUILD RUN <<EOF\nx\nEOF\n",
    "variable-name": "RUN <<$X cat\nEOF\n$X\n",
    "expansion-splits-a-word": "RUN ${X:-a <<EOF} cat\nEOF\nEOF}\n",
    "continuation-before-the-marker": "RUN cat \\\n  <<EOF\nEOF\n",
    "crlf": "RUN <<EOF cat\r\nbody\r\nEOF\r\n",
    "trailing-blank-on-the-name": "RUN <<EOF cat\nEOF \nEOF\n",
    "not-a-heredoc-instruction": "ENV A=<<EOF\nEOF\n",
    "escaped-escape-ends-no-line": "RUN echo a\\\\\nRUN b\n",
    "empty-quoted-name": "RUN <<'' cat\nRUN y\n\n",  # no heredoc: '' is no word
    "quotes-beside-a-name": "RUN <<a'' cat\nRUN y\na\n",
    # an empty name is no word to Go's lexer (len(word) > 0), so <<'' and <<"" open nothing
    "empty-double-quoted-name": 'RUN cat <<""\nRUN x\n',
    "empty-quoted-name-with-chomp": "RUN cat <<-''\nRUN x\n",
    # Go's text/scanner drops one U+FEFF at the start of each string it lexes: the name's, not a second one
    "bom-before-the-name": "RUN cat <<\ufeffEOF\nx\nEOF\n",
    "bom-before-a-chomped-name": "RUN cat <<-\ufeffEOF\nx\n\tEOF\n",
    "second-bom-before-the-name": "RUN cat <<\ufeff\ufeffEOF\nx\nEOF\n\ufeffEOF\n",
    "bom-is-the-whole-name": "RUN cat <<\ufeff\nx\n",
    "bom-inside-quotes-is-kept": 'RUN cat <<"\ufeffEOF"\nx\nEOF\n\ufeffEOF\n',
    # Go's decoder fails on a number beyond float64 (or nested past 10,000): the shell form, which has heredocs
    "json-float-overflow": "RUN [1e999] <<EOF\nx\nEOF\n",
    "json-float-overflow-in-copy": "COPY [1e400] <<EOF /x\nx\nEOF\n",
    "json-integer-overflow": 'RUN ["a", ' + "9" * 400 + "] <<EOF\nx\nEOF\n",
    "json-overflow-nested": 'RUN ["a", {"b": [-1.8e308]}] <<EOF\nx\nEOF\n',
    "json-nested-past-the-limit": "RUN " + "[" * 10001 + "]" * 10001 + " <<EOF\nx\nEOF\n",
    "json-unclosed-and-deep": "RUN " + "[" * 3000 + " <<EOF\nx\nEOF\n",
    "json-deep-with-an-unclosed-long-string": "RUN " + "[" * 1001 + '"' + "a" * 20_000 + " <<EOF\nx\nEOF\n",
    # past Python's recursion limit, the elements after the first are checked a run at a time: each run as Go would
    "json-deep-with-many-elements": "RUN " + "[" * 1001 + "1, " * 3000 + "1 <<EOF\nx\nEOF\n",
    "json-deep-float-overflow-in-a-run": "RUN " + "[" * 1001 + "1, " * 300 + "1e999" + "]" * 1001 + " <<EOF\nx\nEOF\n",
    "json-deep-integer-overflow-in-a-run": "RUN " + "[" * 1001 + '"a", ' * 300 + "9" * 400 + "]" * 1001 + " <<EOF\nx\n"
    "EOF\n",
    "json-deep-escapes-and-literals-in-a-run": "RUN "
    + "[" * 1001
    + '1, "a\\"b\\u00e9", true, null, -0.5e3, '
    + "01]"
    + " <<EOF\nx\nEOF\n",
    # the lexer takes plain words ended by blanks many at a time
    "plain-words-then-quotes-and-a-marker": "RUN " + "a b  c\t" * 500 + "d'e' f\"g\" h$X i\\ j <<EOF\nx\nEOF\n",
    "json-nan": "RUN [NaN] <<EOF\nx\nEOF\n",
    "json-infinity": 'ADD ["a", -Infinity] <<EOF /x\nx\nEOF\n',
    "json-raw-tab-in-a-string": 'RUN ["a\tb"] <<EOF\nx\nEOF\n',
    # Go lowers the keyword a code point at a time (U+0130 is "i"; Python's "i\u0307" is no ONBUILD)
    "dotted-capital-i-in-onbuild": "ONBU\u0130LD RUN <<EOF\nx\nEOF\n",
    # U+001C..U+001F are no space to Go: a line of one is no empty continuation line, nor blank before a keyword
    "file-separator-continuation-line": "RUN cat \\\n\x1c\n<<EOF\nx\nEOF\n",
    "unit-separator-before-the-keyword": "\x1fRUN <<EOF\nx\nEOF\n",
}


def parser_starts(text: str) -> list[int] | None:
    """The first line of each instruction as the parser reads them; None when it refuses the text."""
    try:
        return [c.start_line for c in dockerfile.parse_string(text)]
    except dockerfile.GoParseError:
        return None


def scan_starts(text: str) -> list[int]:
    lines = text.split("\n")
    directives, n = model._read_directives(lines, "Dockerfile")
    escape = next((d.value for d in directives if d.name == "escape"), "\\")
    return model._instruction_starts(lines, n, escape, "Dockerfile")


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_scan_reads_heredocs_as_the_parser_does(name: str) -> None:
    text = "FROM a\n" + CRAFTED[name] + "RUN end\n"
    expected = parser_starts(text)
    assert expected is not None
    assert scan_starts(text) == expected


def test_a_body_the_lenient_scan_ended_early_is_bounded_by_the_limit() -> None:
    # '"EOF"' does not end a <<"EOF" body: 1,000 lines later it is still the same instruction, over the limit
    text = 'FROM a\nRUN <<"EOF" cat\n"EOF"\n' + "# x\n" * 1000 + "EOF\n"
    with pytest.raises(DockerfileError, match=r":2: heredoc 'EOF' not terminated within 1,000 lines"):
        model.parse(text)


def test_a_word_that_is_no_heredoc_is_no_false_limit_error() -> None:
    text = "FROM a\nRUN cat <<EOF<<X\n" + "RUN x\n" * 1500
    assert len(list(model.parse(text).instructions())) == 1502


def test_an_empty_name_is_no_false_limit_error() -> None:
    text = "FROM a\nRUN cat <<''\n" + "RUN x\n" * 1500
    assert len(list(model.parse(text).instructions())) == 1502


@pytest.mark.parametrize("elements", ["", '1, "a\\"", true, -2e3, ' * 1000 + "null"])
def test_json_nested_as_deep_as_go_allows_is_the_parser_error_not_a_recursion_error(elements: str) -> None:
    text = "FROM a\nRUN " + "[" * 10000 + elements + "]" * 10000 + " <<EOF\nx\nEOF\n"
    assert parser_starts(text) is None  # decoded: an array of arrays, refused by the parser
    with pytest.raises(DockerfileError, match="arrays must be comprised of strings only"):
        model.parse(text)


def test_quoting_and_chomp_of_each_heredoc() -> None:
    df = model.parse('FROM a\nRUN <<-"E O F" 3<<X cat\n\tE O F\n$A\nX\n')
    assert [(h.name, h.chomp, h.expand) for h in list(df.instructions())[1].heredocs] == [
        ("E O F", True, False),
        ("X", False, True),
    ]
    assert [(m.name, m.chomp, m.expand) for m in opened("RUN <<E'O'F <<\"X\" <<Y")] == [
        ("EOF", False, False),
        ("X", False, False),
        ("Y", False, True),
    ]


_PIECES = ["<<EOF", "<<-EOF", '<<"EOF"', "<<'E F'", "<<E\\OF", "3<<X", "<<EOF<<X", "cat<<EOF", '"<<EOF"', "'a <<X'"]
_PIECES += [
    "${V:-a <<EOF}",
    "<<''",
    "<<E''",
    "$X",
    "'",
    '"',
    "\\",
    "[",
    '["a"]',
    "--mount=x",
    "cat",
    ">out",
    "<<",
    "<<-",
    "#",
]
_BODY = ["EOF", "\tEOF", '"EOF"', "E F", "X", "EOF<<X", "EOF}", "RUN x", "", "# c", "\\", "EOF\r", "  EOF", "$X"]
_PIECES += ['<<""', "<<\ufeffEOF", "[1e999]", '["a", 1e400]', "[NaN]", "[1]", "\x1c", "\x1f<<EOF"]
_BODY += ["\x1c", "\ufeffEOF", "\x1cEOF"]


@st.composite
def heredoc_dockerfile(draw: st.DrawFn) -> str:
    lines = ["FROM a"]
    for _ in range(draw(st.integers(1, 4))):
        keyword = draw(
            st.sampled_from(["RUN", "COPY", "ADD", "ONBUILD RUN", "ONBU\u0130LD RUN", "ENV", "run", "\x1cRUN"])
        )
        words = draw(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4))
        glue = draw(st.sampled_from([" ", " ", " \\\n", "\\\n"]))
        lines.append(keyword + " " + glue.join(words))
        lines += draw(st.lists(st.sampled_from(_BODY), max_size=5))
    return "\n".join(lines) + "\nRUN end\n"


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(heredoc_dockerfile())
def test_scan_agrees_with_the_parser_on_generated_heredocs(text: str) -> None:
    expected = parser_starts(text)
    if expected is None:
        return  # the parser refuses it (an unterminated heredoc, a bad substitution): dockit reports that error
    assert scan_starts(text) == expected
