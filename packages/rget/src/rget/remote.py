"""The remote file: requests with our own redirect handling, the first request, validators, Content-Range.

Redirects are followed here rather than by requests so that the user's extra headers (``-H``, e.g. an
Authorization token for a private release asset) only ever go to the host the user named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from rget import __version__
from rget.errors import RgetError

if TYPE_CHECKING:
    import requests

MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.IGNORECASE)


class ContentRange(NamedTuple):
    """A parsed ``Content-Range: bytes START-END/TOTAL`` (``start``/``end`` are None for ``*/TOTAL``)."""

    start: int | None
    end: int | None
    total: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse a Content-Range header; None when absent or malformed.

    >>> parse_content_range("bytes 0-0/1234")
    ContentRange(start=0, end=0, total=1234)
    >>> parse_content_range("bytes */0")
    ContentRange(start=None, end=None, total=0)
    """
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None
    start, end, total = m.groups()
    return ContentRange(
        int(start) if start is not None else None,
        int(end) if end is not None else None,
        int(total) if total != "*" else None,
    )


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable (not http(s), no host, a bad port), or None.

    >>> url_problem("http://127.0.0.1:99999/x")
    'Port out of range 0-65535'
    >>> url_problem("https://github.com/o/r/releases/download/v1/tool") is None
    True
    """
    if not re.match(r"^https?://", url, re.IGNORECASE):
        return "only http:// and https:// URLs"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port that is not a number in range
    except ValueError as e:
        return str(e)
    return None if parts.hostname else "no host"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports filled in: the unit to which the user's headers are confined."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def shown(url: str, original: str) -> str:
    """The URL to print in a message: a redirect target loses its query (signed URLs carry secrets there)."""
    if url == original:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0] + ("?…" if "?" in url else "")
    return parts._replace(query="…" if parts.query else "", fragment="").geturl()


class HttpError(RgetError):
    """A response we cannot use: names the URL and the HTTP status."""

    def __init__(self, url: str, status: int, reason: str, *, redirected: bool = False) -> None:
        self.cause = f"HTTP {status} {reason}".rstrip()
        """The status without the URL, for messages that name the URL themselves."""
        super().__init__(f"{url}: {self.cause}")
        self.status = status
        self.redirected = redirected
        """The answer came from a redirect target (a signed URL that may have expired), not the URL given."""


class Remote(NamedTuple):
    """What the first answer said: where the bytes are, how many, which version (ETag/Last-Modified), the name.

    NamedTuples and plain classes, not dataclasses, on the download's path: dataclasses imports inspect, and the
    two cost ~15-20 ms of every run's start-up."""

    url: str
    final_url: str
    size: int | None
    etag: str | None
    last_modified: str | None
    ranges: bool
    filename: str | None = None
    """The ``Content-Disposition`` file name, as sent (not yet sanitised)."""

    @property
    def validator(self) -> str | None:
        """What proves the version (for ``-c``): a strong ETag, else Last-Modified, else a weak ETag."""
        return self.if_range or self.last_modified or self.etag

    @property
    def if_range(self) -> str | None:
        """The If-Range value: a strong ETag only. A weak one cannot validate a range, and Apache answers 200 to a
        Last-Modified within a second of its clock (a file just written); every 206's validators are compared with
        the first answer's anyway (:meth:`changed`), so nothing rests on If-Range alone."""
        return self.etag if self.etag and not self.etag.startswith("W/") else None

    def same_version(self, other: Remote) -> bool:
        """True when ``other`` (a later probe) describes the same bytes."""
        return (self.size, self.etag, self.last_modified) == (other.size, other.etag, other.last_modified)

    def changed(self, headers: Mapping[str, str]) -> str | None:
        """How a later answer's validators differ from the first answer's, or None when they agree.

        Every 206 is checked, not only trusted through If-Range: some servers (S3 emulators, CDNs) ignore
        If-Range and answer the new version's bytes with its new ETag. A validator the first answer had and a
        later one lacks counts as a change: restarting costs speed, a mixed file costs correctness.

        >>> r = Remote("u", "u", 10, '"a"', None, True)
        >>> r.changed({"ETag": '"a"'}) is None, r.changed({"ETag": '"b"'})
        (True, 'ETag "b", was "a"')
        """
        for name, was in (("ETag", self.etag), ("Last-Modified", self.last_modified)):
            now = headers.get(name)
            if was is not None and _opaque(now) != _opaque(was):
                return f"{name} {now or 'missing'}, was {was}"
        return None


