"""rget.early: the first request on the wire while Python imports requests, used only if it is requests' own.

Against the misbehaving server of tests/rget/servers.py (real sockets); the console script and a fresh
interpreter, since the overlap only exists while requests is not imported yet.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import requests

from rget.early import Early
from rget.remote import SESSION_HEADERS
from tests.rget.runners import RGET
from tests.rget.servers import Site, pattern

SNIPPET = """
import sys, time
from rget.remote import first_answer, new_session
url = sys.argv[1]
session = new_session(4, first=(url, {}, 10.0))
print(time.monotonic(), flush=True)  # requests is imported by now
remote, body = first_answer(session, url, {}, 10.0)
print(remote.size, len(body.raw.read()))
"""


def test_the_first_request_is_on_the_wire_before_requests_is_imported(site: Site) -> None:
    site.files["early.bin"] = data = pattern(300_000, 7)
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET, site.url("/f/early.bin")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    imported, sizes = done.stdout.splitlines()
    assert sizes == f"{len(data)} {len(data)}"
    [first] = [r for r in site.requests if r.path == "/f/early.bin"]  # one request: the early answer was used
    assert first.headers["Range"] == "bytes=0-" and first.at < float(imported)


AHEAD = """
import sys, time
from rget.remote import first_answer, new_session, send
url, size = sys.argv[1], int(sys.argv[2])
third = size // 3
blocks = [(0, third - 1), (third, 2 * third - 1), (2 * third, size - 1)]
session = new_session(3, first=(url, {}, 10.0), ahead=lambda total: blocks[1:] if total == size else [])
print(time.monotonic(), flush=True)  # requests is imported by now
remote, body = first_answer(session, url, {}, 10.0)
got = [body.raw.read(third)]
body.close()
for start, end in blocks[1:]:
    tag = remote.if_range
    resp, _ = send(session, url, original=url, headers={}, timeout=10.0, byte_range=(start, end), if_range=tag)
    got.append(resp.raw.read())
    print(resp.status_code, resp.headers["Content-Range"], getattr(resp, "sent_early", False))
sys.stdout.buffer.write(b"".join(got))
"""


def test_the_next_ranges_go_out_ahead_too_and_are_used_once(site: Site) -> None:
    site.files["ahead.bin"] = data = pattern(300_000, 10)
    done = subprocess.run(
        [sys.executable, "-c", AHEAD, site.url("/f/ahead.bin"), str(len(data))], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    imported, second, third, body = done.stdout.split(b"\n", 3)
    assert second == b"206 bytes 100000-199999/300000 True" and third == b"206 bytes 200000-299999/300000 True"
    assert body == data
    asked = [r for r in site.requests if r.path == "/f/ahead.bin"]
    assert sorted(r.headers["Range"] for r in asked) == ["bytes=0-", "bytes=100000-199999", "bytes=200000-299999"]
    assert all(r.headers.get("If-Range") == '"v1"' for r in asked if r.headers["Range"] != "bytes=0-")
    assert max(r.at for r in asked) < float(imported)  # all three on the wire before requests was imported


def test_the_early_request_is_the_one_requests_sends(site: Site, tmp_path: Path) -> None:
    """The same download with the early request and without it (a proxy variable turns it off): the server sees
    the same first request, header for header, and the file is the same."""
    site.files["same.bin"] = data = pattern(200_000, 8)
    seen = []
    for extra in ({}, {"no_proxy": "example.invalid"}):
        before = len(site.requests)
        out = tmp_path / f"o{len(extra)}"
        env = {**os.environ, **extra}
        done = subprocess.run(
            [str(RGET), "-v", site.url("/f/same.bin"), "-o", str(out), "-H", "X-Token: t1", "-H", "accept: x/y"],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0 and out.read_bytes() == data, done.stderr
        assert (b"(asked while Python was starting)\n" in done.stderr) == (not extra)
        firsts = [r for r in site.requests[before:] if r.path == "/f/same.bin" and r.headers["Range"] == "bytes=0-"]
        assert len(firsts) == 1  # the early answer was used, not asked for again
        seen.append({k.lower(): v for k, v in firsts[0].headers.items()})
    assert seen[0] == seen[1] and seen[0]["x-token"] == "t1" and seen[0]["accept"] == "x/y"


def test_https_early_with_the_ca_bundle_requests_would_use(tmp_path: Path) -> None:
    """A certificate for 127.0.0.1 made here, trusted through REQUESTS_CA_BUNDLE as requests trusts it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            *subject,
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = Site(tls=context).start()
    try:
        site.files["tls.bin"] = data = pattern(150_000, 9)
        out = tmp_path / "o"
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert)}
        done = subprocess.run([str(RGET), "-v", site.url("/f/tls.bin"), "-o", out], capture_output=True, env=env)
        assert done.returncode == 0 and out.read_bytes() == data, done.stderr
        assert b"(asked while Python was starting)\n" in done.stderr
        assert [r.headers["Range"] for r in site.requests].count("bytes=0-") == 1
    finally:
        site.stop()


