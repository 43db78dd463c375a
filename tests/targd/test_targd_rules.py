"""targd's output rules, each on a Dockerfile written for it, with the expected output written out by hand."""

from __future__ import annotations

import pytest

from dockit.dockerfile import parse
from dockit.errors import DockerfileError
from targd.prune import prune


def cut(text: str, target: str | None, plain: str = "linux/amd64", **kw: object) -> str:
    """The output for ``target``, written for plain builds (no --platform) on a ``plain`` machine."""
    return prune(parse(text, **kw), target, plain_platform=plain).text  # type: ignore[arg-type]


def test_directives_and_global_args_stay_verbatim_with_their_comments() -> None:
    text = """\
# syntax=docker/dockerfile:1.7
# escape=\\

# which Go to build with
ARG GO_VERSION=1.22
ARG   DEBIAN=bookworm   # not a comment: part of the default

FROM golang:${GO_VERSION} AS build
RUN go build -o /app

FROM debian:${DEBIAN} AS unused
RUN apt-get update

FROM debian:${DEBIAN}-slim AS app
COPY --from=build /app /app
"""
    assert (
        cut(text, "app")
        == """\
# syntax=docker/dockerfile:1.7
# escape=\\

# which Go to build with
ARG GO_VERSION=1.22
ARG   DEBIAN=bookworm   # not a comment: part of the default

FROM golang:${GO_VERSION} AS build
RUN go build -o /app

FROM debian:${DEBIAN}-slim AS app
COPY --from=build /app /app
"""
    )


def test_whole_closure_gives_back_the_file_byte_for_byte() -> None:
    text = "# syntax=x\nARG A=1\nFROM a AS one\n# c\nRUN x \\\n  y\nFROM one\n\n\nCOPY --from=0 / /\n# end\n"
    assert cut(text, None) == text


def test_platform_builtin_chooses_the_base_stage() -> None:
    text = """\
FROM busybox AS base-amd64
RUN echo amd64 > /arch

FROM busybox AS base-arm64
RUN echo arm64 > /arch

FROM base-${TARGETARCH} AS final
RUN cat /arch
"""
    assert (
        cut(text, "final")
        == """\
FROM busybox AS base-amd64
RUN echo amd64 > /arch

FROM base-${TARGETARCH} AS final
RUN cat /arch
"""
    )
    assert (
        cut(text, "final", platform="linux/arm64", plain="linux/arm64")
        == """\
FROM busybox AS base-arm64
RUN echo arm64 > /arch

FROM base-${TARGETARCH} AS final
RUN cat /arch
"""
    )
    # Made on an amd64 machine for arm64: a plain build there would choose base-amd64, which is gone.
    assert (
        cut(text, "final", platform="linux/arm64", plain="linux/amd64")
        == """\
FROM busybox AS base-arm64
RUN echo arm64 > /arch

# set by targd: FROM base-${TARGETARCH} with TARGETARCH=arm64
FROM base-arm64 AS final
RUN cat /arch
"""
    )


def test_build_arg_chooses_the_stage_and_the_output_stands_alone() -> None:
    """The chosen value becomes the ARG's default, with targd's note: built without --build-arg, the output builds
    the stage the argument chose (and RUNs that read the ARG get the same value)."""
    text = "ARG FLAVOR=slim\nFROM alpine AS slim\nFROM debian AS full\nFROM ${FLAVOR}\nRUN true\n"
    result = prune(parse(text), None)
    assert result.text == "ARG FLAVOR=slim\nFROM alpine AS slim\n\nFROM ${FLAVOR}\nRUN true\n"
    assert result.warnings == ["Dockerfile:4: FROM ${FLAVOR}: FLAVOR=slim (no --build-arg) chose stage slim"]
    given = prune(parse(text, build_args={"FLAVOR": "full"}), None)
    assert given.text == (
        "# set by targd: FLAVOR=full (from --build-arg FLAVOR=full; the default was slim) chose stage full\n"
        "ARG FLAVOR=full\n\nFROM debian AS full\nFROM ${FLAVOR}\nRUN true\n"
    )
    assert given.warnings == []
    assert parse(given.text).stages[-1].base == "full"  # without the argument


def test_an_arg_that_only_fills_in_a_tag_is_silent() -> None:
    text = "ARG V=1\nARG W\nFROM a:$V AS x\nFROM b:${V}${W}\nCOPY --from=x / /\n"
    assert prune(parse(text), None).warnings == []
    chosen = "ARG V=x\nARG W\nFROM a AS x1\nFROM ${V}1 AS y\nFROM ${V}${W}1\nCOPY --from=y / /\n"
    assert prune(parse(chosen), None).warnings == [
        "Dockerfile:4: FROM ${V}1: V=x (no --build-arg) chose stage x1; also line 5",
        "Dockerfile:5: FROM ${V}${W}1: W unset (no --build-arg) chose stage x1",
    ]


