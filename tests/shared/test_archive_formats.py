"""dockit.archive on real archives: every layout of the same image, written by buildah, skopeo, umoci and the
Docker daemon, must read into the same model, from a file and from a stream."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dockit.archive import LayerCache, list_images, read_image
from dockit.archive.model import Image
from dockit.archive.stacking import stack
from dockit.errors import ArchiveError, UsageError
from tests.dlayer.archives import LAYOUTS, TAG, WASTED_BY_HAND, archives
from tests.shared.archive_builders import docker_archive, tar_bytes

__all__ = ["archives"]  # the session fixture

pytestmark = pytest.mark.system


def figures(image: Image) -> dict[str, object]:
    """Everything about an image that must not depend on the layout it came in."""
    return {
        "diff_ids": [layer.diff_id for layer in image.layers],
        "sizes": [layer.size for layer in image.layers],
        "entries": [sorted(e[:7] for e in layer.entries) for layer in image.layers],
        "commands": [layer.command for layer in image.layers],
        "history": [(h.created_by, h.empty_layer) for h in image.history],
        "platform": str(image.platform),
        "wasted": stack(image.layers).wasted_bytes,
        "final": sorted((p, e[:7]) for p, (_, e) in stack(image.layers).final.items()),
    }


@pytest.fixture(scope="module")
def reference(archives: dict[str, Path]) -> dict[str, object]:
    return figures(read_image(archives["buildah-docker"], tag=TAG))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_reads_to_the_same_image(
    archives: dict[str, Path], reference: dict[str, object], layout: str
) -> None:
    image = read_image(archives[layout], tag=TAG)
    assert figures(image) == reference
    assert len(image.layers) == 4
    assert TAG in image.tags


@pytest.mark.parametrize("layout", [x for x in LAYOUTS if x != "oci-dir"])
def test_streaming_gives_the_same_image_as_seeking(
    archives: dict[str, Path], reference: dict[str, object], layout: str
) -> None:
    with subprocess.Popen(["cat", str(archives[layout])], stdout=subprocess.PIPE) as cat:
        assert cat.stdout is not None
        image = read_image(cat.stdout, tag=TAG)
    assert figures(image) == reference


def test_layer_compression_is_told_by_magic_bytes(archives: dict[str, Path]) -> None:
    expected = {"oci-gzip": "gzip", "oci-zstd": "zstd", "oci-plain": "none", "docker-save": "none", "umoci": "gzip"}
    for layout, compression in expected.items():
        image = read_image(archives[layout], tag=TAG)
        assert {layer.compression for layer in image.layers} == {compression}, layout


def test_history_skips_empty_layers_and_keeps_created_by(archives: dict[str, Path]) -> None:
    image = read_image(archives["docker-save"])
    assert [h.empty_layer for h in image.history].count(True) == 3  # ENV, WORKDIR, CMD
    assert image.layers[1].history is not None
    assert image.layers[1].history.created_by.startswith("/bin/sh -c mkdir -p /app/data /app/cache")
    assert image.layers[1].command.startswith("mkdir -p /app/data /app/cache")
    assert image.layers[3].command.startswith("rm -rf /app/data && mkdir /app/data")


def test_wasted_bytes_match_the_hand_count(archives: dict[str, Path]) -> None:
    result = stack(read_image(archives["oci-zstd"]).layers)
    assert result.wasted_bytes == WASTED_BY_HAND
    assert {h.entry.path for h in result.hidden if h.how == "deleted" and h.entry.size} == {
        "app/data/big.bin",
        "app/data/small.txt",
        *(f"app/cache/f{i}" for i in range(1, 6)),
    }
    # small.txt: 6 bytes overwritten by layer 2, whose 200000 bytes layer 3 deletes with the directory
    hidden = sorted((h.layer, h.by, h.how) for h in result.hidden if h.entry.path == "app/data/small.txt")
    assert hidden == [(1, 2, "overwritten"), (2, 3, "deleted")]


def test_squashed_image_has_the_final_filesystem_of_the_layered_one(archives: dict[str, Path]) -> None:
    layered = stack(read_image(archives["docker-save"]).layers).final
    squashed_image = read_image(archives["squashed"])
    assert len(squashed_image.layers) == 1
    squashed = stack(squashed_image.layers).final

    def files(final: dict[str, tuple[int, object]]) -> dict[str, tuple[str, int]]:
        return {p: (e.type, e.size) for p, (_, e) in final.items() if e.type != "5"}  # type: ignore[attr-defined]

    assert files(squashed) == files(layered)


def test_two_images_are_listed_and_chosen_by_tag(archives: dict[str, Path]) -> None:
    refs = list_images(archives["two-images"])
    assert sorted(r.tags for r in refs) == [(TAG,), (TAG + "-squashed",)]
    with pytest.raises(UsageError) as err:
        read_image(archives["two-images"])
    assert "2 images" in str(err.value) and TAG + "-squashed" in str(err.value)
    assert len(read_image(archives["two-images"], tag=TAG + "-squashed").layers) == 1
    assert len(read_image(archives["two-images"], tag=TAG, platform="linux/amd64").layers) == 4
    with pytest.raises(UsageError, match=r"no image matches tag .* and platform linux/arm64"):
        read_image(archives["two-images"], tag=TAG, platform="linux/arm64")


def test_same_image_under_two_names_is_one_image(archives: dict[str, Path]) -> None:
    image = read_image(archives["umoci"])  # umoci tagged it twice
    assert set(image.tags) == {TAG, "extra"}


def test_docker25_json_blobs_are_not_layers(archives: dict[str, Path]) -> None:
    image = read_image(archives["docker25"])
    assert image.format == "docker-archive (Docker 25+ OCI)"
    assert all(layer.source.startswith("blobs/sha256/") for layer in image.layers)


def test_umoci_members_are_dot_slash_prefixed(archives: dict[str, Path]) -> None:
    with tarfile.open(archives["umoci"]) as tar:
        assert all(name.startswith(".") for name in tar.getnames())
    assert read_image(archives["umoci"], tag="extra").layers[0].entries


@pytest.mark.parametrize("layout", ["docker-save", "oci-gzip"])
def test_reading_from_stdin_via_dash(archives: dict[str, Path], layout: str, tmp_path: Path) -> None:
    """'-' is stdin: redirected from a file (read by seeking), through a pipe (data spliced away), a FIFO path."""
    code = (
        "import json, sys, dockit.archive as a; print(json.dumps([x.size for x in a.read_image(sys.argv[1]).layers]))"
    )
    want = [layer.size for layer in read_image(archives[layout]).layers]
    with archives[layout].open("rb") as f:
        out = subprocess.run([sys.executable, "-c", code, "-"], stdin=f, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == want
    with subprocess.Popen(["cat", str(archives[layout])], stdout=subprocess.PIPE) as cat:
        out = subprocess.run([sys.executable, "-c", code, "-"], stdin=cat.stdout, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == want
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with subprocess.Popen(["sh", "-c", f"cat {archives[layout]} > {fifo}"]) as writer:
        out = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True)
    assert writer.returncode == 0 and out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == want


def test_oci_directory_needs_an_index(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"no index\.json"):
        read_image(tmp_path)


def test_a_path_that_cannot_be_opened_is_one_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s.sock"))
        with pytest.raises(ArchiveError, match=r"s\.sock: No such device or address$"):
            read_image(tmp_path / "s.sock")


def test_an_empty_path_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^empty archive path"):
        read_image("")


def test_oci_directory_with_stray_files(
    archives: dict[str, Path], reference: dict[str, object], tmp_path: Path
) -> None:
    layout = tmp_path / "oci"
    shutil.copytree(archives["oci-dir"], layout)
    (layout / "blobs" / "README").write_text("not an algorithm\n")
    (layout / "blobs" / "sha256" / "notes").mkdir()
    assert figures(read_image(layout, tag=TAG)) == reference


def test_worker_processes_give_the_same_image(
    archives: dict[str, Path], reference: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockit.archive import store

    monkeypatch.setattr(store, "PARALLEL_BYTES", 0)
    for layout in ("oci-gzip", "oci-zstd", "oci-dir"):
        assert figures(read_image(archives[layout], tag=TAG)) == reference


def test_multi_platform_index_is_chosen_by_arch(archives: dict[str, Path]) -> None:
    refs = list_images(archives["multi-arch"])
    assert sorted(str(r.platform) for r in refs) == ["linux/amd64", "linux/arm64"]
    with pytest.raises(UsageError, match=r"2 images; choose with --tag/--arch: multi \(linux/amd64\)"):
        read_image(archives["multi-arch"])
    for wanted in ("arm64", "linux/arm64"):
        image = read_image(archives["multi-arch"], platform=wanted)
        assert str(image.platform) == "linux/arm64" and image.tags == ["multi"]
        assert [e.path for e in image.layers[0].entries] == ["hello.txt"]
    with pytest.raises(UsageError, match="no image matches platform linux/s390x"):
        read_image(archives["multi-arch"], platform="linux/s390x")


def test_stdin_read_from_where_the_shell_left_it(archives: dict[str, Path], tmp_path: Path) -> None:
    """``{ read -n 3 x; dlayer; } < file``: a file is read from its current offset, a pipe from what is left."""
    code = "import json, dockit.archive as a; print(json.dumps([x.size for x in a.read_image('-').layers]))"
    want = [layer.size for layer in read_image(archives["docker-save"]).layers]
    prefixed = tmp_path / "prefixed.tar"
    prefixed.write_bytes(b"abc" + archives["docker-save"].read_bytes())
    reader = f'{{ read -r -n 3 skip; {sys.executable} -c "{code}"; }}'
    for feed in (f"< {prefixed}", f"< <(cat {prefixed})"):
        out = subprocess.run(["bash", "-c", f"{reader} {feed}"], capture_output=True, text=True)
        assert out.returncode == 0, (feed, out.stderr)
        assert json.loads(out.stdout) == want, feed


def test_a_layer_cache_hands_back_what_another_layout_read(archives: dict[str, Path]) -> None:
    """``dlayer diff``'s second read: a layer whose diff id the cache holds is not scanned again (its entries are
    the very list the first read made), and the image is equal to one read without the cache, in every layout; a
    stream reads its blobs anyway, and a cache for other digests settings is left alone."""
    cache = LayerCache()
    first = read_image(archives["buildah-docker"], tag=TAG, cache=cache)
    assert {d: c.entries for d, c in cache.entries.items()} == {layer.diff_id: layer.entries for layer in first.layers}
    for layout in LAYOUTS:
        again = read_image(archives[layout], tag=TAG, cache=cache)
        assert again == read_image(archives[layout], tag=TAG)
        assert all(a.entries is b.entries for a, b in zip(again.layers, first.layers, strict=True))
    with subprocess.Popen(["cat", str(archives["oci-gzip"])], stdout=subprocess.PIPE) as cat:
        assert cat.stdout is not None
        streamed = read_image(cat.stdout, tag=TAG, cache=cache)
    assert streamed.layers[0].entries == first.layers[0].entries
    hashed = read_image(archives["oci-gzip"], tag=TAG, digests=True, cache=cache)
    assert hashed.layers[0].entries is not first.layers[0].entries
    assert all(e.digest for e in hashed.layers[0].entries if e.type == "0")
    assert all(e.digest == "" for cached in cache.entries.values() for e in cached.entries)


def test_a_blob_whose_size_belies_its_cached_diff_id_is_scanned(tmp_path: Path) -> None:
    """B's config claims, for a layer at another position, the diff id of A's layer; B's blob is larger (an
    uncompressed blob is the very tar its diff id hashes), or gzip saying another uncompressed size in its
    trailer: B's layer is scanned, not taken from the cache. A lie of the same size is trusted (diff ids are the
    configs' word, as docker and skopeo take it)."""
    l1 = tar_bytes([("app/f", b"aaaa")])
    l0 = tar_bytes([("base", b"base")])
    x = tar_bytes([("app/f", b"bbbb"), ("app/evil", b"e" * 20000)])  # past the 10 KiB record both tars fill
    a = tmp_path / "A.tar"
    a.write_bytes(docker_archive([l1]))
    rootfs = {"type": "layers", "diff_ids": [_diff_id(l0), _diff_id(l1)]}
    lie = {"os": "linux", "architecture": "amd64", "rootfs": rootfs, "history": [{"created_by": "s"}] * 2}
    for blob in (x, gzip.compress(x)):
        b = tmp_path / "B.tar"
        b.write_bytes(docker_archive([l0, blob], config=lie))
        cache = LayerCache()
        read_image(a, cache=cache)
        got = read_image(b, cache=cache)
        assert got == read_image(b)
        assert [e.path for e in got.layers[1].entries] == ["app/f", "app/evil"]


def _diff_id(layer: bytes) -> str:
    return "sha256:" + hashlib.sha256(layer).hexdigest()
