"""A link target belongs to links only: Docker 20.10 leaves stale link names on plain whiteout files."""

from __future__ import annotations

import tarfile
from pathlib import Path

from dockit.archive import read_image
from tests.shared.archive_builders import docker_archive, tar_bytes


def test_only_links_keep_their_target(tmp_path: Path) -> None:
    layer = tar_bytes(
        [
            ("app/data", b"x" * 10),
            ("app/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "app/data"}),
            ("app/sym", b"", {"type": tarfile.SYMTYPE, "linkname": "data"}),
            # what docker save wrote for the second whiteout of a layer on this machine
            ("app/.wh.obsolete.txt", b"", {"type": tarfile.REGTYPE, "linkname": "app/cache"}),
        ],
        fmt=tarfile.GNU_FORMAT,
    )
    archive = tmp_path / "image.tar"
    archive.write_bytes(docker_archive([layer]))
    (only,) = read_image(archive).layers
    assert {e.path: e.link for e in only.entries} == {
        "app/data": "",
        "app/hard": "app/data",
        "app/sym": "data",
        "app/.wh.obsolete.txt": "",
    }
