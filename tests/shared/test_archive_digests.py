"""Content digests (``digests=True``): each regular file's sha256 read as the walk passes it, the same from a file
(forked parallel scan), a stream and a gzip layer; off by default."""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

from dockit.archive.model import Entry
from dockit.archive.reader import read_image
from tests.shared.archive_builders import docker_archive, tar_bytes

BIG = 17 << 20  # two plain layers of this size pass the 32 MiB a forked parallel scan needs
FILES = {"a.bin": b"x" * BIG, "b.bin": b"x" * BIG, "c.txt": b"hello\n", "empty": b""}


def _archive(tmp_path: Path) -> Path:
    layers = [
        tar_bytes([("a.bin", FILES["a.bin"]), ("empty", b""), ("d", b"", {"type": b"5"})]),
        tar_bytes([("b.bin", FILES["b.bin"]), ("link", b"", {"type": b"1", "linkname": "b.bin"})]),
        gzip.compress(tar_bytes([("c.txt", FILES["c.txt"])]), 1),
    ]
    path = tmp_path / "img.tar"
    path.write_bytes(docker_archive(layers))
    return path


def _digests(image_layers: list[list[Entry]]) -> dict[str, str]:
    return {e.path: e.digest for entries in image_layers for e in entries}


def test_digests_from_a_file_a_stream_and_gzip_layers(tmp_path: Path) -> None:
    path = _archive(tmp_path)
    want = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
    want |= {"d": "", "link": ""}  # directories and links carry no data of their own
    from_file = read_image(path, digests=True)
    assert _digests([layer.entries for layer in from_file.layers]) == want
    from_stream = read_image(io.BytesIO(path.read_bytes()), digests=True)
    assert _digests([layer.entries for layer in from_stream.layers]) == want
    plain = read_image(path)
    assert all(e.digest == "" for layer in plain.layers for e in layer.entries)
    # the same headers either way: the digest is only a new last field
    assert [e[:-1] for e in from_file.layers[0].entries] == [e[:-1] for e in plain.layers[0].entries]


def test_entry_positional_construction_is_unchanged() -> None:
    e = Entry("a", "0", 1, 0o644, 0, 0, "", "a")
    assert (e.raw_link, e.digest) == ("", "")
