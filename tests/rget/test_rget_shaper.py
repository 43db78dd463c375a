"""The userland shaper, validated with curl, and rget's work stealing through it (one straggler connection)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.rget.runners import rget
from tests.rget.servers import pattern
from tests.system.http_fixtures import Nginx
from tests.system.web_fixtures import start_shaper

pytestmark = pytest.mark.system
MIB = 1024 * 1024


def test_curl_gets_the_cap_and_its_first_byte_one_rtt_late(nginx: Nginx) -> None:
    src = nginx.root / "rget-shaper.bin"
    if not src.exists():
        src.write_bytes(pattern(3 * MIB, seed=13))
    with start_shaper(nginx.ports["plain"], rtt=0.1, rate="4m") as port:
        out = subprocess.run(
            [
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{time_starttransfer} %{speed_download}",
                f"http://127.0.0.1:{port}/{src.name}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
    first_byte, speed = float(out[0]), float(out[1]) / MIB
    assert first_byte >= 0.1, first_byte  # the request's way there and the answer's way back
    assert 2.8 <= speed <= 4.05, speed  # one stream gets the cap (a loaded machine loses some), never more


def test_a_straggler_connection_no_longer_decides_the_total(nginx: Nginx, tmp_path: Path) -> None:
    src = nginx.root / "rget-straggle.bin"
    if not src.exists():
        src.write_bytes(pattern(24 * MIB, seed=14))
    # one connection in four at an eighth of the cap: without stealing, its 6 MiB block alone takes 12 s; a second
    # into it, the straggler is replaced (a new connection, here the shaper's fifth: a fast one) and the ranges of
    # the connections that finish first are split to help
    with start_shaper(nginx.ports["plain"], rtt=0.02, rate="4m", straggle=4, fraction=0.125) as port:
        result = rget(f"http://127.0.0.1:{port}/{src.name}", "-o", tmp_path / "o", "-P", "4", "-v")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == src.read_bytes()
    assert "split to keep every connection busy" in result.stderr
    # rates are measured from the first read: bytes that arrived while Python was starting count a little extra
    assert re.search(
        r" 0\.[4-9] MiB/s, the fastest connection [3-6]\.\d MiB/s: replacing this connection", result.stderr
    )
    assert "1 slow connections replaced" in result.stderr
    took = float(re.search(r"saved .* in ([0-9.]+) s", result.stderr).group(1))  # type: ignore[union-attr]
    assert took < 5, f"{took:.1f} s (ideal 1.5 s; 12 s without stealing)"
