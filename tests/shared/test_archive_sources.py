"""dockit.archive.sources: archives compressed as a whole (gzip, zstd, xz; from a file and a pipe), and how a
SOURCE argument picks its source (prefixes, --source, auto)."""

from __future__ import annotations

import gzip
import lzma
import os
import subprocess
from pathlib import Path

import pytest
import zstandard

from dockit.archive import read_image
from dockit.archive.sources import looks_like_path, open_image, split_spec
from dockit.errors import ArchiveError, UsageError
from tests.dlayer.archives import TAG, archives
from tests.shared.test_archive_formats import figures

__all__ = ["archives"]
pytestmark = pytest.mark.system

COMPRESS = {"gzip": gzip.compress, "zstd": zstandard.ZstdCompressor().compress, "xz": lzma.compress}


@pytest.fixture(scope="module")
def compressed(archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """docker-save.tar and oci-gzip.tar (gzip layers inside a gzip archive) compressed whole, every way."""
    tmp = tmp_path_factory.mktemp("whole")
    out = {}
    for layout in ("docker-save", "oci-gzip"):
        data = archives[layout].read_bytes()
        for how, compress in COMPRESS.items():
            out[f"{layout}.{how}"] = tmp / f"{layout}.tar.{how}"
            out[f"{layout}.{how}"].write_bytes(compress(data))
    return out


@pytest.mark.parametrize("how", sorted(COMPRESS))
@pytest.mark.parametrize("layout", ["docker-save", "oci-gzip"])
def test_an_archive_compressed_whole_reads_like_the_plain_one(
    archives: dict[str, Path], compressed: dict[str, Path], layout: str, how: str
) -> None:
    plain = figures(read_image(archives[layout], tag=TAG))
    path = compressed[f"{layout}.{how}"]
    assert figures(read_image(path, tag=TAG)) == plain
    with subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE) as cat:
        assert cat.stdout is not None
        piped = read_image(cat.stdout, tag=TAG)  # a pipe: a stream, read in one pass
    assert figures(piped) == plain
    r, w = os.pipe()  # a pipe as a file descriptor (what stdin is for `docker save | gzip | dlayer`)
    with subprocess.Popen(["cat", str(path)], stdout=w) as cat:
        os.close(w)
        try:
            fifo_read = read_image(f"/dev/fd/{r}", tag=TAG)
        finally:
            os.close(r)
    assert figures(fifo_read) == plain


def test_a_truncated_compressed_archive_is_one_error(compressed: dict[str, Path], tmp_path: Path) -> None:
    data = compressed["docker-save.gzip"].read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError) as err:
        read_image(cut)
    assert str(err.value).startswith(f"{cut}:") and ("truncated" in str(err.value) or "corrupt" in str(err.value))
    bad = tmp_path / "bad.tar.xz"
    bad.write_bytes(data[:0] + lzma.compress(b"not a tar at all, just text" * 100))
    with pytest.raises(ArchiveError, match="not a tar"):
        read_image(bad)


def test_prefixes_and_source_choose_the_source() -> None:
    assert split_spec("nginx:latest") == ("auto", "nginx:latest")
    assert split_spec("nginx:latest", "docker") == ("docker", "nginx:latest")
    assert split_spec("podman://localhost/app:1") == ("podman", "localhost/app:1")
    assert split_spec("docker-archive:///tmp/a.tar") == ("archive", "/tmp/a.tar")
    assert split_spec("docker://x", "docker") == ("docker", "x")
    with pytest.raises(UsageError, match="prefix says docker, --source says archive"):
        split_spec("docker://x", "archive")
    with pytest.raises(UsageError, match="expected one of auto, archive, docker"):
        split_spec("x", "daemon")
    with pytest.raises(UsageError, match="nothing after the prefix"):
        split_spec("docker://")
    assert looks_like_path("./app") and looks_like_path("app.tar.gz") and not looks_like_path("nginx:1.27")


def test_auto_reads_a_missing_file_name_as_a_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such file"):
        open_image(str(tmp_path / "app.tar"))
    with pytest.raises(ArchiveError, match="no such file"):
        open_image("app.tar.gz")
