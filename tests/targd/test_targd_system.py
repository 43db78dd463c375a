"""targd's output, built by each real builder (classic, BuildKit, buildah), makes the same image as the original with
--target; on the classic builder in fewer steps (it builds every stage before the target, needed or not). And targd's
closure is exactly the set of stages BuildKit runs for --target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.buildkit import BuildKitResult
from tests.system.docker_fixtures import BASE_IMAGE, Builder, BuildKit

TARGD = str(Path(sys.executable).parent / "targd")

# Seven stages: "docs" and "test" are not needed by "release", "debug" comes after it, and the unnamed stage 2 is
# copied from by index, so targd must name it once "docs" (stage 0) is gone. A directive line opens the file (not
# "# syntax=": this BuildKit cannot fetch a frontend image offline).
DOCKERFILE = f"""\
# escape=\\
ARG BASE={BASE_IMAGE}
ARG VERSION=1.4.2

# ---- docs: slow, and not part of the release ----
FROM ${{BASE}} AS docs
RUN mkdir -p /docs && echo "manual" > /docs/index.txt

# ---- base: what every stage shares ----
FROM ${{BASE}} AS base
RUN mkdir -p /opt/app /src && echo base > /opt/app/layers

# ---- sources (unnamed; referred to by index) ----
FROM base
ARG VERSION
RUN echo "version ${{VERSION}}" > /src/VERSION \\
    # a comment inside the continuation
    && printf '#!/bin/sh\\necho hello from app\\n' > /src/app.sh \\
    && chmod 755 /src/app.sh

# ---- test: runs the app, not shipped ----
FROM base AS test
COPY --from=2 /src /src
RUN sh /src/app.sh > /test.out && grep -q hello /test.out

# ---- build: packs the sources ----
FROM base AS Build
COPY --from=2 /src/ /build/
RUN tar -cf /app.tar -C /build .

# ---- release ----
FROM ${{BASE}} AS release
ARG VERSION
LABEL org.example.version=${{VERSION}}
COPY --from=BUILD /app.tar /tmp/app.tar
RUN mkdir -p /opt/app && tar -xf /tmp/app.tar -C /opt/app && rm /tmp/app.tar
COPY --from=2 /src/VERSION /opt/VERSION
USER app
CMD ["/opt/app/app.sh"]

# ---- debug: after the target ----
FROM release AS debug
USER root
RUN echo debug > /debug
"""


@pytest.mark.system
def test_targd_output_builds_the_same_release(builder: Builder, tmp_path: Path) -> None:
    # buildah matches --from names case-sensitively (test_harness_builders.py shows it): give it the name as declared.
    dockerfile = DOCKERFILE.replace("--from=BUILD ", "--from=Build ") if builder.name == "buildah" else DOCKERFILE
    (tmp_path / "Dockerfile").write_text(dockerfile)
    out = subprocess.run(
        [TARGD, "-t", "release", str(tmp_path / "Dockerfile")], capture_output=True, text=True, check=True
    )
    pruned = out.stdout
    assert pruned.startswith("# escape=\\\n")
    assert "AS docs" not in pruned and "AS test" not in pruned and "AS debug" not in pruned
    assert "FROM base AS stage-2\n" in pruned and pruned.count("COPY --from=stage-2 ") == 2

    context = tmp_path / "context"
    context.mkdir()
    tag = f"targd-{builder.name}"
    # Uncached, so the steps say what each build ran; buildah counts no steps here, and its cache saves ~20 s on vfs.
    fresh = [] if builder.name == "buildah" else ["--no-cache"]
    original = builder.build(context, dockerfile, tag=f"{tag}:original", target="release", extra=fresh)
    cut = builder.build(context, pruned, tag=f"{tag}:pruned", extra=fresh)
    a, b = builder.export(original.ref), builder.export(cut.ref)
    assert a == b
    assert "/opt/app/app.sh" in b.files and b.config.user == "app"
    assert b.config.labels == {"org.example.version": "1.4.2"}
    if builder.name == "classic":  # docs (2 steps) and test (3 steps) are the difference
        assert original.steps - cut.steps == 5, (cut.steps, original.steps)
    elif isinstance(builder, BuildKit) and isinstance(original, BuildKitResult) and isinstance(cut, BuildKitResult):
        # BuildKit skips unneeded stages itself: the very same steps run, stage-2 under the name targd gave it.
        assert original.stages == cut.stages == {"base", "stage-2", "build", "release"}
        renamed = sorted(str(s).replace("--from=stage-2 ", "--from=2 ") for s in cut.executed)
        assert sorted(map(str, original.executed)) == renamed


# A bind mount from a stage (not on the classic builder), and an index reference to an unnamed stage that moves.
MOUNTS = f"""\
FROM {BASE_IMAGE} AS unused
RUN echo unused > /unused

