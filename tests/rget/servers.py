"""Real HTTP servers on 127.0.0.1 that misbehave on purpose, one behaviour per path.

Each :class:`Site` runs a ThreadingHTTPServer in a thread and serves ``files`` (name -> bytes) with its own
minimal Range support (so that we control every header), plus these prefixes:

- ``/f/NAME``        well-behaved: 206 for a single range, If-Range against the ETag, 416 past the end
- ``/late/NAME``     as /f/, but a request from byte 0 is answered only after ``late`` seconds
- ``/ignore/NAME``   ignores Range: always 200 with the whole file
- ``/chunked/NAME``  ignores Range, no Content-Length (chunked transfer encoding)
- ``/cut/NAME``      honours Range but closes the connection after ``cut_after`` bytes of each of the first
                     ``cut_times`` responses
- ``/nohead/NAME``   well-behaved for GET, 405 for HEAD
- ``/signed/NAME``   302 to ``/s/NAME?token=N``; a token works for ``signed_uses`` requests, then 403
- ``/changing/NAME`` serves ``files[NAME]`` with ETag "v1" for ``change_after`` requests, then
                     ``files[NAME + ".v2"]`` with ETag "v2"
- ``/other/NAME``    302 to ``/f/NAME`` on ``other`` (another Site: another host:port)
- ``/moved/NAME``    as /f/ for a request from byte 0; every other range: 302 to ``/f/NAME`` on ``other``
- ``/away/NAME``     302 to ``/home/NAME`` on ``other``, which sends it back: 302 to ``/f/NAME`` on its ``other``
- ``/slow/NAME``     sends the headers then nothing
- ``/throttle/NAME`` well-behaved, at ``rate`` bytes/s per connection
- ``/delayed/NAME``  as /throttle/, each answer ``delay`` seconds late; ranges in the last quarter at half the rate
- ``/swapped/NAME``  like ``/changing/`` but ignores If-Range (as S3 emulators do): after ``change_after``
                     requests every 206 carries the new version's bytes and its new ETag
- ``/novalidator/NAME`` honours Range, sends neither ETag nor Last-Modified (lighttpd-like)
- ``/liar/NAME``     claims ``liar_size`` bytes, sends 1,000 of them and closes, every time
- ``/bigheader/NAME`` a 1 MB header line; ``/manyheaders/NAME`` 500 headers
- ``/badredirect/NAME`` 302 to ``http://[::1`` (unparsable)
- ``/status/CODE``   answers CODE

Every request is recorded in ``requests`` as (method, path, headers).
"""

from __future__ import annotations

import array
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    at: float = 0.0
    """time.monotonic() when its headers were read (the clock every process on this machine shares)."""
    hosts: list[str] = field(default_factory=list)
    """Every Host header, in order (``headers`` keeps only the last of repeated names)."""
    lines: list[str] = field(default_factory=list)
    """The request line and every header line, in order, as sent."""
    connected: float = 0.0
    """time.monotonic() when its connection was accepted."""