def _opaque(value: str | None) -> str | None:
    """An ETag for weak comparison (RFC 9110): Apache marks a file's ETag weak within a second of its last write and
    strong after, for the same bytes."""
    return value[2:] if value is not None and value.startswith("W/") else value


def tls_failure(exc: BaseException) -> str:
    """A TLS error in a few words, e.g. ``TLS failed: certificate verify failed: self-signed certificate``."""
    # requests nests it: "...(Caused by SSLError(...('[SSL: X] certificate verify failed: ... (_ssl.c:1006)')))"
    m = re.search(r"\[SSL[^]]*\] ([^'\"]+?)(?: \(_ssl\.c:\d+\))?['\"]", str(exc))
    return f"TLS failed: {m.group(1)}" if m else "TLS failed"


SESSION_HEADERS = {
    "User-Agent": f"rget/{__version__}",
    "Accept-Encoding": "identity",  # Content-Range counts the bytes on the wire: a compressed answer is not the file
    "Accept": "*/*",
    "Connection": "keep-alive",
}
"""Every request's headers (the user's ``-H`` and Range come on top)."""


def merged_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """Header layers merged as requests merges them: a later name replaces an earlier one whatever its case.

    >>> merged_headers({"Accept": "*/*"}, {"accept": "text/plain", "Range": "bytes=0-"})
    {'accept': 'text/plain', 'Range': 'bytes=0-'}
    """
    out: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            out[name.lower()] = (name, value)
    return dict(out.values())


