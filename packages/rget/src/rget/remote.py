"""The remote file: requests with our own redirect handling, the probe, and Content-Range parsing.

Redirects are followed here rather than by requests so that the user's extra headers (``-H``, e.g. an
Authorization token for a private release asset) only ever go to the host the user named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from rget import __version__
from rget.errors import RgetError

if TYPE_CHECKING:
    import requests

MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ContentRange:
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
    parts = urlsplit(url)
    return parts._replace(query="…" if parts.query else "", fragment="").geturl()


class HttpError(RgetError):
    """A response we cannot use: names the URL and the HTTP status."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        self.cause = f"HTTP {status} {reason}".rstrip()
        """The status without the URL, for messages that name the URL themselves."""
        super().__init__(f"{url}: {self.cause}")
        self.status = status


@dataclass(frozen=True)
class Remote:
    """What the probe learnt: where the bytes are, how many, and which version (ETag/Last-Modified)."""

    url: str
    final_url: str
    size: int | None
    etag: str | None
    last_modified: str | None
    ranges: bool

    @property
    def validator(self) -> str | None:
        """The If-Range value: a strong ETag, else Last-Modified (a weak ETag cannot validate a range)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    def same_version(self, other: Remote) -> bool:
        """True when ``other`` (a later probe) describes the same bytes."""
        return (self.size, self.etag, self.last_modified) == (other.size, other.etag, other.last_modified)


def tls_failure(exc: BaseException) -> str:
    """A TLS error in a few words, e.g. ``TLS failed: certificate verify failed: self-signed certificate``."""
    # requests nests it: "...(Caused by SSLError(...('[SSL: X] certificate verify failed: ... (_ssl.c:1006)')))"
    m = re.search(r"\[SSL[^]]*\] ([^'\"]+?)(?: \(_ssl\.c:\d+\))?['\"]", str(exc))
    return f"TLS failed: {m.group(1)}" if m else "TLS failed"


def new_session(connections: int) -> requests.Session:
    """A session whose connection pool keeps one socket per worker."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(connections, 1) + 2, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"rget/{__version__}"
    # Content-Range counts the bytes on the wire: a compressed answer would not be the file.
    session.headers["Accept-Encoding"] = "identity"
    return session


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

    extra: dict[str, str] = {}
    if byte_range is not None:
        start, end = byte_range
        extra["Range"] = f"bytes={start}-{'' if end is None else end}"
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
        location = resp.headers.get("Location")
        if resp.status_code not in REDIRECTS or not location:
            return resp, url
        resp.close()
        url = urljoin(url, location)
        if problem := url_problem(url):
            raise RgetError(f"{original}: redirected to a bad URL: {shown(url, original)}: {problem}")
    raise RgetError(f"{original}: more than {MAX_REDIRECTS} redirects")


def probe(
    session: requests.Session, url: str, headers: dict[str, str], timeout: float
) -> tuple[Remote, requests.Response | None]:
    """Ask for ``bytes=0-0`` (HEAD is refused by signed S3 URLs) to learn size, version and range support.

    Returns the Remote and, when the server ignored the Range (200), the open response whose body is the whole
    file, so that the single-stream fallback does not fetch it twice.
    """
    resp, final = send(session, url, original=url, headers=headers, timeout=timeout, byte_range=(0, 0))
    etag = resp.headers.get("ETag")
    modified = resp.headers.get("Last-Modified")
    status = resp.status_code
    if status == 206:
        cr = parse_content_range(resp.headers.get("Content-Range"))
        resp.close()
        if cr is None or cr.start != 0 or cr.total is None:
            return Remote(url, final, None, etag, modified, ranges=False), None
        return Remote(url, final, cr.total, etag, modified, ranges=True), None
    if status == 200:
        length = resp.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        return Remote(url, final, size, etag, modified, ranges=False), resp
    if status == 416:
        cr = parse_content_range(resp.headers.get("Content-Range"))
        resp.close()
        if cr is not None and cr.total == 0:
            return Remote(url, final, 0, etag, modified, ranges=False), None
    resp.close()
    raise HttpError(shown(final, url), status, resp.reason or "")
