"""dockit.edit: edits touch only the characters they must; positions follow BuildKit's reading of the line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from dockit.dockerfile import Instruction, parse
from dockit.edit import flag_spans, logical_line, name_stage, set_flag_value, split_lead
from dockit.errors import DockerfileError
from tests.shared.test_dockerfile_properties import Plan, plans


def last(text: str) -> Instruction:
    df = parse(text)
    return df.stages[-1].all_instructions()[-1]


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("RUN a\n", "RUN a"),
        ("  RUN a \\\n  b\n", "RUN a   b"),
        ("RUN a \\\n# c\n\n  \\\n  b\n", "RUN a     b"),  # comment and empty lines skipped; "  \\" is not empty
        ("RUN a \\  \t\r\nb\r\n", "RUN a b"),
        ("RUN <<EOF\nx \\\nEOF\n", "RUN <<EOF"),  # a heredoc body is not part of the line
    ],
)
def test_logical_line_and_offsets(text: str, joined: str) -> None:
    line, where = logical_line(text)
    assert line == joined
    assert "".join(text[i] for i in where) == joined


def test_logical_line_with_backtick_escape() -> None:
    assert logical_line("COPY `\n  --from=1 `\n  a b\n", "`")[0] == "COPY   --from=1   a b"


def test_flag_spans_decode_quotes_and_backslashes() -> None:
    inst = last("FROM a\nFROM b\nCOPY --chown='1:1' --from=\"0\" --link --chmod=7\\55 x y\n")
    spans = flag_spans(inst)
    assert [(f.name, f.value) for f in spans] == [("chown", "1:1"), ("from", "0"), ("link", ""), ("chmod", "755")]
    assert [inst.text[f.value_start : f.value_end] for f in spans] == ["1:1", "0", "", "7\\55"]
    assert [(f.name, f.value) for f in spans] == [(k, v) for k, vs in inst.flags.items() for v in vs]


def test_flags_stop_at_the_first_argument_and_at_double_dash() -> None:
    assert [f.name for f in flag_spans(last("FROM a\nCOPY --from=x y --z=1 w\n"))] == ["from"]
    assert [f.name for f in flag_spans(last("FROM a\nRUN -- --not-a-flag\n"))] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM a\nFROM b\nCOPY --from=0 /x /y\n", "COPY --from=build /x /y\n"),
        ('FROM a\nFROM b\nCOPY --from="0" /x /y\n', 'COPY --from="build" /x /y\n'),
        ("FROM a\nFROM b\ncopy \\\n  # why\n  --FROM=0 \\\n  /x /y", "copy \\\n  # why\n  --FROM=build \\\n  /x /y"),
        ("FROM a\nFROM b\nCOPY --from=0 --from=0 /x /y\n", "COPY --from=0 --from=build /x /y\n"),
        ("FROM a\nFROM b\nCOPY --from=0 <<EOF /y\n--from=0\nEOF\n", "COPY --from=build <<EOF /y\n--from=0\nEOF\n"),
    ],
)
def test_set_flag_value_changes_only_the_value(text: str, expected: str) -> None:
    assert set_flag_value(last(text), "from", "build") == expected


def test_set_flag_value_needs_the_flag() -> None:
    with pytest.raises(DockerfileError, match="no --from flag"):
        set_flag_value(last("FROM a\nCOPY x y\n"), "from", "b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM alpine\n", "FROM alpine AS stage-0\n"),
        ("from alpine   \n", "from alpine as stage-0   \n"),
        (
            "FROM --platform=$BUILDPLATFORM \\\n    alpine:3.20",
            "FROM --platform=$BUILDPLATFORM \\\n    alpine:3.20 AS stage-0",
        ),
        ("FROM alpine \\\n\n", "FROM alpine AS stage-0 \\\n\n"),
    ],
)
def test_name_stage(text: str, expected: str) -> None:
    inst = parse(text).stages[0].from_instruction
    named = name_stage(inst, "stage-0")
    assert named == expected
    assert parse(named).stages[0].name == "stage-0"


def test_name_stage_refuses_a_named_stage() -> None:
    with pytest.raises(DockerfileError, match="already has a name"):
        name_stage(parse("FROM a AS b\n").stages[0].from_instruction, "c")


@pytest.mark.parametrize(
    ("lead", "parts"),
    [
        ("", ("", "", "")),
        ("# own\n", ("", "", "# own\n")),
        ("\n\n", ("", "\n\n", "")),
        ("# tail\n\n \n# own\n# more\n", ("# tail\n", "\n \n", "# own\n# more\n")),
        ("\n# a\n\n# b\n", ("\n# a\n", "\n", "# b\n")),
        ("# a\r\n\r\n", ("# a\r\n", "\r\n", "")),
    ],
)
def test_split_lead(lead: str, parts: tuple[str, str, str]) -> None:
    assert split_lead(lead) == parts
    assert "".join(parts) == lead


@settings(max_examples=200, deadline=None)
@given(plans())
def test_logical_line_and_flags_match_buildkits_own_reading(plan: Plan) -> None:
    # The parser's `original` is the joined line (plus heredoc bodies); its flags are the decoded flag words.
    df = parse(plan.text)
    for inst in df.instructions():
        line, where = logical_line(inst.text, df.escape)
        assert line == (inst.original.split("\n")[0] if inst.heredocs else inst.original)
        assert [inst.text[i] for i in where] == list(line)
        assert [f"--{f.name}={f.value}" for f in flag_spans(inst, df.escape)] == [
            f if "=" in f else f + "=" for f in inst.flag_list
        ]
