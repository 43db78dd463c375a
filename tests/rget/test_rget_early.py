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

MIB = 1024 * 1024

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
            [
                *(str(RGET), "-v", site.url("/f/same.bin"), "-o", str(out)),
                *("-H", "X-Token: t1", "-H", "accept: x/y", "-H", "Accept-Encoding: identity;q=1"),
            ],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0 and out.read_bytes() == data, done.stderr
        assert (b"(asked while Python was starting)\n" in done.stderr) == (not extra)
        firsts = [r for r in site.requests[before:] if r.path == "/f/same.bin" and r.headers["Range"] == "bytes=0-"]
        assert len(firsts) == 1  # the early answer was used, not asked for again
        seen.append(firsts[0].lines)
    assert seen[0] == seen[1]  # the request line and every header line, in the same order
    assert "X-Token: t1" in seen[0] and "accept: x/y" in seen[0]
    assert [line for line in seen[0] if line.lower().startswith("accept-encoding")] == ["Accept-Encoding: identity;q=1"]


CONSOLE = """
import os, sys, time
import importlib.machinery
class Watch:  # notes when the download's import of requests begins and ends, as the console script runs
    def find_spec(self, name, path=None, target=None):
        if name == "requests" and name not in seen:
            seen[name] = time.monotonic()
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            run = spec.loader.exec_module
            def exec_module(module):
                run(module)
                time.sleep(float(os.environ.get("SLOW_IMPORT", "0")))  # a slower machine's import
                seen["imported"] = time.monotonic()
            spec.loader.exec_module = exec_module
            return spec
seen = {}
sys.meta_path.insert(0, Watch())
def report(code, _exit=os._exit):  # the console script leaves by os._exit once its output is flushed
    print(seen["requests"], seen["lowered"], sys.getswitchinterval(), seen["imported"], file=sys.stderr, flush=True)
    _exit(code)
os._exit = report
import rget.early
def prestart(*args, _prestart=rget.early.prestart):  # the interval while the early requests go out
    _prestart(*args)
    seen["lowered"] = sys.getswitchinterval()
rget.early.prestart = prestart
sys.argv = ["rget", *sys.argv[1:]]
from rget.cli import main
report(main())
"""