FROM {BASE_IMAGE} AS tools
RUN mkdir /tool && echo "tool v2" > /tool/version

FROM {BASE_IMAGE}
RUN echo generated > /generated

FROM {BASE_IMAGE} AS app
RUN --mount=type=bind,from=tools,source=/tool,target=/mnt \\
    cp /mnt/version /tool-version
COPY --from=2 /generated /copied
"""


@pytest.mark.system
@pytest.mark.parametrize("builder", ["buildkit", "buildah"], indirect=True)  # RUN --mount: not on the classic builder
def test_targd_output_with_mounts_builds_the_same(builder: Builder, tmp_path: Path) -> None:
    out = subprocess.run([TARGD, "-t", "app", "-"], input=MOUNTS, capture_output=True, text=True, check=True)
    pruned = out.stdout
    assert "AS unused" not in pruned and f"FROM {BASE_IMAGE} AS stage-2\n" in pruned
    assert "COPY --from=stage-2 " in pruned and "from=tools," in pruned
    original = builder.build(tmp_path, MOUNTS, tag=f"targd-{builder.name}:mounts-original", target="app")
    cut = builder.build(tmp_path, pruned, tag=f"targd-{builder.name}:mounts-pruned")
    a, b = builder.export(original.ref), builder.export(cut.ref)
    assert a == b
    assert {"/tool-version", "/copied"} <= b.files.keys() and "/unused" not in b.files


# Each stage runs a step of its own (BuildKit merges identical steps and shows a FROM that several stages share once),
# so the stages BuildKit reports are the stages it ran.
ARG_CHOSEN = f"""\
ARG VARIANT=slim
ARG BASE={BASE_IMAGE}
FROM ${{BASE}} AS base-slim
RUN echo slim > /variant
FROM ${{BASE}} AS base-full
RUN echo full > /variant
FROM base-${{VARIANT}} AS app
RUN echo app > /app
FROM ${{BASE}} AS other
RUN echo other > /other
"""

MOUNT_FROM = f"""\
FROM {BASE_IMAGE} AS unused
RUN echo unused > /unused
FROM {BASE_IMAGE} AS tools
RUN mkdir /tool && echo tool > /tool/version
FROM {BASE_IMAGE} AS seed
RUN mkdir /seed && echo seed > /seed/data
FROM {BASE_IMAGE} AS app
RUN --mount=type=bind,from=tools,source=/tool,target=/mnt cp /mnt/version /tool-version
RUN --mount=type=cache,from=seed,source=/seed,target=/cache cp /cache/data /seeded
"""

COPY_INDEX = f"""\
FROM {BASE_IMAGE}
RUN echo zero > /zero
FROM {BASE_IMAGE}
RUN echo one > /one
FROM {BASE_IMAGE} AS Build
COPY --from=1 /one /one
RUN echo build > /build
FROM {BASE_IMAGE} AS release
COPY --from=BUILD /build /build
RUN echo release > /release
FROM release AS debug
RUN echo debug > /debug
"""

ESCAPE = f"""\
# escape=`
FROM {BASE_IMAGE} AS lib
RUN mkdir /lib2 `
 && echo lib > /lib2/version
FROM {BASE_IMAGE} AS docs
RUN echo docs > /docs
FROM lib AS app
COPY --from=0 /lib2 /copied
RUN echo "app" `
    > /app
