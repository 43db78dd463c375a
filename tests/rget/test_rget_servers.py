"""rget (the installed console script) against real servers on 127.0.0.1 that misbehave on purpose.

Each case ends with exactly the served bytes, or a clean failure: exit 1, one line naming the URL and the status or
cause, and nothing at the output path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pty
import shutil
import signal
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.rget.runners import RGET, interruptible, rget
from tests.rget.servers import Site, pattern
from tests.system.http_fixtures import Nginx, free_port

KIB = 1024
TLS = Path(__file__).parent / "tls"


def put(site: Site, name: str, size: int, seed: int = 0) -> bytes:
    data = pattern(size, seed)
    site.files[name] = data
    return data


def assert_clean_failure(result: subprocess.CompletedProcess[str], out: Path, *needles: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rget: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == [], "a failed download left files behind"


def test_parallel_ranges_carry_if_range_and_land_in_place(site: Site, tmp_path: Path) -> None:
    data = put(site, "plain.bin", 300 * KIB + 7)
    out = tmp_path / "plain.bin"
    result = rget("-u", site.url("/f/plain.bin"), "-o", out, "-P", "4", "-b", "0.0625")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    ranges = site.ranges_served("/f/plain.bin")
    assert ranges[0] == "bytes=0-"  # the probe, whose body is the first block
    assert sorted(ranges[1:], key=lambda r: int(r[6:].split("-")[0])) == [
        f"bytes={s}-{min(s + 64 * KIB, len(data)) - 1}" for s in range(64 * KIB, len(data), 64 * KIB)
    ]
    gets = [r for r in site.requests if r.path == "/f/plain.bin"]
    assert all(r.headers.get("If-Range") == '"v1"' for r in gets[1:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.bin"]


def test_server_ignoring_range_gives_one_stream_reusing_the_probe(site: Site, tmp_path: Path) -> None:
    data = put(site, "ignore.bin", 200 * KIB)
    out = tmp_path / "o"
    result = rget(site.url("/ignore/ignore.bin"), "-o", out, "-P", "8")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert len(site.ranges_served("/ignore/ignore.bin")) == 1  # the probe's 200 body was the download


def test_chunked_answer_without_length(site: Site, tmp_path: Path) -> None:
    data = put(site, "chunked.bin", 100 * KIB + 3)
    out = tmp_path / "o"
    result = rget(site.url("/chunked/chunked.bin"), "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data


def test_cut_connection_resumes_the_range_from_its_last_byte(site: Site, tmp_path: Path) -> None:
    data = put(site, "cut.bin", 256 * KIB)
    out = tmp_path / "o"
    result = rget(site.url("/cut/cut.bin"), "-o", out, "-P", "2", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    starts = {int(r[6:].split("-")[0]) for r in site.ranges_served("/cut/cut.bin")}
    assert starts - {0, 128 * KIB}, "no range was resumed mid-block"
    assert "connection closed mid-transfer; retry" in result.stderr


def test_headers_stay_with_the_host_the_user_named(site: Site, other_site: Site, tmp_path: Path) -> None:
    data = put(site, "moved.bin", 150 * KIB)
    other_site.files["moved.bin"] = data
    out = tmp_path / "o"
    result = rget(site.url("/other/moved.bin"), "-o", out, "-H", "Authorization: token s3cret", "-H", "X-Team: a")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    first = [r for r in site.requests if r.path == "/other/moved.bin"]
    assert first and all(r.headers.get("Authorization") == "token s3cret" for r in first)
    moved = [r for r in other_site.requests if r.path == "/f/moved.bin"]
    assert len(moved) >= 2 and all("Range" in r.headers for r in moved)
    assert not [r for r in moved if "Authorization" in r.headers or "X-Team" in r.headers]


def test_head_refused_is_no_problem(site: Site, tmp_path: Path) -> None:
    data = put(site, "nohead.bin", 64 * KIB)
    out = tmp_path / "o"
    assert rget(site.url("/nohead/nohead.bin"), "-o", out).returncode == 0
    assert out.read_bytes() == data
    assert not [r for r in site.requests if r.method == "HEAD"]


def test_expired_signed_url_is_re_resolved(site: Site, tmp_path: Path) -> None:
    data = put(site, "signed.bin", 512 * KIB)
    out = tmp_path / "o"
    result = rget(site.url("/signed/signed.bin"), "-o", out, "-P", "2", "-b", "0.0625", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert site.counters["token:signed.bin"] >= 3  # 1 + 8 ranges at 3 uses per token: several re-resolutions
    assert "re-resolved" in result.stderr
    forbidden = [r for r in site.requests if r.path.startswith("/s/signed.bin")]
    assert len(forbidden) > 9  # some 403s happened and were survived


def test_file_replaced_mid_download_restarts_as_one_stream_never_mixing(site: Site, tmp_path: Path) -> None:
    put(site, "changing.bin", 256 * KIB, seed=1)
    new = put(site, "changing.bin.v2", 256 * KIB, seed=2)
    out = tmp_path / "o"
    result = rget(site.url("/changing/changing.bin"), "-o", out, "-P", "4", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == new
    assert "starting over as one stream" in result.stderr


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error"), (403, "Forbidden")])
def test_http_errors_fail_cleanly(site: Site, tmp_path: Path, status: int, reason: str) -> None:
    url = site.url(f"/status/{status}")
    result = rget(url, "-o", tmp_path / "o", "--retries", "1")
    assert_clean_failure(result, tmp_path / "o", url, f"HTTP {status}" if status != 500 else "HTTP 500", reason)


def test_connection_refused_fails_cleanly(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    assert_clean_failure(rget(url, "-o", tmp_path / "o", "--retries", "0"), tmp_path / "o", url, "connection refused")


def test_tls_failure_names_its_cause(tmp_path: Path) -> None:
    # tests/rget/tls: a throwaway self-signed certificate (valid until 2126) that no client trusts
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/x"
        result = rget(url, "-o", tmp_path / "o", "--retries", "5")
        assert_clean_failure(
            result, tmp_path / "o", url, "TLS failed: certificate verify failed: self-signed certificate"
        )
        assert "gave up" not in result.stderr  # it will not verify on a retry either: failed at once
    finally:
        server.shutdown()
        server.server_close()


def test_slow_server_hits_the_timeout(site: Site, tmp_path: Path) -> None:
    put(site, "slow.bin", 10 * KIB)
    url = site.url("/slow/slow.bin")
    t0 = time.monotonic()
    result = rget(url, "-o", tmp_path / "o", "--timeout", "0.3", "--retries", "1")
    assert time.monotonic() - t0 < 5
    assert_clean_failure(result, tmp_path / "o", url, "no data for 0.3 s")


def test_a_failed_write_is_one_line_and_leaves_nothing(site: Site, tmp_path: Path) -> None:
    put(site, "big.bin", 300 * KIB)
    url = site.url("/ignore/big.bin")
    out = tmp_path / "o"

    # The kernel refuses writes past RLIMIT_FSIZE (EFBIG) as it would on a full disk. prlimit (util-linux), not
    # preexec_fn: this process runs server threads, and preexec_fn may deadlock the child of a threaded process.
    limit = [shutil.which("prlimit") or "prlimit", f"--fsize={100 * KIB}"]
    result = subprocess.run([*limit, str(RGET), url, "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert_clean_failure(result, out, f"rget: {out}.part: cannot write: File too large")


def test_sha256_verifies_and_a_mismatch_leaves_nothing(site: Site, tmp_path: Path) -> None:
    data = put(site, "sum.bin", 100 * KIB)
    good = hashlib.sha256(data).hexdigest()
    out = tmp_path / "o"
    assert rget(site.url("/f/sum.bin"), "-o", out, "--sha256", good.upper(), "-x").returncode == 0
    assert out.read_bytes() == data and os.access(out, os.X_OK)
    out.unlink()
    bad = hashlib.sha256(b"other").hexdigest()
    assert_clean_failure(rget(site.url("/f/sum.bin"), "-o", out, "--sha256", bad), out, "sha256 mismatch", bad)


def test_existing_output_is_replaced_only_on_success(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.write_bytes(b"previous")
    result = rget(site.url("/status/404"), "-o", out)
    assert result.returncode == 1
    assert out.read_bytes() == b"previous"


def test_ctrl_c_keeps_state_and_continue_finishes_without_refetching(site: Site, tmp_path: Path) -> None:
    site.rate = 128 * KIB  # per connection: each 256 KiB block takes 2 s
    data = put(site, "resume.bin", 1024 * KIB)
    out = tmp_path / "o"
    url = site.url("/throttle/resume.bin")
    proc = subprocess.Popen(
        [str(RGET), url, "-o", str(out), "-P", "4"], stderr=subprocess.PIPE, text=True, preexec_fn=interruptible
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "o.part.state").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the state is first saved a second into the transfer
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 2, "Ctrl-C did not stop promptly"
    assert proc.returncode == 130 and err.strip() == "rget: interrupted"
    assert not out.exists()
    assert (tmp_path / "o.part").exists() and (tmp_path / "o.part.state").exists()
    first_run = len(site.ranges_served("/throttle/resume.bin"))

    result = rget(url, "-o", out, "-P", "4", "-c", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    resumed = site.ranges_served("/throttle/resume.bin")[first_run + 1 :]  # after the second probe
    starts = sorted(int(r[6:].split("-")[0]) for r in resumed)
    assert len(starts) == 4 and all(s % (256 * KIB) for s in starts), starts  # every block resumed mid-way
    assert "resuming:" in result.stderr


def test_continue_after_the_file_changed_starts_over(site: Site, tmp_path: Path) -> None:
    data = put(site, "stale.bin", 64 * KIB)
    out = tmp_path / "o"
    (tmp_path / "o.part").write_bytes(b"\0" * len(data))
    state = {"url": site.url("/f/stale.bin"), "size": len(data), "etag": '"old"', "last_modified": None}
    (tmp_path / "o.part.state").write_text(json.dumps({**state, "blocks": [[100, len(data) - 1]]}))
    result = rget(site.url("/f/stale.bin"), "-o", out, "-c", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert "starting over" in result.stderr


@pytest.mark.system
@pytest.mark.parametrize("server", ["plain", "redirect", "noranges", "limited"])
def test_nginx(nginx: Nginx, server: str, tmp_path: Path) -> None:
    src = nginx.root / "rget-nginx.bin"
    if not src.exists():
        src.write_bytes(pattern(3 * 1024 * KIB + 11, seed=3))
    out = tmp_path / "o"
    result = rget("-u", nginx.url(server, src.name), "-o", out, "-P", "4", "-v")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == src.read_bytes()
    assert ("first answer: no ranges" in result.stderr) == (server == "noranges")


@pytest.mark.system
def test_nginx_empty_file(nginx: Nginx, tmp_path: Path) -> None:
    (nginx.root / "rget-empty").write_bytes(b"")
    out = tmp_path / "o"
    result = rget(nginx.url("plain", "rget-empty"), "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b""


def on_terminal(*args: str | Path) -> tuple[int, bytes]:
    """Run rget with stdout and stderr on a pseudo-terminal; its exit code and what it showed there."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([str(RGET), *map(str, args)], stderr=terminal, stdout=terminal)
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once rget exits and the terminal closes
        while chunk := os.read(controller, 65536):
            shown += chunk
    os.close(controller)
    return proc.wait(timeout=30), shown


