"""Memory stays bounded whatever the file size: 1 GiB at -P 16 under 64 MB peak RSS."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rget.runners import RGET
from tests.system.http_fixtures import Nginx

pytestmark = pytest.mark.system
TIME = shutil.which("time") or "/usr/bin/time"  # GNU time (Debian package "time"), not the shell keyword
GIB = 1024**3
MIB = 1024**2


def sparse_with_markers(path: Path, size: int) -> None:
    """A sparse file whose every MiB starts with its own offset: cheap to make, yet a misplaced range shows."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in range(0, size, MIB):
            f.seek(offset)
            f.write(offset.to_bytes(8, "little"))


def test_one_gib_at_16_connections_under_64_mb(nginx: Nginx, tmp_path: Path) -> None:
    src = nginx.root / "rget-1g.bin"
    if not src.exists():
        sparse_with_markers(src, GIB)
    out = tmp_path / "o"
    report = tmp_path / "rss"
    # GNU time forks rget from its own tiny process: wait4 straight from pytest would report pytest's peak too
    # (Linux carries the pre-exec high-water mark of a vfork'd child into its ru_maxrss).
    argv = [TIME, "-f", "%M", "-o", str(report), str(RGET), nginx.url("plain", src.name), "-o", str(out), "-P", "16"]
    assert subprocess.run([*argv, "-q"]).returncode == 0
    peak_mb = int(report.read_text().split()[-1]) / 1024  # kilobytes
    assert peak_mb < 64, f"peak RSS {peak_mb:.1f} MB"
    assert out.stat().st_size == GIB
    with open(out, "rb") as f:
        for offset in range(0, GIB, MIB):
            f.seek(offset)
            assert f.read(16) == offset.to_bytes(8, "little") + bytes(8), offset
    out.unlink()  # 1 GiB of page cache and disk: give it back at once


def test_stream_to_a_slow_reader_stays_under_64_mb(nginx: Nginx, tmp_path: Path) -> None:
    """-o - with a reader slower than the network: the ranges ahead of it spill to disk, memory stays flat."""
    import hashlib

    src = nginx.root / "rget-256m.bin"
    if not src.exists():
        sparse_with_markers(src, 256 * MIB)
    report = tmp_path / "rss"
    digest = tmp_path / "digest"
    reader = (
        "import hashlib, sys, time\n"
        "h = hashlib.sha256()\n"
        "while chunk := sys.stdin.buffer.read(1 << 20):\n"
        "    h.update(chunk); time.sleep(0.002)\n"
        f"open({str(digest)!r}, 'w').write(h.hexdigest())\n"
    )
    rget_cmd = f"{TIME} -f %M -o {report} {RGET} -q -P 16 {nginx.url('plain', src.name)} -o -"
    pipeline = f"set -o pipefail; {rget_cmd} | {sys.executable} -c {shlex.quote(reader)}"
    assert subprocess.run(["bash", "-c", pipeline], timeout=120).returncode == 0
    peak_mb = int(report.read_text().split()[-1]) / 1024
    assert peak_mb < 64, f"peak RSS {peak_mb:.1f} MB"
    h = hashlib.sha256()
    with open(src, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    assert digest.read_text() == h.hexdigest()
