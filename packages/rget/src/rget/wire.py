"""Reading answers off the wire and deciding what a failure means: retry, give up, and the words for it."""

from __future__ import annotations

import http.client
import random
from typing import TYPE_CHECKING

from rget.errors import RgetError
from rget.remote import HttpError, header_refusal, tls_failure

if TYPE_CHECKING:
    import requests

CHUNK = 64 * 1024  # per read: small enough that progress, the resume state and a cut connection lose little
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
EXPIRED_STATUS = frozenset({403, 410})
PROGRESS = 1024 * 1024
"""A failed attempt that brought at least this much counts as progress (the retry count starts again); less, and
it counts as a failure: a server that sends 1,000 bytes and hangs up, forever, exhausts ``--retries``."""


class Retryable(RgetError):
    """A failure worth another attempt (5xx, 429, dropped connection, timeout)."""


class Expired(Retryable):
    """A signed URL expired and was re-resolved: retry at once."""


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with jitter: about base * 2**(attempt-1), between half and all of it, capped."""
    delay: float = min(cap, base * 2 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)


def describe(exc: BaseException, timeout: float) -> str:
    """A short cause for a requests exception (its own text nests three libraries' worth of repr)."""
    import requests

    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within {timeout:g} s"
    if isinstance(exc, requests.ReadTimeout) or "Read timed out" in text:
        return f"no data for {timeout:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection closed mid-transfer"
    if isinstance(exc, requests.exceptions.SSLError):
        return tls_failure(exc)
    if isinstance(exc, requests.ConnectionError):
        if refused := header_refusal(exc):
            return refused
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "unknown host"
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "connection closed by the server"
        return "connection failed"
    if isinstance(exc, HttpError):
        return exc.cause
    if isinstance(exc, RgetError):
        return text
    return text or type(exc).__name__


def gave_up(where: str, cause: BaseException, attempts: int, timeout: float) -> RgetError:
    """The one-line error once retries run out: the URL, the last cause, and how many attempts were made."""
    return RgetError(f"{where}: {describe(cause, timeout)} (gave up after {attempts} attempts)")


def read_into(resp: requests.Response, view: memoryview, timeout: float) -> int:
    """Fill ``view`` from the body; 0 at its end. A dropped connection or a silent server raises Retryable.

    The bytes go from the socket straight into our buffer (http.client's readinto under urllib3): no allocation
    per chunk, so memory stays flat however many connections run; a connection closed mid-body still hands
    over what arrived (the range then resumes from its last byte).
    """
    fp = resp.raw._fp
    try:
        n = int(fp.readinto(view))
    except TimeoutError:
        raise Retryable(f"no data for {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as e:
        raise Retryable(f"connection closed mid-transfer ({type(e).__name__})") from None
    if not n and view and getattr(fp, "length", None):  # Content-Length promised more
        raise Retryable("connection closed mid-transfer")
    return n


def refused(resp: requests.Response, where: str) -> RgetError:
    """The error for an answer we cannot use: worth a retry for 5xx/429 (the caller names the URL), else final."""
    if resp.status_code in RETRY_STATUS:
        return Retryable(f"HTTP {resp.status_code} {resp.reason or ''}".rstrip())
    return HttpError(where, resp.status_code, resp.reason or "")


def release(resp: requests.Response) -> None:
    """Done with ``resp``: a body read to its end gives its connection back to the pool (the next range skips a TCP
    and TLS handshake); one cut short (a split took the tail) closes it, since its unread bytes are still coming."""
    fp = getattr(resp.raw, "_fp", None)
    if fp is None or fp.isclosed():  # http.client closes its file once Content-Length bytes were read
        resp._content_consumed = True  # requests then only releases the connection instead of closing it
    resp.close()