def test_the_console_script_asks_before_it_imports_requests(site: Site, tmp_path: Path) -> None:
    """``rget URL`` sends its first request as soon as it has read its command line, before the rest of rget and
    requests are imported (the session used to send it, once rget.download was imported: too late by then); the
    download uses that answer; the interpreter's switch interval is lowered meanwhile and back afterwards."""
    site.files["first.bin"] = data = pattern(300_000, 12)
    out = tmp_path / "first.bin"
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, "-v", site.url("/f/first.bin"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and out.read_bytes() == data, done.stderr
    assert "(asked while Python was starting)" in done.stderr
    requests_at, lowered, switch, _ = map(float, done.stderr.splitlines()[-1].split())
    [first] = [r for r in site.requests if r.path == "/f/first.bin" and r.headers["Range"] == "bytes=0-"]
    assert first.at < requests_at
    assert lowered < 0.005 and switch == 0.005


def test_a_usage_error_sends_nothing(site: Site, tmp_path: Path) -> None:
    """A command line the download would refuse (-o naming a missing directory, a directory without its slash, a
    file in a missing directory) exits before any request: the first request goes out early only for a download
    that will happen."""
    site.files["never.bin"] = pattern(1000, 14)
    for output, code in ((f"{tmp_path}/missing/", 2), (str(tmp_path), 2), (f"{tmp_path}/missing/file", 1)):
        done = subprocess.run([str(RGET), site.url("/f/never.bin"), "-o", output], capture_output=True, timeout=60)
        assert done.returncode == code and done.stderr.count(b"\n") == 1, done.stderr
    assert [r for r in site.requests if r.path == "/f/never.bin"] == []


def test_the_next_ranges_ride_on_connections_opened_beside_the_first(site: Site, tmp_path: Path) -> None:
    """With -P 4 the three other connections are opened with the first one, not after its answer: the server
    holds that answer back a second, and every range asked ahead comes on a connection accepted before."""
    site.files["late.bin"] = data = pattern(400_000, 13)
    site.late = 1.0
    out = tmp_path / "late.bin"
    done = subprocess.run(
        [str(RGET), "-v", "-P", "4", site.url("/late/late.bin"), "-o", str(out)], capture_output=True, timeout=60
    )
    assert done.returncode == 0 and out.read_bytes() == data, done.stderr
    asked = [r for r in site.requests if r.path == "/late/late.bin"]
    [first] = [r for r in asked if r.headers["Range"] == "bytes=0-"]
    ahead = [r for r in asked if r is not first and r.at < first.at + site.late + 0.4]
    assert len(ahead) == 3, [(r.headers["Range"], r.at - first.at) for r in asked]
    assert all(r.connected < first.at + site.late / 2 for r in ahead)  # opened while the first answer was held
    assert len({r.connected for r in asked}) == 4  # four connections, each asked once before the workers began


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
        monkeypatch.setenv("HOME", str(tmp_path))
        sent = Early.start("http://127.0.0.1:9/x", headers, 1.0)  # the control: this one does go early
        assert sent is not None
        sent.close()
        for name, value in (("HTTPS_PROXY", "http://p:1"), ("no_proxy", "h"), ("NETRC", "/n")):
            with monkeypatch.context() as m:
                m.setenv(name, value)
                assert Early.start("http://127.0.0.1:9/x", headers, 1.0) is None, name
        netrc = tmp_path / ".netrc"
        netrc.write_text("machine 127.0.0.1 login u password p\n")
        assert Early.start("http://127.0.0.1:9/x", headers, 1.0) is None
        netrc.unlink()  # each case below on its own
        urls = ("http://u:p@127.0.0.1:9/x", "http://127.0.0.1:9/a b", "ftp://h/x", "http://bücher.example/x")
        for url in (*urls, "http://127.0.0.1:9/a/../x", "http://127.0.0.1:9/./x"):
            assert Early.start(url, headers, 1.0) is None, url
        for name in ("Transfer-Encoding", "content-length", "Expect"):  # requests would send a body, or wait
            assert Early.start("http://127.0.0.1:9/x", {**headers, name: "chunked"}, 1.0) is None, name
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


def test_extract_and_executable_downloads_ask_early_too(site: Site, tmp_path: Path) -> None:
    """-X DIR (the line a Dockerfile copies) and -x to a file are downloads for certain once their usage is
    checked: their first request goes out before requests is imported, as a plain download's does."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        member = tarfile.TarInfo("tool-1.0/tool")
        member.size, member.mode = 300_000, 0o755
        tar.addfile(member, io.BytesIO(pattern(300_000, 18)))
    site.files["tool.tar.gz"] = buf.getvalue()
    site.files["tool"] = pattern(200_000, 19)
    into = tmp_path / "bin"
    runs = (
        ["-X", str(into), "--strip-components", "1", site.url("/f/tool.tar.gz")],
        ["-x", site.url("/f/tool"), "-o", str(tmp_path / "tool")],
    )
    for args in runs:
        before = len(site.requests)
        done = subprocess.run([sys.executable, "-c", CONSOLE, "-v", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "(asked while Python was starting)" in done.stderr, args
        requests_at = float(done.stderr.splitlines()[-1].split()[0])
        [first] = [r for r in site.requests[before:] if r.headers["Range"] == "bytes=0-"]
        assert first.at < requests_at, args  # sent by the console script, not once the session was made
    assert (into / "tool").read_bytes() == pattern(300_000, 18)
    assert (tmp_path / "tool").stat().st_mode & 0o111


def test_a_stream_asks_its_ramped_first_wave_ahead(site: Site) -> None:
    """``-o -`` plans its first wave ramped (1/4, 2/4, 3/4 and 4/4 of a 1 MiB block at -P 4: they end one after
    another, so the write point moves with each); the three ranges after the first are the ones asked ahead, each
    once: the early requests and the workers agree on the ramped plan."""
    site.files["ramp.bin"] = data = pattern(3 * MIB, 20)
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, "-v", "-P", "4", site.url("/f/ramp.bin"), "-o", "-"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == data, done.stderr
    requests_at = float(done.stderr.splitlines()[-1].split()[0])
    asked = sorted((r for r in site.requests if r.path == "/f/ramp.bin"), key=lambda r: r.at)
    k = 1024
    ahead = [f"bytes={256 * k}-{768 * k - 1}", f"bytes={768 * k}-{1536 * k - 1}", f"bytes={1536 * k}-{2560 * k - 1}"]
    # the three sent ahead each on its own thread and socket: in any order
    assert asked[0].headers["Range"] == "bytes=0-" and sorted(r.headers["Range"] for r in asked[1:4]) == sorted(ahead)
    assert asked[0].at < requests_at
    assert (
        b"rget: 5 ranges over 4 connections\n" in done.stderr
    )  # the workers' plan is the ramp too (without: 3 ranges)
    assert all([r.headers["Range"] for r in asked].count(wanted) == 1 for wanted in ahead)  # answered early: once


def slow_import_download(
    args: list[str], out: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """The console script ``rget -v ARGS -o OUT`` with requests' import made 0.3 s slower (a slower machine: what
    goes early then leaves a margin that does not rest on this one's speed); the run, and when the import ended."""
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, "-v", *args, "-o", str(out)],
        capture_output=True,
        env={**os.environ, **(env or {}), "SLOW_IMPORT": "0.3"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done, float(done.stderr.splitlines()[-1].split()[3])


def test_a_redirect_is_followed_early_with_the_headers_requests_would_send(
    site: Site, other_site: Site, tmp_path: Path
) -> None:
    """A release asset's URL answers with a redirect to its CDN: the target's request goes out as soon as that
    answer is in, while requests is still being imported, with connections opened to the target's host for the
    next ranges; the user's headers go only to the URL's own origin, as rget.remote.send sends them. Compared,
    line for line, with the same download without the early path (a proxy variable turns it off)."""
    other_site.files["hop.bin"] = data = pattern(400_000, 21)
    seen = []
    for extra in ({}, {"no_proxy": "example.invalid"}):
        before = len(other_site.requests)
        out = tmp_path / f"hop{len(extra)}.bin"
        done, imported = slow_import_download(["-P", "4", "-H", "X-Token: t1", site.url("/other/hop.bin")], out, extra)
        assert out.read_bytes() == data, done.stderr
        asked = sorted((r for r in other_site.requests[before:] if r.path == "/f/hop.bin"), key=lambda r: r.at)
        ranges = [r.headers["Range"] for r in asked]
        assert ranges[0] == "bytes=0-" and ranges.count("bytes=0-") == 1, ranges  # the early answer was used
        assert all(ranges.count(r) == 1 for r in ranges[1:4]), ranges  # so were the three sent ahead
        if not extra:
            assert asked[0].at < imported  # the redirect's target asked while requests was being imported
            assert len({r.connected for r in asked[:4]}) == 4
        seen.append([r.lines for r in asked[:4]])
    assert sorted(seen[0]) == sorted(seen[1])  # the same requests, each line for line
    assert not any("X-Token" in line for lines in seen[0] for line in lines)  # not to another origin
    first = [r for r in site.requests if r.path == "/other/hop.bin"]
    assert len(first) == 2 and all(r.headers.get("X-Token") == "t1" for r in first)


def test_a_same_origin_redirect_keeps_the_user_headers_early(site: Site, tmp_path: Path) -> None:
    """A redirect within the URL's own origin (a signed URL on the same host) carries the user's headers, early
    as in rget.remote.send, and so does the range asked ahead on the target; each is asked once."""
    site.files["samehop.bin"] = data = pattern(300_000, 22)
    out = tmp_path / "samehop.bin"
    done, imported = slow_import_download(["-P", "2", "-H", "X-Token: t2", site.url("/signed/samehop.bin")], out)
    assert out.read_bytes() == data, done.stderr
    asked = sorted((r for r in site.requests if r.path.startswith("/s/samehop.bin")), key=lambda r: r.at)
    assert [r.headers["Range"] for r in asked] == ["bytes=0-", "bytes=150000-299999"], done.stderr
    assert all(r.at < imported for r in asked)  # both sent early, on the target
    assert all(r.headers.get("X-Token") == "t2" for r in asked)


def test_a_redirect_back_to_the_given_origin_carries_the_user_headers_again(
    site: Site, other_site: Site, tmp_path: Path
) -> None:
    """URL -> another origin -> the URL's own origin again: rget.remote.send gives the user's headers to the last
    hop again, so the early requests do too (else they would not be requests' own, and be asked again)."""
    site.files["back.bin"] = data = pattern(300_000, 23)
    other_site.other = site
    try:
        out = tmp_path / "back.bin"
        done, imported = slow_import_download(["-P", "2", "-H", "X-Token: t3", site.url("/away/back.bin")], out)
    finally:
        other_site.other = None
    assert out.read_bytes() == data, done.stderr
    [away] = [r for r in other_site.requests if r.path == "/home/back.bin"]
    assert "X-Token" not in away.headers
    back = [r for r in site.requests if r.path == "/f/back.bin"]
    assert sorted(r.headers["Range"] for r in back) == ["bytes=0-", "bytes=150000-299999"]  # each once
    assert all(r.at < imported for r in back)  # both early, after two redirects
    assert all(r.headers.get("X-Token") == "t3" for r in back)


def test_a_range_sent_ahead_that_is_redirected_is_not_followed_from_byte_0(
    site: Site, other_site: Site, tmp_path: Path
) -> None:
    """Only a first request's redirect is followed early: a range's would be asked with that range's own Range,
    so a request from byte 0 there would never be used (and hold a whole-file answer open until the end)."""
    data = pattern(400_000, 24)
    site.files["moved.bin"] = other_site.files["moved.bin"] = data
    out = tmp_path / "moved.bin"
    done = subprocess.run(
        [str(RGET), "-P", "4", site.url("/moved/moved.bin"), "-o", str(out)], capture_output=True, timeout=60
    )
    assert done.returncode == 0 and out.read_bytes() == data, done.stderr
    there = [r.headers["Range"] for r in other_site.requests if r.path == "/f/moved.bin"]
    assert len(there) == 3 and "bytes=0-" not in there, there
