"""dockit.archive on broken and hostile input: one clear ArchiveError naming the problem, bounded work."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import pytest

from dockit.archive import read_image, tarstream
from dockit.errors import ArchiveError
from tests.shared.archive_builders import docker_archive, tar_bytes


def write(tmp_path: Path, data: bytes, name: str = "image.tar") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_both_ways(path: Path) -> str:
    """Read from the file and as a stream; both must fail the same way; return the message."""
    messages = []
    with pytest.raises(ArchiveError) as err:
        read_image(path)
    messages.append(str(err.value))
    with path.open("rb") as f, pytest.raises(ArchiveError) as err:
        read_image(f)
    messages.append(str(err.value))
    for m in messages:
        assert "\n" not in m
    return messages[0] + " | " + messages[1]


GOOD_LAYER = tar_bytes([("etc/", b""), ("etc/hello", b"hello\n")])


def test_a_good_synthetic_archive_reads(tmp_path: Path) -> None:
    image = read_image(write(tmp_path, docker_archive([GOOD_LAYER])))
    assert [e.path for e in image.layers[0].entries] == ["etc", "etc/hello"]


def test_garbage(tmp_path: Path) -> None:
    assert "not a tar (bad header checksum)" in read_both_ways(write(tmp_path, os.urandom(4096)))


def test_empty_file(tmp_path: Path) -> None:
    message = read_both_ways(write(tmp_path, b"", name="image.tar"))
    assert "image.tar: empty archive" in message and "image.tar: empty input" in message


def test_truncated_archive(tmp_path: Path) -> None:
    whole = docker_archive([tar_bytes([("big", os.urandom(20000))])])
    assert "truncated" in read_both_ways(write(tmp_path, whole[:6000]))


def test_truncated_header(tmp_path: Path) -> None:
    whole = docker_archive([GOOD_LAYER])
    assert "partial tar header" in read_both_ways(write(tmp_path, whole[:300]))


def test_missing_manifest(tmp_path: Path) -> None:
    data = tar_bytes([("abc/layer.tar", GOOD_LAYER)])
    assert "no manifest.json or index.json" in read_both_ways(write(tmp_path, data))


def test_manifest_not_json(tmp_path: Path) -> None:
    data = tar_bytes([("manifest.json", b"[{not json")])
    # not JSON-looking enough to keep? It starts with '[' so it is kept, then fails to parse
    assert "manifest.json is not valid JSON" in read_both_ways(write(tmp_path, data))


def test_missing_layer(tmp_path: Path) -> None:
    manifest = [{"Config": "config.json", "RepoTags": [], "Layers": ["nothere/layer.tar"]}]
    data = docker_archive([], manifest=manifest)
    assert "layer nothere/layer.tar is missing" in read_both_ways(write(tmp_path, data))


def test_missing_config(tmp_path: Path) -> None:
    manifest = [{"Config": "nope.json", "RepoTags": [], "Layers": []}]
    assert "missing image config nope.json" in read_both_ways(write(tmp_path, docker_archive([], manifest=manifest)))


def test_layer_that_is_not_a_tar(tmp_path: Path) -> None:
    assert "layer is not a tar" in read_both_ways(write(tmp_path, docker_archive([os.urandom(3000)])))
    json_layer = read_both_ways(write(tmp_path, docker_archive([b'{"not": "a layer"}'])))
    assert json_layer.count("/layer.tar: layer is not a tar") == 2


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    bad = gzip.compress(GOOD_LAYER)[:40] + os.urandom(200)
    assert "corrupt compressed layer" in read_both_ways(write(tmp_path, docker_archive([bad])))


def test_huge_size_in_a_layer_header(tmp_path: Path) -> None:
    layer = bytearray(tar_bytes([("f", b"x" * 10)], fmt=tarfile.USTAR_FORMAT))
    layer[124:136] = b"77777777777\0"  # 8 GiB claimed in a 10 KiB layer
    layer[148:156] = b"        "
    layer[148:156] = f"{sum(layer[:512]):06o}\0 ".encode()
    assert "truncated" in read_both_ways(write(tmp_path, docker_archive([bytes(layer)])))


def test_names_climbing_out_of_the_root(tmp_path: Path) -> None:
    layer = tar_bytes([("../../etc/passwd", b"root")])
    assert "climbs out of the root" in read_both_ways(write(tmp_path, docker_archive([layer])))


def test_huge_pax_record_is_refused(tmp_path: Path) -> None:
    layer = tar_bytes([("x" * 100 + "/" + "y" * (2 << 20), b"")])
    assert "tar metadata record" in read_both_ways(write(tmp_path, docker_archive([layer])))


def test_too_deep_a_path(tmp_path: Path) -> None:
    layer = tar_bytes([("a/" * 300 + "f", b"")])
    assert "nested more than 256 deep" in read_both_ways(write(tmp_path, docker_archive([layer])))


def test_header_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tarstream, "MAX_MEMBERS", 500)
    layer = tar_bytes([(f"f{i}", b"") for i in range(501)], fmt=tarfile.USTAR_FORMAT)
    assert "refusing a header bomb" in read_both_ways(write(tmp_path, docker_archive([layer])))


def test_symlink_loop_between_members(tmp_path: Path) -> None:
    manifest = json.dumps([{"Config": "c.json", "Layers": ["a/layer.tar"]}]).encode()
    data = tar_bytes(
        [
            ("a/layer.tar", b"", {"type": tarfile.SYMTYPE, "linkname": "../b/layer.tar"}),
            ("b/layer.tar", b"", {"type": tarfile.SYMTYPE, "linkname": "../a/layer.tar"}),
            ("c.json", b"{}"),
            ("manifest.json", manifest),
        ]
    )
    assert "symlink loop" in read_both_ways(write(tmp_path, data))


def test_bad_digest_in_an_oci_index(tmp_path: Path) -> None:
    index = {"schemaVersion": 2, "manifests": [{"digest": "sha256:../../etc", "mediaType": "x"}]}
    data = tar_bytes([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", json.dumps(index).encode())])
    assert "bad digest" in read_both_ways(write(tmp_path, data))


def test_worker_processes_report_errors_with_their_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockit.archive import store

    monkeypatch.setattr(store, "PARALLEL_BYTES", 0)  # two compressed layers: scanned in worker processes
    bad = gzip.compress(GOOD_LAYER)[:40] + os.urandom(200)
    path = write(tmp_path, docker_archive([gzip.compress(GOOD_LAYER), bad]))
    with pytest.raises(ArchiveError) as err:
        read_image(path)
    assert str(err.value).startswith(f"{path}:") and "corrupt compressed layer" in str(err.value)
    good = read_image(write(tmp_path, docker_archive([gzip.compress(GOOD_LAYER), gzip.compress(GOOD_LAYER)]), "ok.tar"))
    assert [len(layer.entries) for layer in good.layers] == [2, 2]


def test_json_members_have_a_total_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockit.archive import store

    monkeypatch.setattr(store, "MAX_DOCS", 10_000)
    data = tar_bytes([(f"m{i}.json", b"{" + b" " * 3000 + b"}") for i in range(5)])
    assert "of JSON members: refusing" in read_both_ways(write(tmp_path, data))


def _rechecksum(layer: bytearray, value: int) -> bytes:
    layer[148:156] = f"{value:06o}\0 ".encode()
    return bytes(layer)


def test_header_checksums_signed_accepted_wrong_refused(tmp_path: Path) -> None:
    layer = bytearray(tar_bytes([("café-ß", b"x")], fmt=tarfile.USTAR_FORMAT))
    header = bytearray(layer[:512])
    header[148:156] = b"        "
    unsigned = sum(header)
    signed = unsigned - 256 * sum(1 for b in header if b >= 128)
    assert signed != unsigned
    ok = read_image(write(tmp_path, docker_archive([_rechecksum(layer, signed)])))
    assert ok.layers[0].entries[0].path == "café-ß"  # old tar writers summed signed chars; Go accepts it too
    for wrong in (unsigned + 1, unsigned + 65521):  # 65521: what a sum modulo adler32's prime could not tell
        message = read_both_ways(write(tmp_path, docker_archive([_rechecksum(layer, wrong)]), f"w{wrong}.tar"))
        assert "not a tar (bad header checksum)" in message
