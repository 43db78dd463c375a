"""The first request on the wire while Python still imports requests (~0.15-0.2 s): its round trip overlaps them.

A thread sends, with the standard library's http.client, exactly the request requests is about to send for the
first answer (``GET``, ``Range: bytes=0-``, the session's and the user's headers) and reads the answer's status and
headers; socket waits release the GIL, so the network and the imports proceed together. The answer is then handed
to requests through its own extension point, a transport adapter (:func:`early_adapter`), but only if the request
requests prepared is the one that was sent: same method, scheme, host, port, target and headers, certificates
verified against the CA bundle requests uses (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` or certifi's), no client
certificate, no proxy. Anything else (a netrc or a proxy from the environment, a URL requests re-quotes) and the
early answer is dropped and the request sent again the ordinary way; so is an early request that failed (the
ordinary attempt then meets and reports the failure as it always did), except a timeout, which is reported as
requests reports it instead of being waited out twice.

When that first answer shows ranges and a validator, the requests of the next blocks (the ones the other
connections will ask for first, each with its Range and If-Range) go out the same way, each on its own connection,
and are matched the same way when the workers send them: all the first round trips then overlap the import. The
connections they need are opened beside the first one (:class:`Spare`), so that their handshakes overlap its round
trip; those the first answer leaves unused are closed at once. A redirect is followed from the thread too
(:meth:`Early._follow`): the target's request, with the headers rget.remote.send gives a redirect target, goes out
as soon as the redirect is in, with spare connections to the target's host, and is matched the same way.

The console script starts all this as soon as its command line is read (:func:`prestart`), before it imports the
rest of rget, http.client included: the request is written to the socket as http.client would write it
(:meth:`Early.request`), and its answer read with http.client's own parser. :meth:`Early.start`, called where the
download makes its session, then takes over that start if it is for the same request, else starts anew.

Used only when requests is not imported yet (else there is nothing to overlap): the console script, not a library
caller or the tests that answer HTTP with ``responses``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from rget.remote import (
    MAX_REDIRECTS,
    REDIRECTS,
    SESSION_HEADERS,
    Remote,
    merged_headers,
    origin,
    parse_content_range,
    url_problem,
)

if TYPE_CHECKING:
    import http.client
    import ssl

    import requests
    from requests.adapters import HTTPAdapter

SWITCH = 0.0005
"""The GIL switch interval while the early requests go out: their threads then wait at most this long for the
interpreter while the main thread imports (the default, 5 ms, is paid again at every answer and every send)."""

_BODY_HEADERS = frozenset({"transfer-encoding", "content-length", "expect"})

_HEX = frozenset("0123456789ABCDEF")
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?")
"""Characters that neither requests nor urllib3 re-quote in a request target."""


def plain_target(url: str) -> str | None:
    """The request target of ``url`` (path and query) when no library would rewrite it, else None.

    >>> plain_target("https://h/releases/download/v1/tool.tar.gz?X-Amz-Credential=AKIA%2F1&sig=a")
    '/releases/download/v1/tool.tar.gz?X-Amz-Credential=AKIA%2F1&sig=a'
    >>> plain_target("http://h"), plain_target("http://h/a b"), plain_target("http://h/%2f"), plain_target("http://h/#x")
    ('/', None, None, None)
    >>> plain_target("http://h/a/./b"), plain_target("http://h/a/../b"), plain_target("http://h/a..b/.c")
    (None, None, '/a..b/.c')
    """
    parts = urlsplit(url)
    if parts.fragment or "#" in url:
        return None
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return None  # urllib3 removes dot segments from the path it sends
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    rest = target.split("%")
    if not set(rest[0]) <= _PLAIN:
        return None
    for piece in rest[1:]:  # an escape is kept as sent only when upper-case and not of an unreserved character
        code, tail = piece[:2], piece[2:]
        if len(code) < 2 or not set(code) <= _HEX or chr(int(code, 16)) in _PLAIN - set("!$&'()*+,;=:@/?"):
            return None
        if not set(tail) <= _PLAIN:
            return None
    return target


def _ca_bundle() -> str | None:
    """The CA bundle requests takes from the environment (its ``verify``), or None for its default (certifi)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def _environment_changes_requests() -> bool:
    """True when requests would take something else from the environment: a proxy, a netrc file."""
    if any(key.lower().endswith("_proxy") and value for key, value in os.environ.items()):
        return True
    if sys.platform in ("darwin", "win32"):  # proxies from the system's settings too (elsewhere only variables)
        import urllib.request

        if urllib.request.getproxies():
            return True
    if os.environ.get("NETRC"):
        return True
    home = os.path.expanduser("~")
    return any(os.path.exists(os.path.join(home, name)) for name in (".netrc", "_netrc"))


