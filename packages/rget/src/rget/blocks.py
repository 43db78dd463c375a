"""Byte ranges to fetch: the plan, and the resume state that records how far each range got."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rget.remote import Remote

MIB = 1024 * 1024


@dataclass
class Block:
    """One range ``[start, end]`` (inclusive, like HTTP); ``pos`` is the next byte not yet written to the file."""

    start: int
    end: int
    pos: int

    @property
    def left(self) -> int:
        """Bytes still to fetch."""
        return self.end + 1 - self.pos


def plan(size: int, connections: int, block_size: int | None = None) -> list[Block]:
    """Split ``size`` bytes into blocks of ``block_size`` (default: one block per connection).

    >>> [(b.start, b.end) for b in plan(10, 3)]
    [(0, 3), (4, 7), (8, 9)]
    >>> [(b.start, b.end) for b in plan(10, 2, block_size=4)]
    [(0, 3), (4, 7), (8, 9)]
    """
    if size <= 0:
        return []
    step = block_size or -(-size // max(connections, 1))
    step = max(step, 1)
    return [Block(s, min(s + step, size) - 1, s) for s in range(0, size, step)]


@dataclass
class State:
    """What ``-c`` needs to resume: which file (URL, size, ETag/Last-Modified) and the blocks not yet done."""

    url: str
    size: int
    etag: str | None
    last_modified: str | None
    blocks: list[Block]

    def matches(self, remote: Remote) -> bool:
        """True when ``remote`` is the same file: same URL and size, and a validator that proves the version."""
        if remote.validator is None:
            return False
        return (self.url, self.size, self.etag, self.last_modified) == (
            remote.url,
            remote.size,
            remote.etag,
            remote.last_modified,
        )

    def save(self, path: Path) -> None:
        """Write atomically, so that a kill at any moment leaves the previous or the new state, never half."""
        data = {
            "url": self.url,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "blocks": [[b.pos, b.end] for b in self.blocks if b.left > 0],
        }
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> State | None:
        """The saved state, or None when missing or unreadable (then the download starts over)."""
        try:
            data = json.loads(path.read_text())
            blocks = [Block(int(pos), int(end), int(pos)) for pos, end in data["blocks"]]
            return cls(str(data["url"]), int(data["size"]), data["etag"], data["last_modified"], blocks)
        except (OSError, ValueError, KeyError, TypeError):
            return None
