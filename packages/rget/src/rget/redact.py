"""Secrets out of every message: signed URLs carry their credentials in the query, some URLs in the userinfo.

rget prints URLs in errors and ``-v`` lines; a build log is often public. Every line rget prints goes through
:func:`redact_text`, which also escapes what a server could use to act on the user's terminal (a reason phrase or
a Location with ``ESC[2J`` in it).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Query keys whose values are credentials: AWS SigV4/SigV2, Google, Azure SAS (sig), GitHub/OAuth tokens, API keys.
_SECRET_KEY = re.compile(r"signature|credential|token|secret|password|passwd|^sig$|^key$|^api[-_]?key$|^auth", re.I)
_URL = re.compile(r"https?://[^\s'\"<>]+", re.I)
REDACTED = "REDACTED"
# C0 and C1 controls, DEL, line/paragraph separators and the bidi controls: each could clear the terminal, move the
# cursor, split the one-line message or reorder what the user reads. Tab is harmless and stays.
_UNSAFE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    if c != 0x09
}


def redact(url: str) -> str:
    """``url`` with the values of credential-like query keys and any userinfo password replaced.

    >>> redact("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Expires=60&X-Amz-Signature=abc")
    'https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Expires=60&X-Amz-Signature=REDACTED'
    >>> redact("https://user:pw@host/x?sig=s&sv=2024&token=t")
    'https://user:REDACTED@host/x?sig=REDACTED&sv=2024&token=REDACTED'
    >>> redact("http://127.0.0.1:8080/plain.bin")
    'http://127.0.0.1:8080/plain.bin'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _query_only(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if colon else netloc
    query = "&".join(_pair(p) for p in parts.query.split("&")) if parts.query else ""
    return parts._replace(netloc=netloc, query=query).geturl()


def _pair(pair: str) -> str:
    key, eq, _ = pair.partition("=")
    return f"{key}={REDACTED}" if eq and _SECRET_KEY.search(key) else pair


def _query_only(url: str) -> str:
    base, q, query = url.partition("?")
    return base + q + "&".join(_pair(p) for p in query.split("&")) if q else url


def redact_text(text: str) -> str:
    r"""Every URL in ``text`` redacted, every character that could act on a terminal shown as an escape.

    >>> redact_text("rget: https://h/a?Signature=xyz&Expires=1: HTTP 403 Forbidden")
    'rget: https://h/a?Signature=REDACTED&Expires=1: HTTP 403 Forbidden'
    >>> print(redact_text("http://h/x: HTTP 500 \x1b[2J\x1b[31mEVIL\u202e"))
    http://h/x: HTTP 500 \x1b[2J\x1b[31mEVIL\u202e
    """
    return _URL.sub(lambda m: redact(m.group(0)), text).translate(_UNSAFE)