def _prepared(url: str, headers: dict[str, str]) -> requests.PreparedRequest:
    session = requests.Session()
    session.headers.clear()
    session.headers.update(SESSION_HEADERS)
    return session.prepare_request(requests.Request("GET", url, headers=headers))


def test_an_early_answer_is_used_only_for_the_same_request() -> None:
    url = "http://127.0.0.1:9/a/b.bin?x=1"
    early = Early(url, SESSION_HEADERS, {"Range": "bytes=0-"}, 5.0, "/a/b.bin?x=1")
    same = _prepared(url, {"Range": "bytes=0-"})
    bundle = early.bundle if early.bundle is not None else True  # this machine sets REQUESTS_CA_BUNDLE
    assert early.matches(same, bundle, None, {})
    assert not early.matches(same, "/etc/ssl/other.pem", None, {})  # another CA bundle
    assert not early.matches(same, False, None, {})
    assert not early.matches(same, bundle, ("c.pem", "k.pem"), {})
    assert not early.matches(same, bundle, None, {"http": "http://proxy:3128"})
    assert not early.matches(_prepared(url, {"Range": "bytes=0-", "Authorization": "Basic eA=="}), bundle, None, {})
    assert not early.matches(_prepared(url.replace("9/", "10/"), {"Range": "bytes=0-"}), bundle, None, {})
    assert not early.matches(_prepared(url + "&y=2", {"Range": "bytes=0-"}), bundle, None, {})


def test_no_early_request_when_requests_would_read_the_environment(monkeypatch: object, tmp_path: Path) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    saved = sys.modules.pop("requests")  # as in the console script: requests not imported yet
    try:
        headers = dict(SESSION_HEADERS)
        for name, value in (("HTTPS_PROXY", "http://p:1"), ("no_proxy", "h"), ("NETRC", "/n")):
            with monkeypatch.context() as m:
                m.setenv(name, value)
                assert Early.start("http://127.0.0.1:9/x", headers, 1.0) is None, name
        monkeypatch.setenv("HOME", str(tmp_path))
        (tmp_path / ".netrc").write_text("machine 127.0.0.1 login u password p\n")
        assert Early.start("http://127.0.0.1:9/x", headers, 1.0) is None
        for url in ("http://u:p@127.0.0.1:9/x", "http://127.0.0.1:9/a b", "ftp://h/x", "http://bücher.example/x"):
            assert Early.start(url, headers, 1.0) is None, url
    finally:
        sys.modules["requests"] = saved


def test_one_host_header_on_the_early_and_the_ahead_requests(site: Site, tmp_path: Path) -> None:
    """A ``-H Host:`` replaces the Host http.client would add, as it does in requests, instead of going out as a
    second Host (which the server would then have to choose from)."""
    site.files["host.bin"] = data = pattern(300_000, 11)
    own = site.url("/").split("/")[2]
    for extra, host in (([], own), (["-H", "Host: example.test"], "example.test")):
        before = len(site.requests)
        out = tmp_path / f"o{len(extra)}"
        done = subprocess.run(
            [str(RGET), "-v", "-P", "3", site.url("/f/host.bin"), "-o", str(out), *extra],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0 and out.read_bytes() == data, done.stderr
        assert b"(asked while Python was starting)\n" in done.stderr
        asked = [r for r in site.requests[before:] if r.path == "/f/host.bin"]
        assert len(asked) >= 2  # the first request and at least one sent ahead of the workers
        assert [r.hosts for r in asked] == [[host]] * len(asked)
