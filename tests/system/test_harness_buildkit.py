"""The BuildKit builder of the harness: it builds on the private daemon offline, and its result says which stages and
steps ran and which were CACHED, read from ``--progress plain``. Also what only BuildKit builds here (``RUN --mount``,
``<Dockerfile>.dockerignore``, inline cache), each checked against the classic builder's refusal or difference."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from tests.system import buildkit as progress
from tests.system.docker_fixtures import BASE_IMAGE, BuildKit, Dockerd, Registry

pytestmark = pytest.mark.system

# "unused" is not needed by the target "app", "later" comes after it; "tools" is needed through a bind mount only.
STAGES = f"""\
FROM {BASE_IMAGE} AS unused
RUN echo unused > /unused

FROM {BASE_IMAGE} AS Tools
RUN mkdir /tool && echo "tool v2" > /tool/version

FROM {BASE_IMAGE}
RUN echo generated > /generated

FROM {BASE_IMAGE} AS app
ENV WHO=app
RUN --mount=type=bind,from=tools,source=/tool,target=/mnt cp /mnt/version /tool-version
COPY --from=2 /generated /copied

FROM app AS later
RUN echo later > /later
"""


def test_the_progress_parsers_docstring_examples_hold() -> None:
    result = doctest.testmod(progress)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "data.txt").write_text("payload\n")
    return tmp_path


def test_buildkit_runs_only_the_stages_the_target_needs_and_reports_each_step(
    buildkit: BuildKit, context: Path
) -> None:
    buildkit.prune()
    first = buildkit.build(context, STAGES, tag="harness/bk:app", target="app")
    assert first.stages == {"tools", "stage-2", "app"}, first.output
    # ENV is no vertex; the three stages share one FROM vertex, shown under one of their names.
    assert sorted((s.stage, s.instruction) for s in first.executed) == [
        ("app", "COPY --from=2 /generated /copied"),
        ("app", "RUN --mount=type=bind,from=tools,source=/tool,target=/mnt cp /mnt/version /tool-version"),
        ("stage-2", "RUN echo generated > /generated"),
        ("tools", 'RUN mkdir /tool && echo "tool v2" > /tool/version'),
    ]
    assert [s.instruction for s in first.build_steps if s.instruction.startswith("FROM ")] == [f"FROM {BASE_IMAGE}"]
    files = buildkit.export(first.ref).files
    assert {"/tool-version", "/copied"} <= files.keys() and "/unused" not in files and "/mnt/version" not in files

    again = buildkit.build(context, STAGES, tag="harness/bk:again", target="app")
    assert again.executed == [] and again.cached == again.steps - 1, again.output  # all but the FROM
    assert again.image_id == first.image_id

    buildkit.prune()  # a fresh runner: BuildKit's cache went with the images
    cold = buildkit.build(context, STAGES, tag="harness/bk:cold", target="app")
    assert cold.cached == 0 and len(cold.executed) == 4, cold.output


def test_a_failing_step_is_reported_as_an_error(buildkit: BuildKit, context: Path) -> None:
    failed = buildkit.build(context, f"FROM {BASE_IMAGE}\nRUN echo ok\nRUN exit 3\n", check=False)
    assert failed.returncode != 0 and failed.image_id == ""
    assert [(s.instruction, s.status) for s in failed.build_steps][1:] == [
        ("RUN echo ok", "DONE"),
        ("RUN exit 3", "ERROR"),
    ]


MOUNTS = f"""\
FROM {BASE_IMAGE} AS src
RUN mkdir /src && echo "from src" > /src/in.txt

FROM {BASE_IMAGE}
RUN --mount=type=cache,target=/cache echo cached-data > /cache/kept && cp /cache/kept /first
RUN --mount=type=cache,target=/cache cp /cache/kept /second
RUN --mount=type=bind,source=data.txt,target=/ctx/data.txt cp /ctx/data.txt /bound
RUN --mount=type=bind,from=src,source=/src,target=/s cp /s/in.txt /from-src
RUN --mount=type=tmpfs,target=/scratch echo x > /scratch/x && test -f /scratch/x
"""


def test_run_mounts_build_on_buildkit_and_leave_nothing_behind(
    buildkit: BuildKit, dockerd: Dockerd, context: Path
) -> None:
    """BuildKit only: the classic builder refuses RUN --mount."""
    built = buildkit.build(context, MOUNTS, tag="harness/bk:mounts")
    files = buildkit.export(built.ref).files
    assert {"/first", "/second", "/bound", "/from-src"} <= files.keys()
    assert files["/second"].sha256 == files["/first"].sha256  # the cache mount outlived the step that wrote it
    assert not {"/cache/kept", "/ctx/data.txt", "/s/in.txt", "/scratch/x"} & files.keys()
    refused = dockerd.build(context, MOUNTS, check=False)
    assert refused.returncode != 0 and "the --mount option requires BuildKit" in refused.output


LISTING = f"FROM {BASE_IMAGE}\nCOPY . /ctx\n"


def test_a_dockerfiles_own_dockerignore_decides_the_context_on_buildkit_only(
    buildkit: BuildKit, dockerd: Dockerd, tmp_path: Path
) -> None:
    """BuildKit only: ``<Dockerfile>.dockerignore`` beside the Dockerfile wins over the root ``.dockerignore``; the
    classic builder reads the root file only."""
    context = tmp_path / "ctx"
    for name in ("keep.txt", "root-ignores-me.txt", "own-ignores-me.txt"):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(name)
    (context / ".dockerignore").write_text("root-ignores-me.txt\nsvc\n")
    dockerfile = context / "svc" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(LISTING)
    (context / "svc" / "Dockerfile.dockerignore").write_text("own-ignores-me.txt\nsvc\n")

    def sent(builder: BuildKit | Dockerd) -> set[str]:
        image = builder.export(builder.build(context, dockerfile, tag=f"harness/ignore:{builder.name}").ref)
        return {p.removeprefix("/ctx/") for p, f in image.files.items() if p.startswith("/ctx/") and f.type == "file"}

    assert sent(buildkit) == {"keep.txt", "root-ignores-me.txt", ".dockerignore"}
    assert sent(dockerd) == {"keep.txt", "own-ignores-me.txt", ".dockerignore"}


INLINE = f"""\
FROM {BASE_IMAGE} AS deps
RUN echo "slow dependency step" > /deps

FROM deps
COPY data.txt /data.txt
RUN cat /deps /data.txt > /both
"""


def test_inline_cache_from_the_registry_answers_every_step_on_a_fresh_runner(
    buildkit: BuildKit, registry: Registry, context: Path
) -> None:
    """BuildKit only (``BUILDKIT_INLINE_CACHE``): the classic builder's ``--cache-from`` needs the image pulled."""
    ref = f"{registry.host}/harness/inline:latest"
    inline = ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]
    buildkit.prune()
    first = buildkit.build(context, INLINE, tag=ref, extra=inline)
    assert len(first.executed) == 3 and first.cached == 0, first.output
    buildkit.docker("push", ref)
    buildkit.prune()
    assert buildkit.docker("images", "-q", ref).stdout == ""

    warm = buildkit.build(context, INLINE, tag="harness/inline:warm", extra=[*inline, "--cache-from", ref])
    assert warm.executed == [], warm.output
    assert {s.instruction for s in warm.build_steps if s.cached} == {
        'RUN echo "slow dependency step" > /deps',
        "COPY data.txt /data.txt",
        "RUN cat /deps /data.txt > /both",
    }
    assert "importing cache manifest from " + ref in warm.output
    assert warm.image_id == first.image_id