"""

CLOSURE_CASES = {
    "arg-default": (ARG_CHOSEN, "app", {}, {"base-slim", "app"}),
    "arg-given": (ARG_CHOSEN, "app", {"VARIANT": "full"}, {"base-full", "app"}),
    "mount-from": (MOUNT_FROM, "app", {}, {"tools", "seed", "app"}),
    "copy-index": (COPY_INDEX, "release", {}, {"stage-1", "build", "release"}),
    "escape": (ESCAPE, "app", {}, {"lib", "app"}),
}


@pytest.mark.system
@pytest.mark.parametrize("case", CLOSURE_CASES)
def test_targds_closure_is_the_set_of_stages_buildkit_runs(case: str, buildkit: BuildKit, tmp_path: Path) -> None:
    """BuildKit only: the classic builder runs every stage before the target, so it has no such set to compare."""
    dockerfile, target, build_args, expected = CLOSURE_CASES[case]
    args = [a for k, v in build_args.items() for a in ("--build-arg", f"{k}={v}")]
    report = subprocess.run(
        [TARGD, "-t", target, "--json", *args, "-"], input=dockerfile, capture_output=True, text=True, check=True
    )
    stages = json.loads(report.stdout)["stages"]
    closure = {s["name"] or f"stage-{s['index']}" for s in stages if s["needed"]}
    built = buildkit.build(tmp_path, dockerfile, target=target, build_args=build_args)
    assert built.stages == closure == expected, built.output


# An ARG that chooses the base stage, and that a RUN reads too: targd's output for --build-arg FLAVOR=full must
# build the same image without the argument (its default now says full) as with it, as the original with it.
FLAVORS = f"""\
ARG FLAVOR=slim
FROM {BASE_IMAGE} AS base-slim
RUN echo slim > /flavor

FROM {BASE_IMAGE} AS base-full
RUN echo full > /flavor && mkdir /extras && echo more > /extras/more

FROM base-${{FLAVOR}} AS app
ARG FLAVOR
RUN echo "built as $FLAVOR" > /built
"""


@pytest.mark.system
def test_the_chosen_arg_value_stands_alone(builder: Builder, tmp_path: Path) -> None:
    """buildah (1.28 here) resolves a FROM's stage from --build-arg values but not from an ARG's default: there
    neither the original nor the output builds without the argument (the original's FROM base-slim fails as a
    short image name), so on buildah the output is built with the argument only."""
    out = subprocess.run(
        [TARGD, "--build-arg", "FLAVOR=full", "-"], input=FLAVORS, capture_output=True, text=True, check=True
    )
    pruned = out.stdout
    assert pruned.startswith(
        "# set by targd: FLAVOR=full (from --build-arg FLAVOR=full; the default was slim) chose stage base-full\n"
        "ARG FLAVOR=full\n"
    )
    assert "base-slim" not in pruned and out.stderr == ""
    context = tmp_path / "context"
    context.mkdir()
    tag = f"targd-flavor-{builder.name}"
    original = builder.build(context, FLAVORS, tag=f"{tag}:original", build_args={"FLAVOR": "full"})
    given = builder.build(context, pruned, tag=f"{tag}:given", build_args={"FLAVOR": "full"})
    a, c = builder.export(original.ref), builder.export(given.ref)
    assert a == c, a.diff(c)
    assert "/extras/more" in a.files
    if builder.name == "buildah":
        assert builder.build(context, FLAVORS, tag=f"{tag}:slim", check=False).returncode != 0
        return
    b = builder.export(builder.build(context, pruned, tag=f"{tag}:alone").ref)
    assert a == b, a.diff(b)
    # and the original without the argument is another image: the test can tell them apart
    assert builder.export(builder.build(context, FLAVORS, tag=f"{tag}:slim").ref) != a
