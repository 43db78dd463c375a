"""One small image, built once per machine with buildah, written in every archive layout dlayer reads.

Until the harness's ``image_archives`` fixture covers every layout, these are dlayer's real archives: buildah builds
the image from the harness's busybox base; buildah, skopeo, umoci and the private Docker daemon write it out. One
layout no tool here writes is derived from real output by re-packing blobs without changing a byte of any layer
tar: Docker 25+'s ``docker save`` (skopeo's uncompressed OCI layout plus manifest.json; the Debian daemon is 20.10).

The image (sizes are fixed, contents random) exercises what matters: a deleted file, a file overwritten twice, a
deleted directory, a directory replaced in the same layer, an opaque-free recreate, empty_layer history entries.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TAG = "localhost/dlayer-fixture:latest"
CONTAINERFILE = """\
FROM localhost/busybox:base
ENV FOO=bar
RUN mkdir -p /app/data /app/cache && head -c 300000 /dev/urandom > /app/data/big.bin \
 && echo hello > /app/data/small.txt && for i in 1 2 3 4 5; do head -c 1000 /dev/zero > /app/cache/f$i; done \
 && ln -s data/big.bin /app/link
RUN rm /app/data/big.bin && head -c 200000 /dev/urandom > /app/data/small.txt && rm -rf /app/cache
WORKDIR /app
RUN rm -rf /app/data && mkdir /app/data && echo new > /app/data/n.txt && chmod 4755 /app/data/n.txt \
 && mkdir -p /app/deep/a/b/c/d/e/f/g/h/i && head -c 7000 /dev/zero > /app/deep/a/b/c/d/e/f/g/h/i/leaf
