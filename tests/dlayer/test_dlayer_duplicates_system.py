"""Content digests on images the real builders made: ``--duplicates`` finds two identical files COPY'd to two paths
and the copy a later step made (then deleted: a hidden copy is stored too), not a file of the same size with other
bytes; ``diff --contents`` finds a step that wrote other bytes of the same size, which the header-only diff misses.
Expected figures come from the Dockerfile below, not from dlayer."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlayer import duplicates as dups
from dockit.archive import read_image, stack
from tests.dlayer.test_dlayer_findings_system import archive_of
from tests.system.docker_fixtures import Builder

pytestmark = pytest.mark.system
DLAYER = Path(sys.executable).with_name("dlayer")
SAME = b"same bytes\n" * 3000  # 33,000 bytes in same1.bin and same2.bin
OTHER = b"other byte\n" * 3000  # the same size, other bytes
DOCKERFILE = """\
FROM localhost/busybox:base
COPY same1.bin same2.bin other.bin /app/
RUN mkdir -p /srv && cp /app/same1.bin /srv/copy.bin
RUN rm /srv/copy.bin && echo {version} > /app/version
"""


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DLAYER, *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_duplicates_and_contents_diff(builder: Builder, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    for name, data in (("same1.bin", SAME), ("same2.bin", SAME), ("other.bin", OTHER)):
        (context / name).write_bytes(data)
    archives = []
    for version in ("1.4", "1.5"):  # the same size: only the contents differ
        tag = f"localhost/dlayer-dups:{builder.name}-{version}"
        builder.build(context, DOCKERFILE.format(version=version), tag=tag)
        archives.append(archive_of(builder, tag, tmp_path / f"{version}.tar"))

    doc = json.loads(run("-q", archives[0], "--duplicates", "-j", "-").stdout)["duplicates"]
    ours = [c for c in doc["contents"] if any(p["layer"] > 0 for p in c["paths"])]  # the base may hold its own
    assert ours == [
        {
            "digest": "sha256:" + hashlib.sha256(SAME).hexdigest(),
            "size": 33000,
            "copies": 3,
            "savedBytes": 66000,
            "fix": "a single COPY (or a hard link made in the step that writes it)",
            "paths": [
                {"layer": 1, "path": "/app/same1.bin", "hidden": False},
                {"layer": 1, "path": "/app/same2.bin", "hidden": False},
                {"layer": 2, "path": "/srv/copy.bin", "hidden": True},
            ],
        }
    ]
    assert doc["savedBytes"] == 66000 + sum(c["savedBytes"] for c in doc["contents"] if c not in ours)
    hashed_all = read_image(archives[0], digests=True)  # every file hashed, as before the partial hashing
    assert doc == dups.document(dups.find(hashed_all, stack(hashed_all.layers)))
    text = run("-q", archives[0], "--duplicates", "-l", "300").stdout
    assert text.index("Findings:") < text.index("Duplicates:")
    assert "66 kB  3 copies of 33 kB" in text and "[2] /srv/copy.bin (hidden)" in text
    assert "Duplicates" not in run("-q", archives[0]).stdout  # off by default

    plain = json.loads(run("diff", "-q", *archives, "-j", "-").stdout)["changes"]
    assert plain == []  # same type, size, mode, owner: the header-only diff sees nothing
    changes = json.loads(run("diff", "-q", "--contents", *archives, "-j", "-").stdout)["changes"]
    assert [(c["path"], c["change"], c["delta"], c["what"]) for c in changes] == [
        ("/app/version", "changed", 0, ["contents"])
    ]
