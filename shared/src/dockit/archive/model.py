"""The one image model every archive format converges on: Image -> Layer -> Entry, plus the history.

Small and read-only, in the spirit of go-containerregistry's ``v1.Image``/``v1.Layer``: a format reader fills it,
tools only read it. File contents are never held: an :class:`Entry` is a tar header (and, when asked for, a
digest of the data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# Tar type flags, as written in the header (one ASCII character).
REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
CHARDEV = "3"
BLOCKDEV = "4"
DIRECTORY = "5"
FIFO = "6"


class Entry(NamedTuple):
    """One member of a layer tar: its header, never its contents.

    ``path`` is normalized (no leading ``/`` or ``./``, no trailing ``/``); ``name`` is the member name as
    written in the tar (what dive shows after ``path.Clean``). ``digest`` is the sha256 (hex) of a regular file's
    data when the layer was read with ``digests=True``, else empty.
    """

    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str
    name: str
    raw_link: str = ""  # the header's link name when it is not a link's target (a stale one some writers leave)
    digest: str = ""

    @property
    def basename(self) -> str:
        """The last path component (``.wh.foo`` for a whiteout)."""
        return self.path.rpartition("/")[2]

    @property
    def is_whiteout(self) -> bool:
        """A ``.wh.NAME`` marker (including the opaque marker): it deletes, it is not a file."""
        return self.basename.startswith(WHITEOUT_PREFIX)

    @property
    def is_opaque(self) -> bool:
        """The ``.wh..wh..opq`` marker: the directory's contents in lower layers are hidden."""
        return self.basename == OPAQUE_MARKER

    @property
    def is_dir(self) -> bool:
        """A directory entry."""
        return self.type == DIRECTORY

    @property
    def deleted_path(self) -> str:
        """For a whiteout, the path it deletes (for the opaque marker, the directory whose contents go)."""
        parent, _, base = self.path.rpartition("/")
        if base == OPAQUE_MARKER:
            return parent
        target = base.removeprefix(WHITEOUT_PREFIX)
        return f"{parent}/{target}" if parent else target


_NOP = re.compile(r"^\s*#\(nop\)\s*")
# The classic builder writes RUN with build args as "|2 A=1 B=2 /bin/sh -c ...".
_BUILD_ARGS = re.compile(r"^\|\d+ (?:\S+=\S* )*")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ``history`` item of the image config; ``empty_layer`` items have no layer of their own."""

    created_by: str = ""
    created: str = ""
    comment: str = ""
    author: str = ""
    empty_layer: bool = False

    @property
    def command(self) -> str:
        """``created_by`` as dive shows it: without ``/bin/sh -c `` and ``#(nop)``.

        >>> HistoryEntry("/bin/sh -c #(nop)  CMD [\\"sh\\"]").command
        'CMD ["sh"]'
        """
        text = self.created_by
        build_args = _BUILD_ARGS.match(text)
        if build_args:
            text = text[build_args.end() :]
        text = text.removeprefix("/bin/sh -c ")
        return _NOP.sub("", text).strip()

    @classmethod
    def from_config(cls, item: dict[str, Any]) -> HistoryEntry:
        """Build from one item of the config's ``history`` list (unknown keys ignored)."""
        return cls(
            created_by=str(item.get("created_by") or ""),
            created=str(item.get("created") or ""),
            comment=str(item.get("comment") or ""),
            author=str(item.get("author") or ""),
            empty_layer=bool(item.get("empty_layer")),
        )


@dataclass(slots=True)
class Layer:
    """One filesystem layer, in image order (``index`` 0 is the base).

    ``size`` is the sum of the entries' sizes (what the layer adds, uncompressed, as dive counts it);
    ``blob_size`` is the bytes of the blob in the archive (compressed where it is).
    """

    index: int
    diff_id: str
    digest: str
    entries: list[Entry]
    history: HistoryEntry | None = None
    compression: str = "none"
    blob_size: int = 0
    source: str = ""

    @property
    def size(self) -> int:
        """Total bytes of the entries, as written in their headers."""
        return sum(e.size for e in self.entries)

    @property
    def command(self) -> str:
        """The cleaned command that made this layer, or ``(missing)`` without history (as dive says)."""
        return self.history.command if self.history is not None else "(missing)"


@dataclass(frozen=True, slots=True)
class Platform:
    """``os/architecture[/variant]`` of an image."""

    os: str = ""
    architecture: str = ""
    variant: str = ""

    def __str__(self) -> str:
        parts = [self.os or "?", self.architecture or "?"]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)

    def matches(self, wanted: str) -> bool:
        """Whether ``wanted`` (``amd64``, ``linux/arm64``, ``linux/arm/v7``) names this platform."""
        parts = wanted.strip().split("/")
        if len(parts) == 1:
            return parts[0] == self.architecture
        if parts[0] != self.os or parts[1] != self.architecture:
            return False
        return len(parts) < 3 or parts[2] == self.variant


@dataclass(slots=True)
class Image:
    """An image read from an archive: its config, full history (empty layers included) and layers."""

    config: dict[str, Any]
    history: list[HistoryEntry]
    layers: list[Layer]
    format: str
    tags: list[str] = field(default_factory=list)
    config_digest: str = ""
    platform: Platform = field(default_factory=Platform)
    origin: str = "archive"  # the source read: archive, docker, podman, registry (blob_size is then a pull's cost)

    @property
    def size(self) -> int:
        """Sum of the layers' sizes."""
        return sum(layer.size for layer in self.layers)

    @property
    def name(self) -> str:
        """The first tag, else the config digest."""
        return self.tags[0] if self.tags else self.config_digest


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One image an archive holds, before its layers are read: enough to list and choose."""

    tags: tuple[str, ...]
    platform: Platform
    config_digest: str

    def describe(self) -> str:
        """``tag1, tag2 (linux/amd64) sha256:...`` for listings."""
        names = ", ".join(self.tags) or "<untagged>"
        return f"{names} ({self.platform}) {self.config_digest[:19]}"