def test_platform_warning_is_silenced_by_an_explicit_platform() -> None:
    text = "FROM alpine AS base-amd64\nFROM base-${TARGETARCH}\n"
    assert prune(parse(text), None).warnings == [
        "Dockerfile:2: FROM base-${TARGETARCH}: TARGETARCH=amd64 (no --platform) chose stage base-amd64"
    ]
    assert prune(parse(text), None, explicit_args={"TARGETARCH"}).warnings == []


def test_a_pattern_over_the_platform_chooses_and_is_pinned_as_the_args_default() -> None:
    """BuildKit's own Dockerfile: ``${TARGETPLATFORM#linux/amd64}`` is empty on amd64 and picks ``-supported``."""
    text = (
        "ARG BUILD_AMD64=${TARGETPLATFORM#linux/amd64}\n"
        "FROM busybox AS exit-amd64-supported\nFROM busybox AS exit-amd64-unsupported\n"
        "FROM exit-amd64-${BUILD_AMD64:+un}supported\n"
    )
    here = prune(parse(text, platform="linux/amd64"), plain_platform="linux/amd64")
    assert "FROM busybox AS exit-amd64-supported\n" in here.text and "unsupported" not in here.text
    there = prune(parse(text, platform="linux/arm64"), plain_platform="linux/amd64")
    assert there.text.startswith(
        "# set by targd: BUILD_AMD64=linux/arm64 (the default ${TARGETPLATFORM#linux/amd64} on linux/arm64) chose "
        "stage exit-amd64-unsupported\nARG BUILD_AMD64=linux/arm64\n"
    )
    assert parse(there.text, platform="linux/amd64").stages[-1].base == "exit-amd64-unsupported"


def test_index_of_an_unnamed_stage_gets_a_name_that_clashes_with_nothing() -> None:
    text = """\
FROM alpine AS unused
RUN echo unused

FROM busybox
RUN echo built > /out

FROM busybox AS stage-1
COPY --from=stage-1-2 /a /a

FROM scratch
COPY --from=1 /out /out
COPY --from=2 /a /a
"""
    # "stage-1" is taken by stage 2 and "stage-1-2" is an external image: the new name must capture neither.
    result = prune(parse(text), None)
    assert (
        result.text
        == """\
FROM busybox AS stage-1-3
RUN echo built > /out

FROM busybox AS stage-1
COPY --from=stage-1-2 /a /a

FROM scratch
COPY --from=stage-1-3 /out /out
COPY --from=stage-1 /a /a
"""
    )
    assert result.renames == {1: "stage-1-3"}
    assert result.rewrites == [(11, "1", "stage-1-3"), (12, "2", "stage-1")]


def test_index_that_does_not_move_is_left_alone() -> None:
    text = "FROM a\nFROM b AS unused\nFROM c\nCOPY --from=0 /x /x\n"
    assert cut(text, None) == "FROM a\n\nFROM c\nCOPY --from=0 /x /x\n"


def test_index_rewrite_keeps_the_name_as_written_and_the_rest_of_the_line() -> None:
    text = 'FROM a AS x\nFROM b AS Build\nFROM c\nCOPY --chown=1:1 \\\n  --from="1" \\\n  /out /out\n'
    assert cut(text, None) == 'FROM b AS Build\nFROM c\nCOPY --chown=1:1 \\\n  --from="Build" \\\n  /out /out\n'


def test_lower_case_from_gets_a_lower_case_as_and_adjacent_stages_stay_adjacent() -> None:
    text = "from a AS x\nfrom b\nfrom c\ncopy --from=1 / /\n"
    assert cut(text, None) == "from b as stage-1\nfrom c\ncopy --from=stage-1 / /\n"


def test_run_mount_from_keeps_its_stage() -> None:
    text = """\
FROM alpine AS deps
RUN echo deps

FROM alpine AS unused

FROM alpine AS app
RUN --mount=type=bind,from=deps,source=/etc,target=/deps \\
    ls /deps
"""
    assert (
        cut(text, "app")
        == """\
FROM alpine AS deps
RUN echo deps

FROM alpine AS app
RUN --mount=type=bind,from=deps,source=/etc,target=/deps \\
    ls /deps
"""
    )


def test_copy_from_an_external_image_needs_no_stage() -> None:
    text = "FROM alpine AS nginx\nFROM scratch\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"
    assert cut(text, None) == "FROM scratch\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"


def test_names_are_case_insensitive() -> None:
    text = "FROM alpine AS Builder\nFROM alpine AS other\nFROM BUILDER\nCOPY --from=bUiLdEr / /\n"
    assert cut(text, None) == "FROM alpine AS Builder\n\nFROM BUILDER\nCOPY --from=bUiLdEr / /\n"
    assert cut(text, "BUILDER") == "FROM alpine AS Builder\n"
    assert cut(text, "1") == "FROM alpine AS other\n"


