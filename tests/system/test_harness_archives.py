"""Every fixture archive holds what make_archives.py intended: read with tarfile and json only, never with dockit."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tests.system.docker_fixtures import CACHE, BaseImage
from tests.system.fixtures import make_archives
from tests.system.fixtures.make_archives import ARCHIVES, Archives
from tests.system.images import read_docker_archive

pytestmark = pytest.mark.system

# How each format stores its layer blobs (by magic bytes, not by what the manifest claims).
COMPRESSION = {
    "docker-save": "tar",
    "docker-save-multi": "tar",
    "buildah-docker": "tar",
    "squashed": "tar",
    "oci-gzip": "gzip",
    "oci-zstd": "zstd",
    "oci-plain": "tar",
    "oci-dir": "gzip",
    "umoci": "gzip",
}
# The archives written from buildah's one build: the very same layers, byte for byte.
FROM_BUILDAH = ("buildah-docker", "oci-gzip", "oci-zstd", "oci-plain", "oci-dir", "umoci")


@dataclass
class Image:
    """One image found in an archive: its names (RepoTags, or the ref.name), layer blobs in order, config."""

    names: list[str]
    blobs: list[tuple[str | None, bytes]]  # (digest the archive names it by, if any; the blob)
    config: dict[str, Any]


def members(path: Path) -> dict[str, bytes]:
    """Every regular file of a tar (member names as written) or of a directory (relative paths)."""
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    out = {}
    with tarfile.open(path) as tar:
        for member in tar:
            stream = tar.extractfile(member) if member.isfile() or member.issym() else None
            if stream is not None:
                out[member.name] = stream.read()
    return out


def images_in(path: Path) -> list[Image]:
    """The images of a docker-archive (manifest.json) or of an OCI layout (index.json), with tarfile and json."""
    files = {name.removeprefix("./"): data for name, data in members(path).items()}
    if "manifest.json" in files:
        return [
            Image(
                entry["RepoTags"],
                [(None, files[layer]) for layer in entry["Layers"]],
                json.loads(files[entry["Config"]]),
            )
            for entry in json.loads(files["manifest.json"])
        ]

    def blob(digest: str) -> bytes:
        return files["blobs/sha256/" + digest.removeprefix("sha256:")]

    found = []
    for descriptor in json.loads(files["index.json"])["manifests"]:
        manifest = json.loads(blob(descriptor["digest"]))
        name = descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
        layers = [(layer["digest"], blob(layer["digest"])) for layer in manifest["layers"]]
        found.append(Image([name], layers, json.loads(blob(manifest["config"]["digest"]))))
    return found


def kind(blob: bytes) -> str:
    """What a layer blob is, by its magic bytes."""
    if blob[:2] == b"\x1f\x8b":
        return "gzip"
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if blob[257:262] == b"ustar":
        return "tar"
    return "unknown"


def uncompressed(blob: bytes) -> bytes:
    """The layer tar inside a blob, whatever its compression."""
    compression = kind(blob)
    if compression == "gzip":
        return gzip.decompress(blob)
    if compression == "zstd":
        data: bytes = zstandard.ZstdDecompressor().decompressobj().decompress(blob)
        return data
    return blob


def the_image(archives: Archives, name: str) -> Image:
    intended_name = next(iter(archives.intended[name].images))
    return next(i for i in images_in(archives[name]) if intended_name in i.names)


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_archive_holds_the_intended_images_and_layers(image_archives: Archives, name: str) -> None:
    intended = image_archives.intended[name]
    images = images_in(image_archives[name])
    assert len(images) == len(intended.images)
    for tag, layers in intended.images.items():
        (image,) = (i for i in images if tag in i.names)
        assert len(image.blobs) == layers, tag
    for image in images:
        assert len(image.config["rootfs"]["diff_ids"]) == len(image.blobs)
        assert sum(not h.get("empty_layer", False) for h in image.config["history"]) == len(image.blobs)


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_archive_history_is_the_dockerfiles_final_stage(image_archives: Archives, name: str) -> None:
    steps = image_archives.intended[name].history
    history = the_image(image_archives, name).config["history"]
    if steps is None:  # squashed: buildah keeps only some entries, each still one of the Dockerfile's
        every = make_archives.final_stage_steps()
        assert history and all(any(s.matches(h["created_by"]) for s in every) for h in history)
        return
    assert len(history) == len(steps)
    for step, entry in zip(steps, history, strict=True):
        assert step.matches(entry["created_by"]), (step.instruction, entry["created_by"])
        assert entry.get("empty_layer", False) is not step.layer, step.instruction


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_layer_blobs_are_compressed_as_the_format_says_and_match_their_digests(
    image_archives: Archives, name: str
) -> None:
    for image in images_in(image_archives[name]):
        assert {kind(blob) for _, blob in image.blobs} == {COMPRESSION[name]}
        for (digest, blob), diff_id in zip(image.blobs, image.config["rootfs"]["diff_ids"], strict=True):
            if digest is not None:
                assert digest == "sha256:" + hashlib.sha256(blob).hexdigest()
            assert diff_id == "sha256:" + hashlib.sha256(uncompressed(blob)).hexdigest()


def test_buildah_written_archives_hold_the_same_layers_and_config(image_archives: Archives) -> None:
    images = {name: the_image(image_archives, name) for name in FROM_BUILDAH}
    diff_ids = {name: image.config["rootfs"]["diff_ids"] for name, image in images.items()}
    assert len({tuple(d) for d in diff_ids.values()}) == 1, diff_ids
    configs = {name: json.dumps(image.config["config"], sort_keys=True) for name, image in images.items()}
    assert len(set(configs.values())) == 1, configs


def test_umoci_layout_tar_has_dot_slash_members(image_archives: Archives) -> None:
    with tarfile.open(image_archives["umoci"]) as tar:
        names = tar.getnames()
    assert "./index.json" in names and all(n == "." or n.startswith("./") for n in names)


def test_daemon_and_buildah_archives_hold_the_same_final_filesystem(image_archives: Archives) -> None:
    docker = read_docker_archive(image_archives["docker-save"])
    buildah = read_docker_archive(image_archives["buildah-docker"])
    squashed = read_docker_archive(image_archives["squashed"])
    assert docker == buildah
    assert squashed == buildah  # equality ignores layering
    assert (squashed.layers, buildah.layers) == (1, 5)
    files = docker.files
    # What the Dockerfile's last RUN did, worked out by hand.
    assert "/app/cache" not in files and "/app/obsolete.txt" not in files
    assert files["/app/etc/config"].size == len("v2 overwritten\n")
    assert (files["/app/config"].type, files["/app/config"].link) == ("symlink", "etc/config")
    assert (files["/app/hard-b"].type, files["/app/hard-b"].link) == ("hardlink", "/app/hard-a")
    assert files["/app/hard-b"].sha256 == hashlib.sha256(b"hard\n" * 600).hexdigest()
    numbers = files["/app/payload/docs/numbers.txt"]
    assert (numbers.uid, numbers.gid, numbers.size) == (1000, 1000, len("".join(f"{i}\n" for i in range(1, 2001))))
    assert files["/app/lib/libdemo.so"].size == 65536
    assert (docker.config.user, docker.config.workdir, docker.config.exposed_ports) == ("app", "/app", ("8080/tcp",))


def test_second_session_reuses_the_cache(image_archives: Archives, busybox_image: BaseImage) -> None:
    def no_daemons() -> Any:
        raise AssertionError("the archives are cached: no daemon should start")

    again = make_archives.cached(busybox_image, no_daemons, CACHE / "fixtures")
    assert again.root == image_archives.root and again.seconds == 0
    assert all(path.exists() for path in again.values())
