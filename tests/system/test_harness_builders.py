"""The harness itself: the three builders agree, the registry round-trips, the daemon's cache survives a prune via a
pull. BuildKit's own features (RUN --mount, inline cache, per-Dockerfile ignore files): test_harness_buildkit.py."""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path

import pytest

from tests.system.docker_fixtures import BASE_IMAGE, BaseImage, Buildah, Builder, BuildKit, Dockerd, Registry

pytestmark = pytest.mark.system

# What the export compares beyond the archive fixture's image (which covers LABEL, ENV, WORKDIR, USER and deletions
# across layers, see test_harness_archives.py): modes, owners, setuid, a symlink and a hardlink made by RUN,
# ENTRYPOINT, CMD, EXPOSE. Few steps: each costs about a second on vfs.
DOCKERFILE = f"""\
FROM {BASE_IMAGE}
COPY files/ /srv/app/
RUN cd /srv/app && echo one > overwritten && mkdir -p gone/deep && echo x > gone/deep/f && echo bye > deleted \\
 && chmod 0640 data.txt && chown 1000:1000 data.txt && mkdir -m 0750 private
RUN cd /srv/app && echo two > overwritten && rm -r gone deleted && ln -s data.txt link && echo made > made \\
 && ln made twin && chmod 4755 tool.sh
EXPOSE 8080/tcp 9090/udp
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hello"]
"""


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ctx = tmp_path_factory.mktemp("ctx")
    (ctx / "files").mkdir()
    (ctx / "files" / "data.txt").write_text("payload\n")
    (ctx / "files" / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (ctx / "files" / "tool.sh").chmod(0o755)
    return ctx


def test_the_three_builders_builds_export_equal(
    dockerd: Dockerd, buildkit: BuildKit, buildah: Buildah, context: Path
) -> None:
    daemon_build = dockerd.build(context, DOCKERFILE, tag="harness/same:daemon")
    buildkit_build = buildkit.build(context, DOCKERFILE, tag="harness/same:buildkit")
    buildah_build = buildah.build(context, DOCKERFILE, tag="harness/same:buildah")
    assert daemon_build.steps == buildah_build.steps == 7
    assert buildkit_build.steps == 4  # FROM, COPY, RUN, RUN: EXPOSE, ENTRYPOINT and CMD are no BuildKit steps
    daemon_image = dockerd.export(daemon_build.ref)
    buildah_image = buildah.export(buildah_build.ref)
    assert daemon_image == buildah_image == buildkit.export(buildkit_build.ref)
    assert daemon_image.layers == buildah_image.layers == buildkit.export(buildkit_build.ref).layers == 4

    files = daemon_image.files
    assert "/srv/app/gone" not in files and "/srv/app/deleted" not in files
    assert files["/srv/app/overwritten"].sha256 == hashlib.sha256(b"two\n").hexdigest()
    assert files["/srv/app/link"].type == "symlink" and files["/srv/app/link"].link == "data.txt"
    # Within one layer the tar holds the first name (by path) as the file and later names as links to it.
    twin, made, data = files["/srv/app/twin"], files["/srv/app/made"], files["/srv/app/data.txt"]
    assert (made.type, twin.type, twin.link, twin.sha256) == ("file", "hardlink", "/srv/app/made", made.sha256)
    assert (data.mode, data.uid, data.gid) == (0o640, 1000, 1000)
    assert files["/srv/app/private"].type == "dir" and files["/srv/app/private"].mode == 0o750
    assert files["/srv/app/tool.sh"].mode == 0o4755
    config = daemon_image.config
    assert config.entrypoint == ("/bin/sh", "-c") and config.cmd == ("echo hello",)
    assert config.exposed_ports == ("8080/tcp", "9090/udp")


def test_export_equality_sees_a_one_byte_change(dockerd: Dockerd, context: Path) -> None:
    tiny = f"FROM {BASE_IMAGE}\nRUN echo two > /overwritten\n"
    before = dockerd.export(dockerd.build(context, tiny, tag="harness/tiny:before").ref)
    after = dockerd.export(dockerd.build(context, tiny.replace("two", "tw0"), tag="harness/tiny:after").ref)
    assert before != after
    assert before.diff(after).splitlines() == [f"- {before.files['/overwritten']}", f"+ {after.files['/overwritten']}"]


CACHED_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
ENV STAGE=deps
RUN echo "slow dependency step" > /deps
COPY files/data.txt /data.txt
RUN cat /deps /data.txt > /both
"""


def test_registry_round_trip_and_cache_from_after_prune(
    dockerd: Dockerd, buildah: Buildah, registry: Registry, busybox_image: BaseImage, context: Path
) -> None:
    ref = f"{registry.host}/harness/cache:latest"
    first = dockerd.build(context, CACHED_DOCKERFILE, tag=ref)
    assert (first.steps, first.cached) == (5, 0)
    pushed = dockerd.export(ref)
    dockerd.docker("push", ref)
    assert registry.tags("harness/cache") == ["latest"]

    dockerd.prune()
    # The classic builder's cache is the daemon's images: only the base image is left, under its old id.
    assert dockerd.docker("images", "--all", "--quiet", "--no-trunc").stdout.split() == [busybox_image.image_id]
    dockerd.docker("pull", ref)
    assert dockerd.export(ref) == pushed
    warm = dockerd.build(context, CACHED_DOCKERFILE, tag="harness/cache:warm", extra=["--cache-from", ref])
    assert (warm.steps, warm.cached) == (5, 4)
    assert warm.image_id == dockerd.image_id(ref)

    buildah.pull(f"docker://{ref}", "harness/cache:pulled")
    assert buildah.export("harness/cache:pulled") == pushed


def test_every_builder_counts_steps_and_cache_hits_in_multi_stage_builds(builder: Builder, context: Path) -> None:
    two_stages = f"FROM {BASE_IMAGE} AS a\nRUN echo a > /a\nFROM {BASE_IMAGE}\nCOPY --from=a /a /a\n"
    tag = f"harness/stages-{builder.name}"
    first = builder.build(context, two_stages.replace("echo a", f"echo {builder.name}"), tag=f"{tag}:1")
    again = builder.build(context, two_stages.replace("echo a", f"echo {builder.name}"), tag=f"{tag}:2")
    # BuildKit shows the FROM both stages share once: 3 steps, the FROM never counted as CACHED.
    expected = (3, 0, 3, 2) if builder.name == "buildkit" else (4, 0, 4, 2)
    assert (first.steps, first.cached, again.steps, again.cached) == expected, first.output + again.output
    assert again.image_id == first.image_id


def test_a_stage_named_in_another_case_is_found_by_the_docker_builders_only(builder: Builder, context: Path) -> None:
    """A builder difference: ``COPY --from=BUILD`` finds ``AS Build`` on the classic builder and BuildKit (names are
    case-insensitive), buildah 1.28 says no such stage. (``FROM Build`` fails on BuildKit: see tests/README.md.)"""
    dockerfile = (
        f"FROM {BASE_IMAGE} AS Build\nRUN echo {builder.name} > /b\nFROM {BASE_IMAGE}\nCOPY --from=BUILD /b /b\n"
    )
    built = builder.build(context, dockerfile, check=False)
    if builder.name == "buildah":
        assert built.returncode != 0 and "COPY --from=BUILD: no stage or image found with that name" in built.output
    else:
        assert built.returncode == 0 and "/b" in builder.export(built.ref).files, built.output


def test_from_a_stage_named_in_another_case_fails_on_buildkit_only(builder: Builder, context: Path) -> None:
    """A builder difference: ``FROM Base`` after ``AS Base`` builds on the classic builder and buildah; BuildKit 20.10
    reads it as an image reference, which must be lower-case."""
    dockerfile = f"FROM {BASE_IMAGE} AS Base\nRUN echo {builder.name} > /b\nFROM Base\nRUN cat /b\n"
    built = builder.build(context, dockerfile, check=False)
    if builder.name == "buildkit":
        assert built.returncode != 0 and 'failed to parse stage name "Base"' in built.output, built.output
    else:
        assert built.returncode == 0 and "/b" in builder.export(built.ref).files, built.output


ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
# What `ARG TARGETARCH` in a stage gives, without and with a global `ARG TARGETARCH` (no default) above the FROM.
TARGETARCH = {"classic": ("", ""), "buildkit": (ARCH, ""), "buildah": (ARCH, ARCH)}


def test_targetarch_in_a_stage_differs_between_builders(builder: Builder, context: Path) -> None:
    """A builder difference: the classic builder sets no TARGETARCH; BuildKit does, unless a global ``ARG
    TARGETARCH`` without a default empties it; buildah sets it either way."""
    stage = f'FROM {BASE_IMAGE}\nARG TARGETARCH\nRUN echo "$TARGETARCH" > /arch && echo {builder.name}\n'
    digests = []
    for dockerfile in (stage, "ARG TARGETARCH\n" + stage):
        digests.append(builder.export(builder.build(context, dockerfile).ref).files["/arch"].sha256)
    assert digests == [hashlib.sha256(f"{value}\n".encode()).hexdigest() for value in TARGETARCH[builder.name]]
