"""dockit.dockerfile on Dockerfiles covering every feature the tools rely on, and on every bad input we know of."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dockit.dockerfile import parse, parse_mount
from dockit.errors import DockerfileError

MULTI = """\
# syntax=docker/dockerfile:1.7
# check=skip=all

# the Go version used everywhere
ARG GO_VERSION=1.22
ARG FLAVOR
FROM golang:${GO_VERSION}-alpine AS Build
WORKDIR /src
# comment inside a stage
RUN --mount=type=cache,target=/root/.cache \\
    # a comment inside a continuation
    go build -o /out/app ./cmd/app

FROM build AS test
RUN go test ./...

FROM alpine:3.20
COPY --from=BUILD /out/app /usr/bin/app
COPY --from=0 /etc/passwd /etc/passwd
COPY --from=nginx:1.27 /etc/nginx /etc/nginx
RUN --mount=type=bind,from=test,source=/src,target=/t ls /t
# trailing comment
"""


def test_round_trip_and_structure() -> None:
    df = parse(MULTI)
    assert str(df) == MULTI
    assert [(d.name, d.value, d.line) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1.7", 1),
        ("check", "skip=all", 2),
    ]
    assert [a.args for a in df.global_args] == [["GO_VERSION=1.22"], ["FLAVOR"]]
    assert df.global_args[0].lead == "\n# the Go version used everywhere\n"
    assert [(s.index, s.name, s.base) for s in df.stages] == [
        (0, "build", "golang:1.22-alpine"),
        (1, "test", "build"),
        (2, None, "alpine:3.20"),
    ]
    run = df.stages[0].instructions[1]
    assert (run.keyword, run.start_line, run.end_line) == ("RUN", 10, 12)
    assert run.lead == "# comment inside a stage\n"
    assert "# a comment inside a continuation" in run.text
    assert run.flags == {"mount": ["type=cache,target=/root/.cache"]}
    assert df.trailer == "# trailing comment\n"


def test_deps_by_buildkit_rules() -> None:
    df = parse(MULTI)
    assert df.stages[0].deps() == []
    assert df.stages[1].deps() == [0]  # FROM build
    assert df.stages[2].deps() == [0, 1]  # COPY --from=BUILD, --from=0, RUN --mount from=test
    externals = [r.ref for r in df.stages[2].refs if r.stage is None]
    assert externals == ["alpine:3.20", "nginx:1.27"]
    assert [s.index for s in df.closure("TEST")] == [0, 1]
    assert [s.index for s in df.closure(None)] == [0, 1, 2]
    assert [s.index for s in df.closure("0")] == [0]


def test_build_args_and_assumed_args() -> None:
    df = parse(MULTI, build_args={"GO_VERSION": "1.23"})
    assert df.stages[0].base == "golang:1.23-alpine"
    assert df.stages[0].assumed_args == {}
    assert parse(MULTI).stages[0].assumed_args == {"GO_VERSION": "1.22"}


@pytest.mark.parametrize(
    ("platform", "stage_base"),
    [("linux/amd64", "base-amd64"), ("linux/arm64", "base-arm64"), ("linux/arm/v7", "base-armv7")],
)
def test_platform_builtins_choose_the_stage(platform: str, stage_base: str) -> None:
    text = (
        "FROM alpine AS base-amd64\nFROM alpine AS base-arm64\nFROM alpine AS base-armv7\n"
        "FROM base-${TARGETARCH}${TARGETVARIANT} AS final\n"
    )
    df = parse(text, platform=platform)
    final = df.stage("final")
    assert final.base == stage_base
    assert [s.name for s in df.closure("final")] == [stage_base, "final"]
    assert final.assumed_args == {
        "TARGETARCH": platform.split("/")[1],
        "TARGETVARIANT": "/".join(platform.split("/")[2:]),
    }


def test_build_arg_overrides_builtin() -> None:
    df = parse("FROM alpine AS base-arm64\nFROM base-${TARGETARCH}\n", build_args={"TARGETARCH": "arm64"})
    assert df.stages[1].deps() == [0]


def test_from_a_later_stage_name_is_an_external_image() -> None:
    df = parse("FROM later AS first\nFROM alpine AS later\n")
    assert df.stages[0].deps() == []


def test_heredocs_with_markers_and_chomp() -> None:
    text = (
        "FROM a\nRUN <<-EOT bash\n\techo hi\n\tEOT\n"
        'RUN <<"A" <<B cat\n$x\nA\ny\nB\n'
        "COPY <<EOF /x\nFROM scratch AS fake\nEOF\n"
    )
    df = parse(text)
    assert str(df) == text
    assert len(df.stages) == 1
    first, second, copy = df.stages[0].instructions
    assert [(h.name, h.chomp, h.expand) for h in first.heredocs] == [("EOT", True, True)]
    assert [(h.name, h.expand, h.content) for h in second.heredocs] == [("A", False, "$x\n"), ("B", True, "y\n")]
    assert copy.heredocs[0].content == "FROM scratch AS fake\n"
    assert (copy.start_line, copy.end_line) == (10, 12)


def test_backtick_escape_directive() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore AS w\nRUN dir `\n  c:\\\nCOPY a c:\\b\\\n"
    df = parse(text)
    assert df.escape == "`"
    assert str(df) == text
    assert df.stages[0].instructions[0].end_line == 4


def test_onbuild_inner_instruction_keeps_flags_and_heredoc() -> None:
    text = (
        "FROM a\nONBUILD COPY --from=b --chown=1:1 <<EOF /x\nhi\nEOF\nONBUILD RUN --mount=type=cache,target=/c make\n"
    )
    df = parse(text)
    onb = df.stages[0].instructions
    assert onb[0].inner is not None and onb[0].inner.flags == {"from": ["b"], "chown": ["1:1"]}
    assert onb[0].inner.heredocs[0].content == "hi\n"
    assert (onb[0].inner.start_line, onb[0].inner.end_line) == (2, 4)
    assert onb[1].inner is not None and onb[1].inner.keyword == "RUN"
    assert onb[1].inner.flags == {"mount": ["type=cache,target=/c"]}
    assert df.stages[0].deps() == []  # ONBUILD triggers run in the child build, not here


def test_crlf_bom_and_empty_continuation_lines() -> None:
    text = "FROM a\r\nRUN echo 1 \\\r\n\r\n  && echo 2\r\n"
    df = parse(b"\xef\xbb\xbf" + text.encode())
    assert str(df) == text
    run = df.stages[0].instructions[0]
    assert (run.start_line, run.end_line) == (2, 4)


def test_no_trailing_newline_round_trips() -> None:
    assert str(parse("FROM a\nRUN x")) == "FROM a\nRUN x"


def test_directives_stop_at_the_first_other_line() -> None:
    df = parse("# syntax=x\n\n# escape=`\nFROM a\n")
    assert [d.name for d in df.directives] == ["syntax"]
    assert df.escape == "\\"


def test_stage_lookup_and_labels() -> None:
    df = parse("FROM a AS One\nFROM b\n")
    assert df.stage("ONE").index == 0
    assert df.stage(1).label == "1"
    with pytest.raises(DockerfileError, match=r"no stage 'two'; stages: 0 \(one\), 1 \(unnamed\)"):
        df.stage("two")


def test_parse_mount() -> None:
    assert parse_mount('type=bind,"source=a,b",target=/x,ro') == {
        "type": "bind",
        "source": "a,b",
        "target": "/x",
        "ro": "",
    }
    assert parse_mount("type=bind,src=x,dst=/y")["target"] == "/y"


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ("FROM a\nRUN x\0y\n", 2, "NUL byte"),
        ("FROM a\nRUN x\ud800\n", 2, "lone surrogate"),
        ("FROM a\nRUN x\n" + "y" * 70_000 + "\n", 3, "line longer than"),
        ("FROM a\n\nFORM b\n", 3, "unknown instruction: FORM"),
        ("RUN x\nFROM a\n", 1, "RUN before the first FROM"),
        ("FROM a\nRUN x\nENV onlykey\n", 3, "ENV must have two arguments"),
        ("FROM a AS b\nFROM c AS B\n", 2, "duplicate stage name 'b'"),
        ("FROM a AS 1st\n", 1, "invalid stage name"),
        ("FROM a b c d\n", 1, "FROM needs an image"),
        ("FROM\n", 1, "FROM needs an image"),
        ("FROM a\nCOPY --from=5 x y\n", 2, "there is no stage 5"),
        ("FROM a\nCOPY --from=0 x y\n", 2, "this stage or a later one"),
        ("FROM a AS x\nCOPY --from=y a b\nFROM a AS y\n", 2, "defined later"),
        ("FROM a AS x\nCOPY --from=X a b\n", 2, "cannot copy from itself"),
        ("FROM a\nCOPY --from=$S a b\n", 2, "variables are not expanded"),
        ("FROM a\nRUN --mount=from=${S} x\n", 2, "variables are not expanded"),
        ("# escape=x\nFROM a\n", 1, "invalid escape token"),
        ("# escape=`\n# escape=\\\nFROM a\n", 2, "only one escape"),
        ("FROM a\nONBUILD FROM b\n", 2, "not allowed as an ONBUILD trigger"),
        ("ARG X\nFROM ${X}\n", 2, "empty image name"),
        ("FROM a\nRUN x\nENV\nMAINTAINER\n", None, None),  # the parser accepts these; not an error of ours
    ],
)
def test_bad_inputs_name_the_line(data: bytes | str, line: int | None, message: str | None) -> None:
    if message is None:
        parse(data)
        return
    with pytest.raises(DockerfileError) as e:
        parse(data, path="svc/Dockerfile")
    assert e.value.line == line
    assert message in e.value.message
    assert str(e.value).startswith(f"svc/Dockerfile:{line}: ")


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "# syntax=x\n"])
def test_empty_files(text: str) -> None:
    with pytest.raises(DockerfileError, match="no instructions"):
        parse(text)


def test_surrogate_never_reaches_the_parser_process() -> None:
    # A lone surrogate crashes the Go side with SIGSEGV; run it in a child so a regression cannot kill pytest.
    code = (
        "from dockit.dockerfile import parse\ntry:\n parse('FROM a\\nRUN \\ud800')\nexcept Exception as e:\n print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == "Dockerfile:2: lone surrogate character"


def test_import_is_cheap() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import dockit.dockerfile"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {line.split("|")[-1].strip() for line in out.stderr.splitlines()[1:]}
    # The Go extension, typer and rich load only when used.
    assert not modules & {"dockerfile", "typer", "rich", "csv"}


def test_heredoc_marker_after_a_continuation_keeps_its_quoting() -> None:
    df = parse('FROM a\nRUN \\\n  <<"EOF" cat\nhi $x\nEOF\n')
    assert [(h.name, h.expand, h.content) for h in df.stages[0].instructions[0].heredocs] == [("EOF", False, "hi $x\n")]


@pytest.mark.parametrize("escape", ["\\", "`"])
def test_onbuild_with_its_trigger_on_the_next_line(escape: str) -> None:
    directive = "# escape=`\n" if escape == "`" else ""
    first = 2 if escape == "`" else 1
    text = f"{directive}FROM a\nONBUILD {escape}\n  RUN --mount=type=cache,target=/c make\n"
    inner = parse(text).stages[0].instructions[0].inner
    assert inner is not None
    assert (inner.keyword, inner.flags, inner.args) == ("RUN", {"mount": ["type=cache,target=/c"]}, ["make"])
    assert (inner.start_line, inner.end_line) == (first + 2, first + 2)