def new_session(
    connections: int,
    *,
    first: tuple[str, dict[str, str], float] | None = None,
    ahead: Callable[[int], list[tuple[int, int]]] | None = None,
) -> requests.Session:
    """A session whose connection pool keeps one socket per worker.

    ``first`` (url, the user's headers, timeout): the request :func:`first_answer` is about to make, sent now by
    :mod:`rget.early` (before requests is imported) when it can be, so that its round trip overlaps the import;
    ``ahead`` (the file's size -> the byte ranges the other connections will ask for first) lets it send those too.
    """
    early = None
    if first is not None:
        from rget.early import Early

        url, headers, timeout = first
        early = Early.start(url, merged_headers(SESSION_HEADERS, headers), timeout, ahead, connections)
    import requests

    from rget.early import early_adapter

    class Session(requests.Session):
        def resolve_redirects(self, *args: object, **kwargs: object) -> Iterator[requests.Response]:  # type: ignore[override]
            # requests parses every Location even with allow_redirects=False (for Response.next), and an
            # unparsable one ('http://[::1') raises from session.get; send() follows redirects itself.
            return iter(())

    session = Session()
    adapter = early_adapter(early, pool_connections=2, pool_maxsize=max(connections, 1) + 2, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.clear()
    session.headers.update(SESSION_HEADERS)
    return session


def _range_header(byte_range: tuple[int, int | None]) -> dict[str, str]:
    start, end = byte_range
    return {"Range": f"bytes={start}-{'' if end is None else end}"}


def send(
    session: requests.Session,
    url: str,
    *,
    original: str,
    headers: dict[str, str],
    timeout: float,
    byte_range: tuple[int, int | None] | None = None,
    if_range: str | None = None,
) -> tuple[requests.Response, str]:
    """GET ``url`` following redirects; returns the streaming response and the URL that answered.

    ``headers`` go only to the origin of ``original``; Range and If-Range go to every hop.
    """
    import requests

    extra = _range_header(byte_range) if byte_range is not None else {}
    if if_range:
        extra["If-Range"] = if_range
    home = origin(original)
    for _ in range(MAX_REDIRECTS + 1):
        sent = {**headers, **extra} if origin(url) == home else extra
        try:
            resp = session.get(url, headers=sent, stream=True, allow_redirects=False, timeout=(timeout, timeout))
        except requests.exceptions.SSLError as e:
            if "CERTIFICATE_VERIFY_FAILED" not in str(e):
                raise  # a handshake cut short may pass on a retry
            # A certificate that does not verify will not verify on a retry: a final error (not retried)
            raise RgetError(f"{shown(url, original)}: {tls_failure(e)}") from None
        except requests.ConnectionError as e:
            if refused := header_refusal(e):
                raise RgetError(f"{shown(url, original)}: {refused}") from None  # the same answer next time
            raise
        location = resp.headers.get("Location")
        if resp.status_code not in REDIRECTS or not location:
            return resp, url
        resp.close()
        try:
            url = urljoin(url, location)
            problem = url_problem(url)
        except ValueError as e:  # urljoin parses the target: 'http://[::1' raises
            problem = str(e)
            url = location
        if problem:
            raise RgetError(f"{original}: redirected to a bad URL: {shown(url, original)}: {problem}")
    raise RgetError(f"{original}: more than {MAX_REDIRECTS} redirects")


# (what http.client says, what we say, what to add to its number): it counts the blank line that ends the headers
# as one of them, so its "more than 100 headers" means 100 headers or more
_HEADER_LIMITS = (
    (re.compile(r"got more than (\d+) bytes when reading header line"), "a header line over {} bytes", 0),
    (re.compile(r"got more than (\d+) headers"), "more than {} headers", -1),
    (re.compile(r"got more than (\d+) bytes when reading status line"), "a status line over {} bytes", 0),
)


def header_refusal(exc: BaseException) -> str | None:
    """What Python's HTTP client refused in the server's answer (a huge header line, too many headers), or None.

    urllib3 reports these as a dropped connection; saying so would send the user looking at the network.

    >>> header_refusal(Exception("LineTooLong('got more than 65536 bytes when reading header line')"))
    'the answer has a header line over 65536 bytes (refused by the HTTP client, http.client)'
    >>> header_refusal(Exception("HTTPException('got more than 100 headers')"))
    'the answer has more than 99 headers (refused by the HTTP client, http.client)'
    """
    text = str(exc)
    for pattern, what, off_by in _HEADER_LIMITS:
        if m := pattern.search(text):
            return f"the answer has {what.format(int(m.group(1)) + off_by)} (refused by the HTTP client, http.client)"
    return None


def disposition_name(value: str | None) -> str | None:
    """The file name of a ``Content-Disposition`` header (``filename*=UTF-8''...`` preferred), unsanitised.

    >>> disposition_name('attachment; filename="tool v1.tar.gz"')
    'tool v1.tar.gz'
    >>> disposition_name("attachment; filename=a.bin; filename*=UTF-8''caf%C3%A9.bin")
    'café.bin'
    """
    if not value:
        return None
    plain = star = None
    for param in value.split(";")[1:]:
        key, _, val = param.strip().partition("=")
        key, val = key.strip().lower(), val.strip()
        if key == "filename*" and "''" in val:
            charset, _, encoded = val.partition("''")
            star = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        elif key == "filename":
            plain = val[1:-1].replace('\\"', '"') if len(val) >= 2 and val[0] == val[-1] == '"' else val
    return star or plain or None


def first_answer(
    session: requests.Session, url: str, headers: dict[str, str], timeout: float
) -> tuple[Remote, requests.Response | None]:
    """GET ``Range: bytes=0-``: the probe and the first range in one request (no round trip spent on a probe).

    HEAD is refused by method-bound signed URLs, so it is never used. Returns what the answer says and, unless
    the file is empty, the open response: a 206 whose body is the file from byte 0 (the first range, or the
    whole file as one stream), or a 200 from a server that ignores Range (then the whole file, one stream).
    """
    resp, final = send(session, url, original=url, headers=headers, timeout=timeout, byte_range=(0, None))
    etag = resp.headers.get("ETag")
    modified = resp.headers.get("Last-Modified")
    name = disposition_name(resp.headers.get("Content-Disposition"))
    status = resp.status_code
    if status == 206:
        cr = parse_content_range(resp.headers.get("Content-Range"))
        if cr is None or cr.start != 0 or cr.total is None or cr.end != cr.total - 1:
            resp.close()  # not the answer to what we asked: fetch it again without Range
            return Remote(url, final, None, etag, modified, ranges=False, filename=name), None
        return Remote(url, final, cr.total, etag, modified, ranges=True, filename=name), resp
    if status == 200:
        length = resp.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        return Remote(url, final, size, etag, modified, ranges=False, filename=name), resp
    if status == 416:
        cr = parse_content_range(resp.headers.get("Content-Range"))
        resp.close()
        if cr is not None and cr.total == 0:
            return Remote(url, final, 0, etag, modified, ranges=False, filename=name), None
    resp.close()
    raise HttpError(shown(final, url), status, resp.reason or "", redirected=final != url)
