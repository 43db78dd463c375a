"""Secrets out of every message: signed URLs carry their credentials in the query, some URLs in the userinfo.

rget prints URLs in errors and ``-v`` lines; a build log is often public. Every line rget prints goes through
:func:`redact_text`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Query keys whose values are credentials: AWS SigV4/SigV2, Google, Azure SAS (sig), GitHub/OAuth tokens, API keys.
_SECRET_KEY = re.compile(r"signature|credential|token|secret|password|passwd|^sig$|^key$|^api[-_]?key$|^auth", re.I)
_URL = re.compile(r"https?://[^\s'\"<>]+", re.I)
REDACTED = "REDACTED"


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
    """Every URL in ``text`` redacted.

    >>> redact_text("rget: https://h/a?Signature=xyz&Expires=1: HTTP 403 Forbidden")
    'rget: https://h/a?Signature=REDACTED&Expires=1: HTTP 403 Forbidden'
    """
    return _URL.sub(lambda m: redact(m.group(0)), text)
