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


@st.composite
def heredoc_dockerfile(draw: st.DrawFn) -> str:
    lines = ["FROM a"]
    for _ in range(draw(st.integers(1, 4))):
        keyword = draw(st.sampled_from(["RUN", "COPY", "ADD", "ONBUILD RUN", "ENV", "run"]))
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