@dataclass
class Site:
    """A misbehaving server; start with :meth:`start`, stop with :meth:`stop`."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int = 1000
    cut_times: int = 3
    signed_uses: int = 3
    change_after: int = 2
    rate: int = 1_000_000
    liar_size: int = 10**12
    delay: float = 0.4
    """How long ``/delayed/NAME`` waits before every answer."""
    late: float = 0.5
    """How long ``/late/NAME`` waits before answering a request for the file from byte 0."""
    other: Site | None = None
    requests: list[Request] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    tls: ssl.SSLContext | None = None
    """Serve HTTPS with this context."""

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        """``http://127.0.0.1:PORT/path`` (``https://`` with :attr:`tls`)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def count(self, key: str) -> int:
        """Increment and return a named counter (thread-safe)."""
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def start(self) -> Site:
        site = self

        class Handler(_Handler):
            pass

        Handler.site = site
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def ranges_served(self, path: str) -> list[str]:
        """The Range headers of the GETs of ``path`` (``-`` for none), in arrival order."""
        return [r.headers.get("Range", "-") for r in self.requests if r.method == "GET" and r.path == path]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up mid-answer on purpose here (cut ranges, Ctrl-C): no traceback spam in the test log


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays readable
        pass

    def setup(self) -> None:
        self.connected = time.monotonic()
        super().setup()

    def do_HEAD(self) -> None:
        self._record("HEAD")
        self._status(405)

    def do_GET(self) -> None:
        self._record("GET")
        kind, _, rest = self.path.lstrip("/").partition("/")
        name = rest.split("?", 1)[0]
        site = self.site
        if kind == "status":
            self._status(int(name))
        elif kind == "f" or kind == "nohead":
            self._serve(site.files[name], '"v1"')
        elif kind == "late":
            if self.headers.get("Range", "").startswith("bytes=0-"):
                time.sleep(site.late)
            self._serve(site.files[name], '"v1"')
        elif kind == "ignore":
            self._whole(site.files[name])
        elif kind == "chunked":
            self._chunked(site.files[name])
        elif kind == "cut":
            self._serve(site.files[name], '"v1"', cut=site.count(f"cut:{name}") <= site.cut_times)
        elif kind == "signed":
            token = f"{name}-{site.count(f'token:{name}')}"
            site.tokens[token] = 0
            self._redirect(f"/s/{name}?token={token}")
        elif kind == "s":
            token = rest.partition("token=")[2]
            with site.lock:
                uses = site.tokens.get(token)
                if uses is not None:
                    site.tokens[token] = uses + 1
            if uses is None or uses >= site.signed_uses:
                self._status(403)
            else:
                self._serve(site.files[name], '"v1"')
        elif kind == "changing":
            if site.count(f"changing:{name}") <= site.change_after:
                self._serve(site.files[name], '"v1"')
            else:
                self._serve(site.files[name + ".v2"], '"v2"')
        elif kind == "swapped":
            if site.count(f"swapped:{name}") <= site.change_after:
                self._serve(site.files[name], '"v1"')
            else:
                self._serve(site.files[name + ".v2"], '"v2"', honour_if_range=False)
        elif kind == "novalidator":
            self._serve(site.files[name], None)
        elif kind == "liar":
            m = RANGE.match(self.headers.get("Range", ""))
            start = int(m.group(1)) if m else 0
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{site.liar_size - 1}/{site.liar_size}")
            self.send_header("Content-Length", str(site.liar_size - start))
            self.send_header("ETag", '"lie"')
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif kind == "bigheader":
            self.send_response(200)
            self.send_header("X-Big", "a" * 1_000_000)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "manyheaders":
            self.send_response(200)
            for i in range(500):
                self.send_header(f"X-H{i}", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "badredirect":
            self._redirect("http://[::1")
        elif kind == "other":
            assert site.other is not None
            self._redirect(site.other.url(f"/f/{name}"))
        elif kind == "moved":
            if self.headers.get("Range", "").startswith("bytes=0-"):
                self._serve(site.files[name], '"v1"')
            else:
                assert site.other is not None
                self._redirect(site.other.url(f"/f/{name}"))
        elif kind in ("away", "home"):
            assert site.other is not None
            self._redirect(site.other.url(f"/{'home' if kind == 'away' else 'f'}/{name}"))
        elif kind == "slow":
            self.send_response(200)
            self.send_header("Content-Length", str(len(site.files[name])))
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
        elif kind == "throttle":
            self._serve(site.files[name], '"v1"', rate=site.rate)
        elif kind == "delayed":
            time.sleep(site.delay)
            m = RANGE.match(self.headers.get("Range", ""))
            last_quarter = m is not None and int(m.group(1)) >= len(site.files[name]) * 3 // 4
            self._serve(site.files[name], '"v1"', rate=site.rate // 2 if last_quarter else site.rate)
        else:
            self._status(404)

    def _record(self, method: str) -> None:
        with self.site.lock:
            self.site.requests.append(
                Request(
                    method,
                    self.path,
                    dict(self.headers.items()),
                    time.monotonic(),
                    self.headers.get_all("Host") or [],
                    [self.requestline] + [f"{k}: {v}" for k, v in self.headers.items()],
                    self.connected,
                )
            )

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _whole(self, data: bytes, etag: str | None = '"v1"') -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    def _chunked(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(data), 7000):
            piece = data[i : i + 7000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def _serve(
        self, data: bytes, etag: str | None, *, cut: bool = False, rate: int = 0, honour_if_range: bool = True
    ) -> None:
        m = RANGE.match(self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range") if honour_if_range else None
        if m is None or (if_range is not None and if_range != etag):
            self._whole(data, etag)
            return
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
        if start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = data[start : end + 1]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        if cut:
            self.wfile.write(body[: self.site.cut_after])
            self.wfile.flush()
            self.close_connection = True
            return
        if rate:
            for i in range(0, len(body), rate // 20):
                self.wfile.write(body[i : i + rate // 20])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)


def pattern(size: int, seed: int = 0) -> bytes:
    """Bytes whose every 4-byte word differs from its neighbours, so a misplaced range cannot go unnoticed.

    Consecutive little-endian counters from a start the seed picks (array builds them in C: 24 MiB in ~0.1 s).

    >>> pattern(10, 1)[:4] != pattern(10, 2)[:4], pattern(12)[4:8] != pattern(12)[8:12], len(pattern(10))
    (True, True, 10)
    """
    start = (seed * 0x9E3779B1) % (2**32 - 2**28)  # room for 1 GiB of words before the counter would wrap
    return array.array("I", range(start, start + size // 4 + 1)).tobytes()[:size]