CMD ["/bin/sh"]
"""
# The bytes that later layers hide, worked out by hand from CONTAINERFILE: big.bin (deleted), small.txt twice
# (6 bytes overwritten, then 200000 deleted with /app/data), /app/cache's five 1000-byte files (deleted).
WASTED_BY_HAND = 300_000 + 6 + 200_000 + 5 * 1000
LAYOUTS = (
    "docker-save",
    "buildah-docker",
    "docker25",
    "oci-gzip",
    "oci-zstd",
    "oci-plain",
    "oci-dir",
    "umoci",
)
MULTI_ARCH = "FROM scratch\nCOPY hello.txt /hello.txt\n"  # COPY only: builds for any arch without emulation
RECIPE = hashlib.sha256((CONTAINERFILE + MULTI_ARCH + "|".join(LAYOUTS) + "v4").encode()).hexdigest()[:12]
CACHE = REPO / ".cache" / "dlayer" / RECIPE


def paths() -> dict[str, Path]:
    """Where each layout lives (made or not); ``squashed`` is the same Containerfile built as one layer."""
    out = {name: CACHE / (name if name == "oci-dir" else f"{name}.tar") for name in LAYOUTS}
    out["squashed"] = CACHE / "squashed.tar"
    out["two-images"] = CACHE / "two-images.tar"
    out["multi-arch"] = CACHE / "multi-arch.tar"
    return out


def ready() -> bool:
    """Whether every archive is already cached on this machine."""
    return (CACHE / "done").exists()


def build(buildah: Any, dockerd: Callable[[], Any]) -> dict[str, Path]:
    """Build the image and write every layout under CACHE (atomically: a half-made set is never used)."""
    tmp = Path(tempfile.mkdtemp(prefix="dlayer-fixture-", dir=REPO / ".cache"))
    ctx = tmp / "ctx"
    ctx.mkdir()
    b = buildah
    b.build(ctx, CONTAINERFILE, tag=TAG)
    b.build(ctx, CONTAINERFILE, tag=TAG + "-squashed", layers=False, extra=["--squash"])
    out = tmp / "out"
    out.mkdir()
    push = b.push
    push(TAG, f"docker-archive:{out / 'buildah-docker.tar'}:{TAG}")
    push(TAG, f"oci-archive:{out / 'oci-gzip.tar'}:{TAG}")
    push(TAG, f"oci-archive:{out / 'oci-zstd.tar'}:{TAG}", "--compression-format", "zstd")
    push(TAG + "-squashed", f"docker-archive:{out / 'squashed.tar'}:{TAG}-squashed")
    skopeo = shutil.which("skopeo") or "skopeo"
    subprocess.run(
        [skopeo, "copy", "-q", b.storage_ref(TAG), f"oci:{out / 'oci-dir'}:{TAG}"],
        check=True,
        env=b.env,
    )
    # umoci: its layout tar has "./"-prefixed members; umoci rewrites index.json when it tags.
    layout = tmp / "umoci-layout"
    shutil.copytree(out / "oci-dir", layout)
    subprocess.run([shutil.which("umoci") or "umoci", "tag", "--image", f"{layout}:{TAG}", "extra"], check=True)
    subprocess.run(["tar", "-C", str(layout), "-cf", str(out / "umoci.tar"), "."], check=True)
    # a two-platform OCI index (buildah manifest push --all): amd64 and arm64 images under one name
    multi = tmp / "multi"
    multi.mkdir()
    (multi / "hello.txt").write_text("hello\n")
    b.buildah("manifest", "create", "localhost/dlayer-multi:list")
    for arch in ("amd64", "arm64"):
        b.build(multi, MULTI_ARCH, tag=f"localhost/dlayer-multi:{arch}", layers=False, extra=["--arch", arch])
        b.buildah("manifest", "add", "localhost/dlayer-multi:list", f"localhost/dlayer-multi:{arch}")
    b.buildah(
        "manifest", "push", "-q", "--all", "localhost/dlayer-multi:list", f"oci-archive:{out / 'multi-arch.tar'}:multi"
    )
    plain = ["--dest-oci-accept-uncompressed-layers"]  # containers-storage holds them uncompressed
    subprocess.run(
        [skopeo, "copy", "-q", *plain, b.storage_ref(TAG), f"oci-archive:{out / 'oci-plain.tar'}:{TAG}"],
        check=True,
        env=b.env,
    )
    _docker25(out / "oci-plain.tar", out / "docker25.tar")
    daemon = dockerd()
    daemon.load(out / "buildah-docker.tar")
    daemon.docker("tag", TAG, "localhost/dlayer-fixture:second")
    daemon.docker("save", "-o", str(out / "docker-save.tar"), TAG)
    daemon.load(out / "squashed.tar")
    daemon.docker("save", "-o", str(out / "two-images.tar"), TAG, TAG + "-squashed")
    (out / "done").write_text(RECIPE)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    if CACHE.exists():
        shutil.rmtree(CACHE)
    out.rename(CACHE)
    shutil.rmtree(tmp, ignore_errors=True)
    return paths()


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar if m.isfile()}


def _write(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))


def _docker25(src: Path, dst: Path) -> None:
    """Docker 25+'s docker save: the uncompressed OCI layout plus manifest.json naming blobs/sha256/<diffid>."""
    members = _members(src)
    index = json.loads(members["index.json"])
    manifest = json.loads(members["blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]])
    config_name = "blobs/sha256/" + manifest["config"]["digest"].split(":")[1]
    layers = ["blobs/sha256/" + layer["digest"].split(":")[1] for layer in manifest["layers"]]
    docker_manifest = [{"Config": config_name, "RepoTags": [TAG], "Layers": layers}]
    # Docker 25 also writes v1 "json" blobs that are not layers: the reader must not take them for layers.
    members["blobs/sha256/" + hashlib.sha256(b'{"id":"v1"}').hexdigest()] = b'{"id":"v1"}'
    members["manifest.json"] = json.dumps(docker_manifest).encode()
    members["repositories"] = json.dumps({TAG.rsplit(":", 1)[0]: {"latest": layers[-1][13:]}}).encode()
    # Docker writes the metadata last; keep blobs first so streaming readers must join at the end.
    ordered = {k: v for k, v in members.items() if k.startswith("blobs/")}
    ordered.update({k: v for k, v in members.items() if not k.startswith("blobs/")})
    _write(dst, ordered)


@pytest.fixture(scope="session")
def archives(request: pytest.FixtureRequest) -> dict[str, Path]:
    """Layout name -> archive path; builds them (buildah, skopeo, umoci, dockerd) only when not cached.

    Import it into a test module (``from tests.dlayer.archives import archives``) to use it outside tests/dlayer.
    """
    from tests.system.docker_fixtures import locked

    with locked(CACHE.parent / ".lock"):  # concurrent sessions wait: one builds, the others find it made
        if ready():
            return paths()
        return build(request.getfixturevalue("buildah"), lambda: request.getfixturevalue("dockerd"))
