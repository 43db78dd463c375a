"""The harness itself: both builders agree, the registry round-trips, the daemon's cache survives a prune via a pull."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.docker_fixtures import BASE_IMAGE, Buildah, Dockerd, Registry

pytestmark = pytest.mark.system

# Everything the export compares: a deleted file and directory, an overwritten file, a symlink, a hardlink, modes,
# owners, and every config field a Dockerfile sets.
DOCKERFILE = f"""\
FROM {BASE_IMAGE}
LABEL org.example.purpose="harness test" org.example.n=1
ENV APP_HOME=/srv/app MODE=test
WORKDIR /srv/app
COPY files/ ./
RUN echo one > overwritten && mkdir -p gone/deep && echo x > gone/deep/f && echo bye > deleted \\
 && chmod 0640 data.txt && chown 1000:1000 data.txt && mkdir -m 0750 private
RUN echo two > overwritten && rm -r gone deleted && ln -s data.txt link && echo made > made && ln made twin \\
 && chmod 4755 /srv/app/tool.sh
USER app
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


def test_daemon_and_buildah_builds_export_equal(dockerd: Dockerd, buildah: Buildah, context: Path) -> None:
    daemon_build = dockerd.build(context, DOCKERFILE, tag="harness/same:daemon")
    buildah_build = buildah.build(context, DOCKERFILE, tag="harness/same:buildah")
    assert daemon_build.steps == buildah_build.steps == 11
    daemon_image = dockerd.export(daemon_build.ref)
    buildah_image = buildah.export(buildah_build.ref)
    assert daemon_image == buildah_image

    files = daemon_image.files
    assert "/srv/app/gone" not in files and "/srv/app/deleted" not in files
    assert files["/srv/app/overwritten"].size == 4
    assert files["/srv/app/link"].type == "symlink" and files["/srv/app/link"].link == "data.txt"
    # Within one layer the tar holds the first name (by path) as the file and later names as links to it.
    hard, made, data = files["/srv/app/twin"], files["/srv/app/made"], files["/srv/app/data.txt"]
    assert (hard.type, hard.link, hard.sha256) == ("hardlink", "/srv/app/made", made.sha256)
    assert (data.mode, data.uid, data.gid) == (0o640, 1000, 1000)
    assert files["/srv/app/private"].type == "dir" and files["/srv/app/private"].mode == 0o750
    assert files["/srv/app/tool.sh"].mode == 0o4755
    config = daemon_image.config
    assert config.labels == {"org.example.purpose": "harness test", "org.example.n": "1"}
    assert config.env[-2:] == ("APP_HOME=/srv/app", "MODE=test")
    assert (config.workdir, config.user) == ("/srv/app", "app")
    assert config.entrypoint == ("/bin/sh", "-c") and config.cmd == ("echo hello",)
    assert config.exposed_ports == ("8080/tcp", "9090/udp")


def test_export_equality_sees_a_one_byte_change(dockerd: Dockerd, context: Path) -> None:
    before = dockerd.export(dockerd.build(context, DOCKERFILE, tag="harness/same:daemon").ref)
    changed = DOCKERFILE.replace("echo two", "echo tw0")
    after = dockerd.export(dockerd.build(context, changed, tag="harness/changed:daemon").ref)
    assert before != after
    assert before.diff(after).splitlines() == [
        f"- {before.files['/srv/app/overwritten']}",
        f"+ {after.files['/srv/app/overwritten']}",
    ]


def test_export_equality_ignores_layering(buildah: Buildah, context: Path) -> None:
    layered = buildah.build(context, DOCKERFILE, tag="harness/layers:many")
    squashed = buildah.build(context, DOCKERFILE, tag="harness/layers:one", extra=["--squash"])
    many, one = buildah.export(layered.ref), buildah.export(squashed.ref)
    assert many == one
    assert one.layers == 1 < many.layers


CACHED_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
ENV STAGE=deps
RUN echo "slow dependency step" > /deps && sleep 1
COPY files/data.txt /data.txt
RUN cat /deps /data.txt > /both
"""


def test_registry_round_trip_and_cache_from_after_prune(
    dockerd: Dockerd, buildah: Buildah, registry: Registry, context: Path
) -> None:
    ref = f"{registry.host}/harness/cache:latest"
    first = dockerd.build(context, CACHED_DOCKERFILE, tag=ref)
    assert (first.steps, first.cached) == (5, 0)
    pushed = dockerd.export(ref)
    dockerd.docker("push", ref)
    assert registry.tags("harness/cache") == ["latest"]

    dockerd.prune()
    assert dockerd.docker("image", "inspect", ref, check=False).returncode != 0
    cold = dockerd.build(context, CACHED_DOCKERFILE, tag="harness/cache:cold")
    assert (cold.steps, cold.cached) == (5, 0)

    dockerd.prune()
    dockerd.docker("pull", ref)
    assert dockerd.export(ref) == pushed
    warm = dockerd.build(context, CACHED_DOCKERFILE, tag="harness/cache:warm", extra=["--cache-from", ref])
    assert (warm.steps, warm.cached) == (5, 4)
    assert warm.image_id == dockerd.image_id(ref)

    buildah.pull(f"docker://{ref}", "harness/cache:pulled")
    assert buildah.export("harness/cache:pulled") == pushed