def test_quiet_when_not_a_terminal_and_a_bar_on_one(site: Site, tmp_path: Path) -> None:
    put(site, "bar.bin", 300 * KIB)
    url = site.url("/f/bar.bin")
    piped = rget(url, "-o", tmp_path / "piped")
    assert piped.returncode == 0 and piped.stdout == "" and piped.stderr == ""
    code, shown = on_terminal(url, "-o", tmp_path / "tty")
    assert code == 0 and b"300.0/300.0 KiB" in shown and b"tty" in shown
    assert on_terminal(url, "-o", tmp_path / "q", "-q") == (0, b"")


def test_a_waiting_connection_ends_with_the_last_range(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection with nothing worth splitting waits while a big range is still in flight (it could stall); it
    is woken when that range ends, so the download ends with its last byte, not a wait later. The server answers
    0.8 s late (so a wait is 0.8 s) and serves the last quarter at half the rate."""
    import rget.sinks
    from rget.download import Options, download
    from rget.progress import Reporter

    site.rate, site.delay = 8_000_000, 0.8
    data = put(site, "waiting.bin", 8 * 1024 * 1024, seed=17)
    last = [0.0]
    write = rget.sinks.FileSink.write

    def noted(self: rget.sinks.FileSink, *args: object, **kwargs: object) -> None:
        write(self, *args, **kwargs)  # type: ignore[arg-type]
        last[0] = time.monotonic()

    monkeypatch.setattr(rget.sinks.FileSink, "write", noted)
    out = tmp_path / "waiting.bin"
    download(site.url("/delayed/waiting.bin"), out, Options(connections=4), Reporter(quiet=True))
    assert out.read_bytes() == data
    assert time.monotonic() - last[0] < 0.3  # the rename and the report; a missed wake-up costs ~0.5 s
