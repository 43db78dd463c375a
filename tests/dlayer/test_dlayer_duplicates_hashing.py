"""``--duplicates`` hashes only what can be a copy (dockit.archive.contents): the same report as hashing every
file, on an archive crafted so that sizes collide, first 64 KiB blocks collide while the rest differs, and a gzip
layer (hashed whole in its one pass) holds copies of plain files; and on every layout of the real fixture image."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlayer import duplicates as dups
from dockit.archive import read_image, stack
from dockit.archive.contents import DUPLICATES, FIRST_BLOCK
from dockit.archive.model import Image
from tests.dlayer.archives import LAYOUTS, TAG
from tests.shared.archive_builders import docker_archive, tar_bytes

DLAYER = Path(sys.executable).with_name("dlayer")
HEAD = b"h" * FIRST_BLOCK
FILES = {
    "a.bin": HEAD + b"a" * 1000,  # c.bin is a copy
    "b.bin": HEAD + b"b" * 1000,  # the same size and first block as a.bin, other bytes; e.bin (layer 1) is a copy
    "d.bin": b"d" * len(HEAD) + b"a" * 1000,  # the same size, another first block; g.bin (gzip) is a copy
    "p.bin": HEAD + b"p" * 3000,  # p and q: a size no gzip file has, the first block shared, no copy
    "q.bin": HEAD + b"q" * 3000,
    "r.bin": b"r" * (len(HEAD) + 3000),  # their size, its own first block: never read past that
    "hello": b"hello",  # small: hashed whole at once; h (gzip) is a copy
    "world": b"world",
    "unique.bin": b"u" * 12345,  # a size of its own: never read
}


def _archive(tmp_path: Path) -> Path:
    f = FILES
    layers = [
        tar_bytes([(n, f[n]) for n in ("a.bin", "b.bin", "d.bin", "p.bin", "q.bin", "r.bin", "hello", "world")]
                  + [("c.bin", f["a.bin"]), ("unique.bin", f["unique.bin"])]),
        tar_bytes([("e.bin", f["b.bin"]), ("link", b"", {"type": b"1", "linkname": "a.bin"})]),
        gzip.compress(tar_bytes([("g.bin", f["d.bin"]), ("h", f["hello"])]), 1),
    ]  # fmt: skip
    path = tmp_path / "crafted.tar"
    path.write_bytes(docker_archive(layers))
    return path


def _report(image: Image) -> dict[str, object]:
    return dups.document(dups.find(image, stack(image.layers)))


def test_partial_hashing_finds_what_hashing_everything_finds(tmp_path: Path) -> None:
    path = _archive(tmp_path)
    hashed_all = read_image(path, digests=True)
    partial = read_image(path, digests=DUPLICATES)
    assert _report(partial) == _report(hashed_all)
    groups = [[p["path"] for p in c["paths"]] for c in _report(partial)["contents"]]  # type: ignore[index]
    assert sorted(groups) == [["/a.bin", "/c.bin"], ["/b.bin", "/e.bin"], ["/d.bin", "/g.bin"], ["/hello", "/h"]]
    got = {e.path: e.digest for layer in partial.layers for e in layer.entries}
    want = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
    # hashed whole where a copy is possible, so every digest given is the real one; none where it is not
    assert {p: d for p, d in got.items() if d} == {p: want[p] for p in ("a.bin", "b.bin", "d.bin", "p.bin",
        "q.bin", "hello", "world")} | {"c.bin": want["a.bin"], "e.bin": want["b.bin"], "g.bin": want["d.bin"],
        "h": want["hello"]}  # fmt: skip
    assert got["r.bin"] == got["unique.bin"] == ""
    cli = subprocess.run([DLAYER, "-q", str(path), "--duplicates", "-j", "-"], capture_output=True, text=True)
    assert json.loads(cli.stdout)["duplicates"] == _report(hashed_all), cli.stderr


def test_every_layout_gives_the_full_hash_report(archives: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from dockit.archive import store

    monkeypatch.setattr(store, "PARALLEL_BYTES", 0)  # the forked workers send the offsets back (the crafted one: not)
    for layout in LAYOUTS:  # plain layers in a file and in a directory (oci-dir, oci-plain), gzip and zstd ones
        want = _report(read_image(archives[layout], tag=TAG, digests=True))
        assert _report(read_image(archives[layout], tag=TAG, digests=DUPLICATES)) == want, layout


def test_a_layer_blob_listed_twice_stores_its_files_twice(tmp_path: Path) -> None:
    # an image may list one blob at two positions (the same diff id twice): the archive holds it once, the image
    # stores (and a pull writes) it twice, so each of its files is a copy of itself
    big, small = b"x" * 200_000, b"small file"  # one past FIRST_BLOCK (the partial hash), one hashed whole at once
    l1 = tar_bytes([("big.bin", big), ("small", small)])
    l2 = tar_bytes([("other", b"hello world")])
    path = tmp_path / "twice.tar"
    path.write_bytes(docker_archive([l1, l2, l1]))
    want = _report(read_image(path, digests=True))
    assert _report(read_image(path, digests=DUPLICATES)) == want
    assert want["savedBytes"] == len(big) + len(small)
    # the top position's copies are what the final filesystem shows; only the lower ones are hidden
    assert [[(p["layer"], p["hidden"]) for p in c["paths"]] for c in want["contents"]] == [  # type: ignore[index]
        [(0, True), (2, False)], [(0, True), (2, False)]]  # fmt: skip
    cli = subprocess.run([DLAYER, "-q", str(path), "--duplicates", "-j", "-"], capture_output=True, text=True)
    assert json.loads(cli.stdout)["duplicates"] == want, cli.stderr
    text = subprocess.run([DLAYER, "-q", str(path), "--duplicates"], capture_output=True, text=True).stdout
    assert "Duplicates: 2 contents stored more than once; storing each once saves 200 kB:" in text, text
