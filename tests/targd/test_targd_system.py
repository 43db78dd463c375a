"""targd's output, built by the real classic builder, makes the same image as the original with --target, in fewer
steps (the classic builder builds every stage before the target, needed or not)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.docker_fixtures import BASE_IMAGE, Buildah, Dockerd

TARGD = str(Path(sys.executable).parent / "targd")

# Seven stages: "docs" and "test" are not needed by "release", "debug" comes after it, and the unnamed stage 2 is
# copied from by index, so targd must name it once "docs" (stage 0) is gone.
DOCKERFILE = f"""\
# syntax=docker/dockerfile:1
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
def test_targd_output_builds_the_same_release_in_fewer_steps(dockerd: Dockerd, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    out = subprocess.run(
        [TARGD, "-t", "release", str(tmp_path / "Dockerfile")], capture_output=True, text=True, check=True
    )
    pruned = out.stdout
    assert "AS docs" not in pruned and "AS test" not in pruned and "AS debug" not in pruned
    assert "FROM base AS stage-2\n" in pruned and pruned.count("COPY --from=stage-2 ") == 2

    context = tmp_path / "context"
    context.mkdir()
    original = dockerd.build(context, DOCKERFILE, tag="targd:original", target="release", extra=["--no-cache"])
    cut = dockerd.build(context, pruned, tag="targd:pruned", extra=["--no-cache"])
    a, b = dockerd.export(original.ref), dockerd.export(cut.ref)
    assert a == b
    assert "/opt/app/app.sh" in b.files and b.config.user == "app"
    assert b.config.labels == {"org.example.version": "1.4.2"}
    assert cut.steps < original.steps, (cut.steps, original.steps)
    # docs (2 steps) and test (3 steps) are the difference
    assert original.steps - cut.steps == 5


# BuildKit-style features the classic builder lacks, on buildah: a bind mount from a stage, and an index reference
# to an unnamed stage that moves.
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
def test_targd_output_with_mounts_builds_the_same_on_buildah(buildah: Buildah, tmp_path: Path) -> None:
    out = subprocess.run([TARGD, "-t", "app", "-"], input=MOUNTS, capture_output=True, text=True, check=True)
    pruned = out.stdout
    assert "AS unused" not in pruned and f"FROM {BASE_IMAGE} AS stage-2\n" in pruned
    assert "COPY --from=stage-2 " in pruned and "from=tools," in pruned
    original = buildah.build(tmp_path, MOUNTS, tag="targd:mounts-original", target="app")
    cut = buildah.build(tmp_path, pruned, tag="targd:mounts-pruned")
    a, b = buildah.export(original.ref), buildah.export(cut.ref)
    assert a == b
    assert {"/tool-version", "/copied"} <= b.files.keys() and "/unused" not in b.files