def _own_target(url: str, base: dict[str, str]) -> str | None:
    """The request target of ``url`` when a request of ours with headers ``base`` is the one requests would send
    (http or https, no user info, an ASCII host without a trailing dot, no body, a target no library rewrites)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or parts.username is not None or parts.password is not None:
        return None
    if not host.isascii() or host.endswith("."):
        return None
    if {name.lower() for name in base} & _BODY_HEADERS:
        return None  # a request with a body: urllib3 would send one (an empty chunked body), we send none
    return plain_target(url)


class Early:
    """One request sent ahead by a thread; :meth:`take` hands its answer over if it is the request requests makes.

    The first request (``GET Range: bytes=0-``) reads its answer's headers in its thread; when they show ranges and
    a validator, ``ahead`` (size -> the byte ranges the first connections will ask for next) names the requests to
    send ahead as well, each on its own connection (:attr:`followers`), so that they too are under way while Python
    imports. Theirs are read by the worker whose request they match.
    """

    def __init__(
        self,
        url: str,
        base: dict[str, str],
        extra: dict[str, str],
        timeout: float,
        target: str,
        *,
        ahead: Callable[[int], list[tuple[int, int]]] | None = None,
        spare: Spare | None = None,
        tls: TLS | None = None,
        connections: int = 1,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self.scheme = parts.scheme.lower()
        self.host = (parts.hostname or "").lower()
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.target = target
        self.base = base
        self.headers = merged_headers(base, extra)
        self.timeout = timeout
        self.bundle = _ca_bundle()
        self.ahead = ahead
        self.ahead_known = threading.Event()  # set once the download names its next ranges (or that there are none)
        self.ahead_known.set()
        self.spare = spare
        self.spares: list[Spare] = []
        self.tls = tls or TLS(self.bundle)
        self.connected = False
        self.answer: http.client.HTTPResponse | None = None
        self.error: BaseException | None = None
        self.followers: list[Early] = []
        """Requests sent after this one's answer: the next ranges', or the request of the URL it redirects to."""
        self.connections = connections
        self.given = url
        """The URL the user gave (this one, unless this request follows a redirect of it)."""
        self.given_base = base
        """The headers of a request to the given URL's origin (the user's among them)."""
        self.hops = 0
        """Redirects followed to get here."""
        self.opening = False
        """A first request (``Range: bytes=0-``, the given URL's or a redirect target's): only its redirect is
        followed here (a range's redirect would be asked with that range's own headers)."""
        self.closed = False
        self.redirect: Early | None = None
        self._sock: socket.socket | None = None
        self.asked = self.answered = 0.0
        self._switch = 0.0  # the interpreter's switch interval to restore once the early requests are out
        self._thread = threading.Thread(target=self._send, name="rget-early", daemon=True)

    @classmethod
    def start(
        cls,
        url: str,
        base: dict[str, str],
        timeout: float,
        ahead: Callable[[int], list[tuple[int, int]]] | None = None,
        connections: int = 1,
    ) -> Early | None:
        """Send the first request of ``url`` now (``base``: every header but Range), or None when it cannot be
        known to be requests' own; with ``ahead``, ``connections - 1`` connections are opened for the requests it
        names. The one :func:`prestart` began is taken over when it is that same request."""
        global _prestarted
        early, _prestarted = _prestarted, None
        if early is not None:
            if (early.url, early.base, early.timeout) == (url, base, timeout):
                early.name_ahead(ahead)
                return early
            early.close()
        early = cls.begin(url, base, timeout, connections if ahead is not None else 1)
        if early is not None:
            early.name_ahead(ahead)
        return early

    @classmethod
    def begin(cls, url: str, base: dict[str, str], timeout: float, connections: int) -> Early | None:
        """The first request on its way, and ``connections - 1`` spare connections opening; the next ranges wait
        for :meth:`name_ahead`. None when the request cannot be known to be requests' own."""
        if "requests" in sys.modules or _environment_changes_requests():
            return None
        if (target := _own_target(url, base)) is None:
            return None
        early = cls(url, base, {"Range": "bytes=0-"}, timeout, target, connections=connections)
        early.opening = True
        # the import holds the GIL for 5 ms at a time by default: the answers would wait that long to be read
        early._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(early._switch, SWITCH))
        early._send_and_open_spares()
        return early

    def _send_and_open_spares(self) -> None:
        """Send the first request, and open the spare connections beside it (it asks before they connect)."""
        self.ahead_known.clear()
        spares = [Spare(self.connect) for _ in range(self.connections - 1)]
        self.spares = list(spares)  # the thread pops what it uses: those must still be started, by this loop
        self._thread.start()
        for spare in spares:
            spare.start()

    def name_ahead(self, ahead: Callable[[int], list[tuple[int, int]]] | None) -> None:
        """The ranges the other connections will ask for first (None: none go ahead)."""
        self.ahead = ahead
        self.ahead_known.set()
        if self.redirect is not None:
            self.redirect.name_ahead(ahead)

    def request(self) -> bytes:
        r"""The request as http.client writes it (requests sends through urllib3, which sends through http.client):
        the request line, then Host and Accept-Encoding unless given, then each header, in order.

        >>> Early("http://H:8080/a", {"User-Agent": "u"}, {"Range": "bytes=0-"}, 1.0, "/a").request()
        b'GET /a HTTP/1.1\r\nHost: h:8080\r\nAccept-Encoding: identity\r\nUser-Agent: u\r\nRange: bytes=0-\r\n\r\n'
        >>> Early("https://[::1]/a", {"Host": "x"}, {}, 1.0, "/a").request()
        b'GET /a HTTP/1.1\r\nAccept-Encoding: identity\r\nHost: x\r\n\r\n'
        """
        given = {name.lower() for name in self.headers}
        lines = [f"GET {self.target} HTTP/1.1"]
        if "host" not in given:
            host = f"[{self.host}]" if ":" in self.host else self.host
            default = 443 if self.scheme == "https" else 80
            lines.append(f"Host: {host}" if self.port == default else f"Host: {host}:{self.port}")
        if "accept-encoding" not in given:
            lines.append("Accept-Encoding: identity")
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return "\r\n".join([*lines, "", ""]).encode("latin-1")

    def connect(self) -> socket.socket:
        """A connection to the URL's host, as http.client makes it (TCP_NODELAY; TLS verified as requests would)."""
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.scheme == "https":
                sock = self.tls.context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return sock

    def _send(self) -> None:
        try:
            sock = self.spare.take() if self.spare is not None else None
            self.asked = time.monotonic()  # as requests' elapsed counts: a new connection's handshakes included
            if sock is None:  # no spare, or its connect failed: this request meets the failure itself
                sock = self.connect()
            self._sock = sock
            self.connected = True
            sock.sendall(self.request())
            import http.client

            answer = http.client.HTTPResponse(sock, method="GET")
            answer.begin()
            self.answered = time.monotonic()
            self.answer = answer
        except BaseException as e:  # reported by take(), or met again by the ordinary request
            self.error = e
            if self._sock is not None:
                self._sock.close()
            self._close_spares()
            self._restore_switch()
            return
        try:
            followed = self.opening and not self.closed and self._follow(answer)
        except BaseException:  # only a speed-up: the ordinary request follows the redirect
            followed = False
            self._close_spares()
        if followed:
            return
        if self.spares:  # connections for the next ranges: send them once the download names them
            self.ahead_known.wait(self.timeout)
            with contextlib.suppress(Exception):  # only a speed-up: the workers then send their own requests
                self._send_ahead(answer)
        self._close_spares()
        self._restore_switch()

    def _follow(self, answer: http.client.HTTPResponse) -> bool:
        """A redirect (a GitHub release asset's, to its CDN): send its target's request now, as
        :func:`rget.remote.send` will once requests is imported (the user's headers only to the original URL's
        origin), with spare connections to the target's host; those to this host are closed unused. True when
        the target's request went out."""
        location = answer.getheader("Location")
        if answer.status not in REDIRECTS or not location or self.hops >= MAX_REDIRECTS:
            return False
        try:
            url = urljoin(self.url, location)
            if url_problem(url):
                return False  # the ordinary request meets it and says what is wrong
        except ValueError:
            return False
        base = self.given_base if origin(url) == origin(self.given) else dict(SESSION_HEADERS)
        if (target := _own_target(url, base)) is None:
            return False
        hop = Early(url, base, {"Range": "bytes=0-"}, self.timeout, target, tls=self.tls, connections=self.connections)
        hop.given, hop.given_base, hop.hops, hop.opening = self.given, self.given_base, self.hops + 1, True
        self._close_spares()
        hop._switch, self._switch = self._switch, 0.0  # restored once the target's own early requests are out
        try:
            hop._send_and_open_spares()
        except BaseException:
            self._switch, hop._switch = hop._switch, 0.0
            raise
        self.redirect = hop
        self.followers.append(hop)
        if self.ahead_known.is_set():  # named before the target's request was known here: pass it on
            hop.name_ahead(self.ahead)
        return True

    def _restore_switch(self) -> None:
        if self._switch:
            sys.setswitchinterval(self._switch)
            self._switch = 0.0

    def _close_spares(self) -> None:
        spares, self.spares = self.spares, []
        for spare in spares:
            spare.close()

    def _send_ahead(self, answer: http.client.HTTPResponse) -> None:
        """The next ranges' requests, when the first answer is the whole file from byte 0 with a validator (the
        If-Range they carry is the one the workers will send: a strong ETag, or none)."""
        if self.ahead is None or answer.status != 206:
            return
        cr = parse_content_range(answer.getheader("Content-Range"))
        if cr is None or cr.start != 0 or cr.total is None or cr.end != cr.total - 1:
            return
        remote = Remote(self.url, self.url, cr.total, answer.getheader("ETag"), answer.getheader("Last-Modified"), True)
        if remote.validator is None:
            return
        for start, end in self.ahead(cr.total):
            extra = {"Range": f"bytes={start}-{end}"}
            if remote.if_range:
                extra["If-Range"] = remote.if_range
            spare = self.spares.pop() if self.spares else None
            follower = Early(self.url, self.base, extra, self.timeout, self.target, spare=spare, tls=self.tls)
            follower._thread.start()
            self.followers.append(follower)

    def matches(self, request: requests.PreparedRequest, verify: object, cert: object, proxies: Any) -> bool:
        """True when ``request`` (as requests would send it) is the request this thread sent."""
        from requests.utils import select_proxy

        if request.method != "GET" or request.body is not None or cert:
            return False
        if verify != (self.bundle if self.bundle is not None else True):
            return False
        if select_proxy(request.url or "", proxies or {}):
            return False
        parts = urlsplit(request.url or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if (parts.scheme.lower(), (parts.hostname or "").lower(), port) != (self.scheme, self.host, self.port):
            return False
        if request.path_url != self.target:
            return False
        sent = {k.lower(): v for k, v in self.headers.items()}
        return {k.lower(): v for k, v in request.headers.items()} == sent

    def take(self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response | None:
        """The early answer as requests' Response to ``request`` (which :meth:`matches`), or None: send it the
        ordinary way."""
        self._thread.join()
        if self.answer is None:
            if isinstance(self.error, TimeoutError):
                import requests

                timeout = requests.exceptions.ReadTimeout if self.connected else requests.exceptions.ConnectTimeout
                raise timeout(f"{self.host}: {self.error}", request=request)
            return None
        raw = self.answer
        if any("\r\n" in value for value in raw.msg.values()):  # obsolete line folding: let urllib3 unfold it
            self.close()
            return None
        from urllib3 import HTTPHeaderDict, HTTPResponse
        from urllib3.exceptions import InvalidHeader

        try:
            raw_response = HTTPResponse(
                body=raw,
                headers=HTTPHeaderDict(raw.msg.items()),
                status=raw.status,
                version=raw.version,
                reason=raw.reason,
                preload_content=False,
                decode_content=False,
                original_response=raw,
                request_method="GET",
                request_url=request.url,
            )
        except InvalidHeader as e:  # two different Content-Lengths: what requests' own adapter raises for it
            import requests

            self.close()
            raise requests.exceptions.InvalidHeader(e, request=request) from None
        if self._sock is not None:  # the answer's file holds the socket open now (as http.client leaves it)
            sock, self._sock = self._sock, None
            sock.close()
        response: requests.Response = adapter.build_response(request, raw_response)
        # requests sets elapsed to the time send() took, here only the hand-over: the real wait goes beside it
        response.early_elapsed = self.answered - self.asked  # type: ignore[attr-defined]
        response.sent_early = True  # type: ignore[attr-defined]  # for -v
        return response

    def close(self) -> None:
        """Drop the early answer (not used), and the requests sent after it."""
        self.closed = True
        self.name_ahead(None)
        self._thread.join()
        if self.answer is not None:
            self.answer.close()
        if self._sock is not None:
            self._sock.close()
        for follower in self.followers:
            follower.close()
        self.followers = []


_prestarted: Early | None = None
"""The first request the console script sent before importing the rest (:func:`prestart`)."""


def prestart(url: str, headers: dict[str, str], timeout: float, connections: int) -> None:
    """The console script's start: the first request of ``url`` (with the user's ``headers``) on its way, and
    the other connections opening, as soon as the command line is read; :meth:`Early.start` takes it over."""
    global _prestarted
    _prestarted = Early.begin(url, merged_headers(SESSION_HEADERS, headers), timeout, connections)


class TLS:
    """One TLS context for all of a URL's early connections, made once (loading the CA bundle costs milliseconds)."""

    def __init__(self, bundle: str | None) -> None:
        self.bundle = bundle
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                import ssl

                if self.bundle is None:
                    import certifi  # requests' own CA bundle

                    context = ssl.create_default_context(cafile=certifi.where())
                elif os.path.isdir(self.bundle):
                    context = ssl.create_default_context(capath=self.bundle)
                else:
                    context = ssl.create_default_context(cafile=self.bundle)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.set_alpn_protocols(["http/1.1"])
                self._context = context
            return self._context


class Spare:
    """A connection opened ahead for a request the first answer will name: its TCP and TLS handshakes overlap the
    first request's round trip."""

    def __init__(self, connect: Callable[[], socket.socket]) -> None:
        self._connect = connect
        self.sock: socket.socket | None = None
        self.closed = False
        self._lock = threading.Lock()
        self._done = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._open, name="rget-spare", daemon=True).start()

    def _open(self) -> None:
        try:
            if not self.closed:
                sock = self._connect()
                with self._lock:
                    if self.closed:
                        sock.close()
                    else:
                        self.sock = sock
        except BaseException:  # the request that takes it then connects on its own, and meets the failure
            pass
        finally:
            self._done.set()

    def take(self) -> socket.socket | None:
        """The connected socket, or None if connecting failed."""
        self._done.wait()
        return self.sock

    def close(self) -> None:
        """Not needed: closed now, or as soon as its handshake ends (not waited for)."""
        with self._lock:
            self.closed = True
            if self.sock is not None:
                self.sock.close()


def early_adapter(early: Early | None, **kwargs: Any) -> HTTPAdapter:
    """requests' HTTPAdapter that answers a request from an early one when it is exactly that request."""
    from requests.adapters import HTTPAdapter

    class EarlyAdapter(HTTPAdapter):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.pending: list[Early] = [early] if early is not None else []
            self.pending_lock = threading.Lock()

        def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
            if self.pending:
                with self.pending_lock:
                    found = next(
                        (
                            e
                            for e in self.pending
                            if e.matches(request, kw.get("verify"), kw.get("cert"), kw.get("proxies"))
                        ),
                        None,
                    )
                    if found is not None:
                        self.pending.remove(found)
                if found is not None:
                    answered = found.take(self, request, **kw)
                    with self.pending_lock:
                        self.pending.extend(found.followers)
                        found.followers = []
                    if answered is not None:
                        return answered
            response: requests.Response = super().send(request, **kw)
            return response

    return EarlyAdapter(**kwargs)
