"""Image references (``[domain/]path[:tag][@digest]``) by the grammar of distribution's ``reference`` package.

Tools that print ``docker`` commands must not hand docker a name it rejects halfway through a CI run, so they check
names here first.

>>> ref = parse_reference("127.0.0.1:5000/team/app:v1")
>>> ref.name, ref.domain, ref.tag
('127.0.0.1:5000/team/app', '127.0.0.1:5000', 'v1')
>>> ref.name_with_tag("deps")
'127.0.0.1:5000/team/app:deps'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockit.errors import DockitError

MAX_NAME = 255
MAX_TAG = 128

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?\Z")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"^[\w][\w.-]{0,127}\Z", re.ASCII)
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")


@dataclass(frozen=True)
class Reference:
    """A parsed image reference. ``name`` is the repository as written (domain included, no tag, no digest)."""

    name: str
    domain: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    def name_with_tag(self, tag: str) -> str:
        """``name:tag`` after checking ``tag`` (:func:`check_tag`)."""
        return f"{self.name}:{check_tag(tag)}"

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def check_tag(tag: str) -> str:
    """Return ``tag`` if docker accepts it as a tag (``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``), else DockitError.

    >>> check_tag("cache-deps")
    'cache-deps'
    """
    if not _TAG.match(tag):
        if len(tag) > MAX_TAG:
            raise DockitError(f"tag {tag[:20]!r}... is {len(tag)} characters long; docker allows {MAX_TAG}")
        raise DockitError(f"invalid tag {tag!r}: must match [A-Za-z0-9_][A-Za-z0-9_.-]*")
    return tag


def tag_part(text: str, max_length: int = 40) -> str:
    """``text`` (a git branch, say) made into a word docker takes in a tag, at most ``max_length`` characters.

    Runs of characters a tag cannot hold become ``-``; when anything had to change (or be cut to fit), an 8-digit
    hash of the original follows, so two different texts never give the same word (``feature/x`` and ``feature-x``
    stay apart, and no other branch can take ``main``'s). DockitError for an empty text.

    >>> tag_part("main"), tag_part("feature/x"), tag_part("feature-x")
    ('main', 'feature-x-217d2bf5', 'feature-x')
    """
    if not text:
        raise DockitError("empty name: cannot make a tag of it")
    word = re.sub(r"[^\w.-]+", "-", text, flags=re.ASCII)
    if word == text and len(word) <= max_length and _TAG.match(word):
        return word
    import hashlib  # only for names that need it

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    head = word[: max(0, max_length - 9)].strip("-.")
    return f"{head}-{digest}" if head and head[0] not in "-." else f"_{digest}"


def parse_reference(text: str) -> Reference:
    """Parse an image reference; DockitError saying what is wrong when docker would reject it.

    The first ``/``-separated component is the registry domain when it holds a ``.`` or a ``:`` or is
    ``localhost`` (as docker decides); every other component must be lower-case ``[a-z0-9]`` words joined by
    ``.``, ``_``, ``__`` or dashes.
    """
    rest, digest = text, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not _DIGEST.match(digest):
            raise DockitError(f"invalid image reference {text!r}: bad digest {digest!r}")
    name, tag = rest, None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise DockitError(f"invalid image reference {text!r}: bad tag {tag!r}")
    if not name:
        raise DockitError(f"invalid image reference {text!r}: no repository name")
    if len(name) > MAX_NAME:
        raise DockitError(f"invalid image reference: repository name longer than {MAX_NAME} characters")
    parts = name.split("/")
    domain = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        domain = parts.pop(0)
        if not _DOMAIN.match(domain):
            raise DockitError(f"invalid image reference {text!r}: bad registry {domain!r}")
    for part in parts:
        if not _PATH_COMPONENT.match(part):
            why = "must be lower case" if _PATH_COMPONENT.match(part.lower()) else "bad path component"
            raise DockitError(f"invalid image reference {text!r}: {why} {part!r}")
    return Reference(name=name, domain=domain, path="/".join(parts), tag=tag, digest=digest)
