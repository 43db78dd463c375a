"""rget against the web servers and object storage it meets: Apache, lighttpd, Caddy, http.server, S3 (moto).

Every download ends with exactly the served bytes (to a file and to stdout), or, when the file is replaced
mid-download, exactly the new version's bytes: never a mix.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.rget.runners import RGET, rget
from tests.rget.servers import pattern
from tests.system.web_fixtures import S3, Web

pytestmark = pytest.mark.system
KIB = 1024
MIB = 1024 * KIB


@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("apache", "first answer: ranges"),
        ("caddy", "first answer: ranges"),
        ("lighttpd", "no ETag or Last-Modified: one stream"),
        ("pyhttp", "first answer: no ranges"),
    ],
)
def test_file_and_stdout_equal_the_served_bytes(web: Web, server: str, says: str, tmp_path: Path) -> None:
    name = "rget-web.bin"
    if not (web.root / name).exists():
        web.put(name, pattern(2 * MIB + 13, seed=7))
    data = (web.root / name).read_bytes()
    out = tmp_path / "o"
    result = rget(web.url(server, name), "-o", out, "-P", "4", "-b", "0.25", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert says in result.stderr
    streamed = subprocess.run([str(RGET), web.url(server, name), "-o", "-", "-P", "4"], capture_output=True, timeout=60)
    assert streamed.returncode == 0 and streamed.stdout == data, streamed.stderr


def test_lighttpd_ranges_only_with_sha256_which_proves_them(web: Web, tmp_path: Path) -> None:
    import hashlib

    data = pattern(MIB, seed=8)
    web.put("rget-lighttpd-sum.bin", data)
    url = web.url("lighttpd", "rget-lighttpd-sum.bin")
    result = rget(url, "-o", tmp_path / "o", "-P", "4", "-v", "--sha256", hashlib.sha256(data).hexdigest())
    assert result.returncode == 0 and (tmp_path / "o").read_bytes() == data
    assert "4 ranges over 4 connections" in result.stderr
    bad = rget(url, "-o", tmp_path / "p", "-P", "4", "--sha256", "0" * 64)
    assert bad.returncode == 1 and "sha256 mismatch" in bad.stderr and not (tmp_path / "p").exists()


def test_presigned_urls_refuse_head_and_rget_never_sends_one(s3: S3, tmp_path: Path) -> None:
    data = pattern(MIB + 5, seed=9)
    s3.put("head.bin", data)
    url = s3.presigned("head.bin")
    assert requests.head(url, timeout=10).status_code == 403  # method-bound, as real S3
    result = rget(url, "-o", tmp_path / "o", "-P", "4", "-b", "0.25", "-v")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == data
    assert not [m for m, p, _ in s3.requests if m == "HEAD" and "head.bin" in p and "Signature" in p][1:]
    assert "X-Amz-Signature=REDACTED" in result.stderr and "rget-test-secret" not in result.stderr
    streamed = subprocess.run([str(RGET), url, "-o", "-", "-P", "4", "-b", "0.25"], capture_output=True, timeout=60)
    assert streamed.returncode == 0 and streamed.stdout == data, streamed.stderr


def test_release_redirect_to_expiring_urls_is_re_resolved(s3: S3, tmp_path: Path) -> None:
    data = pattern(2 * MIB, seed=10)
    s3.put("release.bin", data)
    s3.expires, s3.delay = 2, 0.3  # 16 ranges on 2 connections: >= 2.4 s of gate delay each, past the 2 s expiry
    try:
        result = rget(s3.release("release.bin"), "-o", tmp_path / "o", "-P", "2", "-b", "0.125", "-v")
    finally:
        s3.expires, s3.delay = 60, 0.0
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == data
    assert "re-resolved" in result.stderr and "Request has expired" not in result.stderr


def test_object_replaced_mid_download_never_mixes(s3: S3, tmp_path: Path) -> None:
    old, new = pattern(2 * MIB, seed=11), pattern(2 * MIB, seed=12)
    s3.put("swap.bin", old)
    s3.delay = 0.1
    url = s3.presigned("swap.bin")

    def swap_after_three_gets() -> None:
        deadline = time.monotonic() + 20
        while len(s3.gets("swap.bin")) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        s3.put("swap.bin", new)

    swapper = threading.Thread(target=swap_after_three_gets)
    swapper.start()
    try:
        result = rget(url, "-o", tmp_path / "o", "-P", "2", "-b", "0.25", "-v")
    finally:
        swapper.join()
        s3.delay = 0.0
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == new  # moto ignored If-Range; the ETag of a 206 gave it away
    assert "the file changed on the server (ETag" in result.stderr


def test_apache_weak_etag_of_a_file_just_written_streams_in_ranges(web: Web) -> None:
    # Apache marks the ETag weak within a second of the file's last write, and answers 200 to a date in If-Range
    # then: rget sends If-Range only with a strong ETag and compares every 206's validators (weakly) instead
    data = pattern(2 * MIB, seed=15)
    web.put("rget-fresh.bin", data)
    streamed = subprocess.run(
        [str(RGET), web.url("apache", "rget-fresh.bin"), "-o", "-", "-P", "4", "-b", "0.25", "-v"],
        capture_output=True,
        timeout=60,
    )
    assert streamed.returncode == 0 and streamed.stdout == data, streamed.stderr
    assert b"10 ranges over 4 connections" in streamed.stderr  # 1/4, 2/4, 3/4 and 4/4 of 256 KiB, then 6 more
