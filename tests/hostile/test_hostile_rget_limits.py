"""rget's limits on hostile servers and inputs (packages/rget/README.md, "Limits"), each at the limit and one past it,
through the installed console script: one line and exit 1 (2 for a usage error) past it, the exact file at it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.hostile.http_cases import HttpCase, check, server
from tests.hostile.runner import run
from tests.hostile.scripted_server import Answer, Script, version_bytes
from tests.hostile.test_hostile_http import case

MIB = 1024 * 1024
HOP = Answer(kind="redirect", status=302, location="next")


def limit_case(*answers: Answer, size: int = 1000, retries: int = 1) -> HttpCase:
    return case(*answers, size=size, retries=retries, connections=1, block=False)


# name -> (at the limit, one past it, what the error line says past it)
LIMITS: dict[str, tuple[HttpCase, HttpCase, str]] = {
    "redirects": (
        limit_case(*[HOP] * 10, Answer()),
        limit_case(*[HOP] * 11, Answer()),
        "more than 10 redirects",
    ),
    "header-line": (
        limit_case(Answer(extra="line:65536")),
        limit_case(Answer(extra="line:65537")),
        "the answer has a header line over 65536 bytes (refused by the HTTP client, http.client)",
    ),
    "headers": (
        limit_case(Answer(extra="headers:99")),
        limit_case(Answer(extra="headers:100")),
        "the answer has more than 99 headers (refused by the HTTP client, http.client)",
    ),
    # every answer is cut: an attempt that brought 1 MiB starts the count again, one that brought less is a failure
    "progress-per-attempt": (
        limit_case(Answer(body="cut", cut=MIB), size=4 * MIB),
        limit_case(Answer(body="cut", cut=MIB - 1), size=4 * MIB),
        "gave up after 2 attempts",
    ),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_rget_at_and_past_its_limit(name: str) -> None:
    at, past, error = LIMITS[name]
    assert check(at, script=True).code == 0
    outcome = check(past, script=True)
    assert outcome.code == 1 and error in outcome.stderr, outcome.stderr


def test_a_claim_past_the_free_space_is_refused_before_a_byte_is_fetched(tmp_path: Path) -> None:
    st = os.statvfs(tmp_path)
    claim = st.f_bavail * st.f_frsize + 1024**3  # past the free space, whatever others write meanwhile
    head = f'HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-{claim - 1}/{claim}\r\nETag: "x"\r\n'
    raw = (head + f"Content-Length: {claim}\r\n\r\n").encode() + b"x" * 1000
    url = server().add(Script((b"", b""), (Answer(kind="raw", raw=raw),), honest=False))
    result = run("rget", url, "-o", tmp_path / "big.bin", "-q", cwd=tmp_path)
    line = result.check_one_line_error(1)
    assert f"big.bin.part: needs {claim} bytes, only" in line and "free on its file system" in line
    assert list(tmp_path.iterdir()) == []  # no sparse terabyte left behind


@pytest.mark.parametrize("extra", [0, 1])
def test_a_checksums_file_of_16_mib(tmp_path: Path, extra: int) -> None:
    data = version_bytes(3, 1000)
    url = server().add(Script((data, b""), (Answer(),), honest=True))
    line = f"{hashlib.sha256(data).hexdigest()}  file.bin\n".encode()
    filler = b"# " + b"x" * 61 + b"\n"
    sums = tmp_path / "SHA256SUMS"
    size = 16 * MIB + extra
    sums.write_bytes(line + filler * ((size - len(line)) // len(filler)) + b"#" * ((size - len(line)) % len(filler)))
    assert sums.stat().st_size == size
    result = run("rget", url, "--checksums", sums, "-o", tmp_path / "file.bin", "-q", cwd=tmp_path)
    if extra:
        assert "SHA256SUMS: larger than 16 MiB (the limit for a checksums file)" in result.check_one_line_error(1)
        assert not (tmp_path / "file.bin").exists()
    else:
        assert result.code == 0, result.stderr
        assert (tmp_path / "file.bin").read_bytes() == data
    result.check_limits()


def test_endless_manifests_stop_at_the_limit(tmp_path: Path) -> None:
    for args in (["-i", "/dev/zero"], ["--checksums", "/dev/zero", "http://127.0.0.1:9/x"]):
        line = run("rget", *args, cwd=tmp_path).check_one_line_error(1)
        assert line.startswith("rget: /dev/zero: larger than 16 MiB (the limit for a "), line


@pytest.mark.parametrize("length", [240, 241])
def test_output_names_leave_room_for_the_state_file(tmp_path: Path, length: int) -> None:
    data = version_bytes(4, 1000)
    url = server().add(Script((data, b""), (Answer(),), honest=True))
    out = tmp_path / ("n" * length)
    result = run("rget", url, "-o", out, "-q", cwd=tmp_path)
    if length == 240:
        assert result.code == 0 and out.read_bytes() == data, result.stderr
    else:
        assert "name too long for the nnnnnnnnnnnnnnnnnnnn....part.state.tmp file" in result.check_one_line_error(2)
        assert list(tmp_path.iterdir()) == []
