"""A link target belongs to links only: Docker 20.10 leaves stale link names on plain whiteout files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from dockit.archive import read_image


def _member(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def test_only_links_keep_their_target(tmp_path: Path) -> None:
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as t:
        _member(t, "app/data", b"x" * 10)
        _member(t, "app/hard", type=tarfile.LNKTYPE, linkname="app/data")
        _member(t, "app/sym", type=tarfile.SYMTYPE, linkname="data")
        # what docker save wrote for the second whiteout of a layer on this machine
        _member(t, "app/.wh.obsolete.txt", type=tarfile.REGTYPE, linkname="app/cache")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]},
        "history": [{"created_by": "/bin/sh -c #(nop) COPY dir:x in /app"}],
    }
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as t:
        _member(t, "layer/layer.tar", layer.getvalue())
        _member(t, "config.json", json.dumps(config).encode())
        manifest = [{"Config": "config.json", "RepoTags": ["t:latest"], "Layers": ["layer/layer.tar"]}]
        _member(t, "manifest.json", json.dumps(manifest).encode())
    (only,) = read_image(archive).layers
    assert {e.path: e.link for e in only.entries} == {
        "app/data": "",
        "app/hard": "app/data",
        "app/sym": "data",
        "app/.wh.obsolete.txt": "",
    }
