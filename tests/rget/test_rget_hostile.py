"""Servers that change the file, have no validator, lie, or send what the HTTP client refuses (issues 14, 21).

Each ends with exactly one version's bytes, or one line and exit 1 within seconds, nothing left behind.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from tests.rget.runners import RGET, rget
from tests.rget.servers import Site, pattern

KIB = 1024


def put(site: Site, name: str, size: int, seed: int = 0) -> bytes:
    data = pattern(size, seed)
    site.files[name] = data
    return data


def one_line_failure(result: subprocess.CompletedProcess[str], out_dir: Path, *needles: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("rget: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert list(out_dir.iterdir()) == []


def test_server_ignoring_if_range_is_caught_by_the_etag_of_every_206(site: Site, tmp_path: Path) -> None:
    put(site, "swap.bin", 256 * KIB, seed=1)
    new = put(site, "swap.bin.v2", 256 * KIB, seed=2)
    result = rget(site.url("/swapped/swap.bin"), "-o", tmp_path / "o", "-P", "4", "-b", "0.0625", "-v")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == new  # never a mix of v1 and v2
    assert 'the file changed on the server (ETag "v2", was "v1")' in result.stderr
    assert "starting over as one stream" in result.stderr


def test_swap_while_streaming_after_bytes_went_out_fails_cleanly(site: Site) -> None:
    site.change_after = 3
    old = put(site, "swap-stream.bin", 512 * KIB, seed=1)
    put(site, "swap-stream.bin.v2", 512 * KIB, seed=2)
    proc = subprocess.run(
        [str(RGET), site.url("/swapped/swap-stream.bin"), "-o", "-", "-P", "2", "-b", "0.0625"],
        capture_output=True,
        timeout=60,
    )
    site.change_after = 2
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1 and "cannot start over" in err, err
    assert old.startswith(proc.stdout)  # what went out is a prefix of one version


def test_no_validator_means_one_stream_unless_sha256_proves_ranges(site: Site, tmp_path: Path) -> None:
    data = put(site, "noval.bin", 300 * KIB)
    result = rget(site.url("/novalidator/noval.bin"), "-o", tmp_path / "a", "-P", "4", "-v")
    assert result.returncode == 0 and (tmp_path / "a").read_bytes() == data
    assert len(site.ranges_served("/novalidator/noval.bin")) == 1
    assert "no ETag or Last-Modified: one stream" in result.stderr
    digest = hashlib.sha256(data).hexdigest()
    proved = rget(site.url("/novalidator/noval.bin"), "-o", tmp_path / "b", "-P", "4", "--sha256", digest)
    assert proved.returncode == 0 and (tmp_path / "b").read_bytes() == data
    assert len(site.ranges_served("/novalidator/noval.bin")) == 1 + 4


def test_unparsable_redirect_is_a_bad_url(site: Site, tmp_path: Path) -> None:
    result = rget(site.url("/badredirect/x"), "-o", tmp_path / "o")
    one_line_failure(result, tmp_path, "redirected to a bad URL: http://[::1: Invalid IPv6 URL")


def test_a_terabyte_claim_is_refused_before_preallocating(site: Site, tmp_path: Path) -> None:
    t0 = time.monotonic()
    result = rget(site.url("/liar/x"), "-o", tmp_path / "o", "--retries", "1", "--timeout", "1")
    assert time.monotonic() - t0 < 5
    one_line_failure(result, tmp_path, "o.part: needs 1000000000000 bytes, only")


def test_a_server_that_sends_a_little_and_hangs_up_forever_runs_out_of_retries(site: Site, tmp_path: Path) -> None:
    site.liar_size = 50 * 1024 * 1024
    try:
        t0 = time.monotonic()
        result = rget(site.url("/liar/y"), "-o", tmp_path / "o", "--retries", "1", "--timeout", "1", "-P", "1")
        assert time.monotonic() - t0 < 10
    finally:
        site.liar_size = 10**12
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "gave up after 2 attempts" in result.stderr


def test_headers_the_http_client_refuses_are_named(site: Site, tmp_path: Path) -> None:
    big = rget(site.url("/bigheader/x"), "-o", tmp_path / "o")
    one_line_failure(big, tmp_path, "a header line over 65536 bytes (refused by the HTTP client")
    many = rget(site.url("/manyheaders/x"), "-o", tmp_path / "o")
    one_line_failure(many, tmp_path, "more than 99 headers (refused by the HTTP client")
