"""A real HTTP server on 127.0.0.1 whose every answer is drawn by hypothesis: status lines, validators,
Content-Length/Content-Range that lie or conflict, bodies cut short, dripped or stalled, huge or many headers,
redirects anywhere (loops, bad URLs, closed ports).

It speaks raw HTTP/1.1 over sockets (not http.server, which would tidy the lies away). One server serves every
example of a run: each example registers a :class:`Script` and gets its own path prefix ``/e<N>/``, so a request
still in flight from an earlier example gets that example's answers, never the current one's. Request ``i`` of
an example gets ``answers[i]``, the last answer repeating forever (a server that misbehaves the same way on every
retry).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field

_RANGE = re.compile(rb"^bytes=(\d+)-(\d*)$")
_HEAD_LIMIT = 64 * 1024
DRIP_SECONDS = 0.4  # a drip spreads one answer over this long: slow, but within any --timeout used here
STALL_SECONDS = 0.8  # a stall: longer than the --timeout the cases use (0.5 s), then the connection closes


@dataclass(frozen=True)
class Answer:
    """One answer. ``kind`` is ``file`` (the requested bytes of a version, perturbed as the fields say),
    ``redirect``, ``status`` (a bare status code) or ``raw`` (these bytes, then close)."""

    kind: str = "file"
    status: int = 0
    reason: str = "OK"
    range_mode: str = "honour"  # honour ignore relabel offset total no_cr bad_cr r416
    shift: int = 1
    version: int = 1
    etag: str = "version"  # version none weak unique other
    modified: str = "version"  # version none other
    length: str = "exact"  # exact absent short long garbage two chunked
    body: str = "full"  # full cut drip stall corrupt
    cut: int = 0
    extra: str = ""  # huge many badbytes nocolon fold, line:N (one header line of N bytes), headers:N (N in all)
    disposition: bytes = b""  # a Content-Disposition header, as sent
    location: str = ""  # self next bad closed relative empty ftp long control
    raw: bytes = b""
    close: bool = False


@dataclass
class Script:
    """What one example's server does: the versions of the file it may serve and the answers, in order.

    ``honest`` keeps to lies rget can detect (see :meth:`Server.answer`): without ``--sha256`` a lie that makes a
    well-formed, wrong file (a short Content-Length, bytes from the wrong offset, another version under the same
    validator) cannot be caught by any client, so those are only drawn when the case passes ``--sha256``.
    """

    versions: tuple[bytes, bytes]
    answers: tuple[Answer, ...]
    honest: bool
    requests: int = 0
    log: list[str] = field(default_factory=list)

    def etag(self, version: int) -> str:
        return f'"v{version}"'

    def modified(self, version: int) -> str:
        return f"Wed, 02 Dec 2026 00:00:0{version} GMT"


class Server:
    """The threaded socket server; :meth:`add` registers a script and returns its URL."""

    def __init__(self) -> None:
        self.scripts: dict[int, Script] = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    server.serve(self.request)

        class Threaded(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # rget hangs up mid-answer on purpose: nothing to report

        self.tcp = Threaded(("127.0.0.1", 0), Handler)
        self.port = int(self.tcp.server_address[1])
        self.closed_port = _closed_port()
        threading.Thread(target=self.tcp.serve_forever, daemon=True, name="scripted-server").start()

    def add(self, script: Script) -> str:
        with self.lock:
            n = next(self.ids)
            self.scripts[n] = script
            for old in [k for k in self.scripts if k < n - 50]:  # long fuzz runs: keep memory flat
                del self.scripts[old]
        return f"http://127.0.0.1:{self.port}/e{n}/file.bin"

    def close(self) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()

    def serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        pending = b""
        while True:
            while b"\r\n\r\n" not in pending:
                chunk = sock.recv(65536)
                if not chunk or len(pending) > _HEAD_LIMIT:
                    return
                pending += chunk
            head, _, pending = pending.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            target = parts[1] if len(parts) > 1 else b"/"
            headers = {}
            for line in lines[1:]:
                key, _, value = line.partition(b":")
                headers[key.strip().lower()] = value.strip()
            m = re.match(rb"^/e(\d+)/", target)
            script = self.scripts.get(int(m.group(1))) if m else None
            if script is None:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with self.lock:
                index = script.requests
                script.requests += 1
            answer = script.answers[min(index, len(script.answers) - 1)]
            script.log.append(f"{index}: {target.decode(errors='replace')} range={headers.get(b'range')!r}")
            if not self.answer(sock, script, answer, index, target, headers):
                return

    def answer(
        self, sock: socket.socket, script: Script, a: Answer, index: int, target: bytes, headers: dict[bytes, bytes]
    ) -> bool:
        """Send one answer; True when the connection stays open for the next request."""
        if a.kind == "raw":
            sock.sendall(a.raw)
            return False
        if a.kind == "status":
            reason = a.reason.encode("utf-8", "surrogateescape")
            sock.sendall(b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n" % (a.status, reason))
            return not a.close
        if a.kind == "redirect":
            location = self._location(a, script, target)
            sock.sendall(b"HTTP/1.1 %d Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % (a.status, location))
            return not a.close
        return self._file(sock, script, a, index, headers)

    def _location(self, a: Answer, script: Script, target: bytes) -> bytes:
        prefix = target.split(b"/file", 1)[0]
        return {
            "self": target,
            "next": prefix + b"/file.bin?hop",
            "bad": b"http://[::1",
            "closed": b"http://127.0.0.1:%d/x" % self.closed_port,
            "relative": b"other.bin",
            "empty": b"",
            "ftp": b"ftp://127.0.0.1/x",
            "long": prefix + b"/" + b"a" * 70_000,
            "control": prefix + b"/\x1b[2J\x1b[31mEVIL",
        }[a.location]

    def _file(self, sock: socket.socket, script: Script, a: Answer, index: int, headers: dict[bytes, bytes]) -> bool:
        honest = script.honest
        data = script.versions[a.version - 1]
        size = len(data)
        m = _RANGE.match(headers.get(b"range", b""))
        mode = a.range_mode
        if honest and mode in ("offset", "total"):
            mode = "honour"
        out: list[bytes] = []
        if m and (mode == "r416" or (mode != "ignore" and int(m.group(1)) >= size)):
            status, body = 416, b""
            out.append(b"Content-Range: bytes */%d" % size)
        elif m and mode != "ignore":
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            skew = a.shift if mode == "offset" else 0
            status, body = 206, data[start + skew : end + 1 + skew]
            if mode == "relabel":
                out.append(b"Content-Range: bytes %d-%d/%d" % (start + a.shift, end + a.shift, size))
            elif mode == "total":
                out.append(b"Content-Range: bytes %d-%d/%d" % (start, end, size + a.shift))
            elif mode == "bad_cr":
                out.append(b"Content-Range: bytes %d-%d/*x" % (start, end))
            elif mode != "no_cr":
                out.append(b"Content-Range: bytes %d-%d/%d" % (start, end, size))
        else:
            status, body = 200, data
        bodymode, length = a.body, a.length
        if honest:
            if bodymode == "corrupt":
                bodymode = "full"
            if status == 200 and length in ("short", "two"):
                length = "exact"  # a 200 whose length lies is a different, shorter file: nobody could tell
            if status == 200 and length in ("absent", "garbage") and bodymode in ("cut", "stall"):
                bodymode = "full"  # without a length, a cut is the end of the file: nobody could tell
        etag = {
            "version": script.etag(a.version),
            "none": None,
            "weak": "W/" + script.etag(a.version),
            "unique": f'"v{a.version}-r{index}"',
            "other": script.etag(3 - a.version),
        }[a.etag if not (honest and a.etag == "other") else "version"]
        modified = {"version": script.modified(a.version), "none": None, "other": script.modified(3 - a.version)}[
            a.modified if not (honest and a.modified == "other") else "version"
        ]
        if etag:
            out.append(b"ETag: " + etag.encode())
        if modified:
            out.append(b"Last-Modified: " + modified.encode())
        if bodymode == "corrupt" and body:
            at = a.cut % len(body)
            body = body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1 :]
        close = a.close or length in ("absent", "garbage", "long") or bodymode in ("cut", "stall")
        if length == "exact":
            out.append(b"Content-Length: %d" % len(body))
        elif length == "short":
            out.append(b"Content-Length: %d" % max(0, len(body) - a.shift))
        elif length == "long":
            out.append(b"Content-Length: %d" % (len(body) + a.shift))
        elif length == "garbage":
            out.append(b"Content-Length: 12abc")
        elif length == "two":
            out += [b"Content-Length: %d" % len(body), b"Content-Length: %d" % (len(body) + a.shift)]
        elif length == "chunked":
            out.append(b"Transfer-Encoding: chunked")
        if close:
            out.append(b"Connection: close")
        if a.disposition:
            out.append(b"Content-Disposition: " + a.disposition)
        out += _extra(a.extra, len(out))
        reason = a.reason.encode("utf-8", "surrogateescape")
        sock.sendall(b"HTTP/1.1 %d %s\r\n%s\r\n\r\n" % (status, reason, b"\r\n".join(out)))
        if length == "chunked":
            body = _chunks(body, final=bodymode not in ("cut", "stall"))
        if bodymode == "cut":
            sock.sendall(body[: a.cut % (len(body) + 1)])
            return False
        if bodymode == "stall":
            sock.sendall(body[: a.cut % (len(body) + 1)])
            time.sleep(STALL_SECONDS)
            return False
        if bodymode == "drip":
            pieces = 8
            step = max(1, -(-len(body) // pieces))
            for i in range(0, len(body), step):
                sock.sendall(body[i : i + step])
                time.sleep(DRIP_SECONDS / pieces)
        else:
            sock.sendall(body)
        return not close


def _extra(kind: str, sent: int) -> list[bytes]:
    """Headers that test the HTTP client's limits; ``sent``: how many the answer has already."""
    what, _, count = kind.partition(":")
    if what == "line":  # the whole line, its CRLF included, is N bytes
        return [b"X-Line: " + b"a" * (int(count) - len(b"X-Line: \r\n"))]
    if what == "headers":
        return [b"X-H%d: 1" % i for i in range(int(count) - sent)]
    if kind == "huge":
        return [b"X-Big: " + b"a" * 1_000_000]
    if kind == "many":
        return [b"X-H%d: 1" % i for i in range(500)]
    if kind == "badbytes":
        return [b"X-Bad: \xff\xfe\x1b[2J"]
    if kind == "nocolon":
        return [b"NoColonHere"]
    if kind == "fold":
        return [b"X-Folded: a", b" continued"]
    return []


def _chunks(body: bytes, *, final: bool) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + 7000]), body[i : i + 7000]) for i in range(0, len(body), 7000)]
    return b"".join(parts) + (b"0\r\n\r\n" if final else b"")


def _closed_port() -> int:
    """A port nothing listens on (bound, then released): a redirect there is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def version_bytes(seed: int, size: int) -> bytes:
    """Reproducible bytes of one version of the served file."""
    return random.Random(seed).randbytes(size)
