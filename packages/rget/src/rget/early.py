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
and are matched the same way when the workers send them: all the first round trips then overlap the import.

Used only when requests is not imported yet (else there is nothing to overlap): the console script, not a library
caller or the tests that answer HTTP with ``responses``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rget.remote import Remote, merged_headers, parse_content_range

if TYPE_CHECKING:
    import http.client

    import requests
    from requests.adapters import HTTPAdapter

_HEX = frozenset("0123456789ABCDEF")
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?")
"""Characters that neither requests nor urllib3 re-quote in a request target."""


def plain_target(url: str) -> str | None:
    """The request target of ``url`` (path and query) when no library would rewrite it, else None.

    >>> plain_target("https://h/releases/download/v1/tool.tar.gz?X-Amz-Credential=AKIA%2F1&sig=a")
    '/releases/download/v1/tool.tar.gz?X-Amz-Credential=AKIA%2F1&sig=a'
    >>> plain_target("http://h"), plain_target("http://h/a b"), plain_target("http://h/%2f"), plain_target("http://h/#x")
    ('/', None, None, None)
    """
    parts = urlsplit(url)
    if parts.fragment or "#" in url:
        return None
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
    if os.environ.get("NETRC"):
        return True
    home = os.path.expanduser("~")
    return any(os.path.exists(os.path.join(home, name)) for name in (".netrc", "_netrc"))


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
        read_answer: bool = True,
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
        self.read_answer = read_answer
        self.connected = False
        self.answer: http.client.HTTPResponse | None = None
        self.error: BaseException | None = None
        self.followers: list[Early] = []
        self._conn: http.client.HTTPConnection | None = None
        self._thread = threading.Thread(target=self._send, name="rget-early", daemon=True)

    @classmethod
    def start(
        cls,
        url: str,
        base: dict[str, str],
        timeout: float,
        ahead: Callable[[int], list[tuple[int, int]]] | None = None,
    ) -> Early | None:
        """Send the first request of ``url`` now (``base``: every header but Range), or None when it cannot be
        known to be requests' own."""
        if "requests" in sys.modules or _environment_changes_requests():
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme.lower() not in ("http", "https") or parts.username is not None or parts.password is not None:
            return None
        if not host.isascii() or host.endswith(".") or (target := plain_target(url)) is None:
            return None
        early = cls(url, base, {"Range": "bytes=0-"}, timeout, target, ahead=ahead)
        early._thread.start()
        return early

    def _send(self) -> None:
        import http.client

        try:
            if self.scheme == "https":
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
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._conn = conn
            conn.connect()
            self.connected = True
            # a user's Host or Accept-Encoding replaces http.client's own, as urllib3 does: one of each on the wire
            given = {name.lower() for name in self.headers}
            conn.putrequest(
                "GET", self.target, skip_host="host" in given, skip_accept_encoding="accept-encoding" in given
            )
            for name, value in self.headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            if self.read_answer:
                self.answer = conn.getresponse()
        except BaseException as e:  # reported by take(), or met again by the ordinary request
            self.error = e
            if self._conn is not None:
                self._conn.close()
            return
        if self.answer is not None:
            with contextlib.suppress(Exception):  # only a speed-up: the workers then send their own requests
                self._send_ahead(self.answer)

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
            follower = Early(self.url, self.base, extra, self.timeout, self.target, read_answer=False)
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
        if self.answer is None and self.error is None and self._conn is not None:
            try:
                self.answer = self._conn.getresponse()  # a follower's: read by the worker that asked for it
            except BaseException as e:
                self.error = e
                self._conn.close()
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
        if self._conn is not None:  # the answer owns the socket now (as http.client does when a server closes)
            sock, self._conn.sock = self._conn.sock, None
            if sock is not None:
                sock.close()
        response: requests.Response = adapter.build_response(request, raw_response)
        response.sent_early = True  # type: ignore[attr-defined]  # for -v
        return response

    def close(self) -> None:
        """Drop the early answer (not used)."""
        self._thread.join()
        if self.answer is not None:
            self.answer.close()
        if self._conn is not None:
            self._conn.close()


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