def test_heredoc_body_that_looks_like_a_stage_is_just_text() -> None:
    text = """\
FROM alpine AS gen
COPY <<EOF /Dockerfile.inner
FROM scratch AS fake
COPY --from=0 / /
EOF

FROM alpine AS unused

FROM busybox AS app
COPY --from=gen /Dockerfile.inner /x
"""
    assert (
        cut(text, "app")
        == """\
FROM alpine AS gen
COPY <<EOF /Dockerfile.inner
FROM scratch AS fake
COPY --from=0 / /
EOF

FROM busybox AS app
COPY --from=gen /Dockerfile.inner /x
"""
    )


def test_backtick_escape_directive_continuations_are_kept() -> None:
    text = """\
# escape=`
FROM mcr.microsoft.com/windows/nanoserver AS unused
RUN echo no

FROM mcr.microsoft.com/windows/servercore
RUN dir `
    c:\\
FROM mcr.microsoft.com/windows/nanoserver
COPY `
  --from=1 `
  c:\\app c:\\app
"""
    assert (
        cut(text, None)
        == """\
# escape=`

FROM mcr.microsoft.com/windows/servercore AS stage-1
RUN dir `
    c:\\
FROM mcr.microsoft.com/windows/nanoserver
COPY `
  --from=stage-1 `
  c:\\app c:\\app
"""
    )


def test_comments_between_stages_go_with_the_stage_they_describe() -> None:
    text = """\
# file header: not about any stage

# ---- deps ----
FROM alpine AS deps
RUN echo deps
# closes the deps stage

# ---- test ----
# runs the tests
FROM deps AS test
RUN echo test
# TODO: more tests

# ---- release ----
FROM deps AS release
# inside the release stage
RUN echo release
# the end
"""
    assert (
        cut(text, "release")
        == """\
# file header: not about any stage

# ---- deps ----
FROM alpine AS deps
RUN echo deps
# closes the deps stage

# ---- release ----
FROM deps AS release
# inside the release stage
RUN echo release
# the end
"""
    )
    assert (
        cut(text, "test")
        == """\
# file header: not about any stage

# ---- deps ----
FROM alpine AS deps
RUN echo deps
# closes the deps stage

# ---- test ----
# runs the tests
FROM deps AS test
RUN echo test
# TODO: more tests
"""
    )


def test_removed_stages_leave_one_blank_line_even_without_one_in_the_source() -> None:
    text = "ARG X=1\nFROM a AS one\nFROM b AS two\nFROM c AS three\nCOPY --from=one / /\n"
    assert cut(text, "three") == "ARG X=1\nFROM a AS one\n\nFROM c AS three\nCOPY --from=one / /\n"
    assert cut(text, "two") == "ARG X=1\n\nFROM b AS two\n"


def test_no_trailing_newline_and_crlf_survive() -> None:
    assert cut("FROM a AS x\r\nRUN 1\r\nFROM b\r\nRUN 2", None) == "FROM b\r\nRUN 2"
    assert cut("FROM a AS x\r\nRUN 1\r\nFROM b\r\nRUN 2", "x") == "FROM a AS x\r\nRUN 1\r\n"


def test_onbuild_copy_from_is_not_a_reference_and_is_kept_as_written() -> None:
    text = "FROM a AS x\nFROM b\nONBUILD COPY --from=0 / /\n"
    assert cut(text, None) == "FROM b\nONBUILD COPY --from=0 / /\n"


def test_default_target_is_the_last_stage() -> None:
    result = prune(parse("FROM a AS x\nFROM b AS y\n"))
    assert (result.target.name, [s.name for s in result.closure]) == ("y", ["y"])


@pytest.mark.parametrize(
    ("text", "target", "line", "message"),
    [
        ("FROM a AS x\nFROM b\n", "nope", None, "no stage 'nope'; stages: 0 (x), 1 (unnamed)"),
        ("FROM a AS x\nFROM b\n", "2", None, "no stage '2'"),
        ("FROM a\nCOPY --from=3 / /\nFROM b\n", None, 2, "there is no stage 3"),
        ("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n", "y", 2, "defined later"),
        ("FROM a AS x\nRUN --mount=from=y,target=/y ls\nFROM b AS y\n", "x", 2, "defined later"),
        ("FROM a\nCOPY --from=$STAGE / /\n", None, 2, "variables are not expanded"),
        ("FROM a\nCOPY --from=0 / /\n", None, 2, "this stage or a later one"),
    ],
)
def test_errors_name_the_line(text: str, target: str | None, line: int | None, message: str) -> None:
    with pytest.raises(DockerfileError) as e:
        prune(parse(text, path="svc/Dockerfile"), target)
    assert e.value.line == line
    assert message in e.value.message
    assert str(e.value).startswith("svc/Dockerfile" + (f":{line}" if line else "") + ": ")
