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


def spread(blocks: list[Block], connections: int, minimum: int = MIB) -> list[Block]:
    """The unfinished blocks, the biggest split in halves until each connection has one (pieces >= ``minimum``).

    A download interrupted with few blocks left (or started with -P 1) resumes over every connection.

    >>> [(b.pos, b.end) for b in spread([Block(0, 99, 40), Block(100, 199, 200)], 3, minimum=10)]
    [(40, 54), (55, 69), (70, 99)]
    """
    todo = [b for b in blocks if b.left > 0]
    while len(todo) < connections:
        big = max(todo, key=lambda b: b.left, default=None)
        if big is None or big.left < 2 * minimum:
            break
        middle = big.pos + big.left // 2
        todo.remove(big)
        todo += [Block(big.pos, middle - 1, big.pos), Block(middle, big.end, middle)]
    return sorted(todo, key=lambda b: b.pos)


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

    def save(self, path: Path) -> bool:
        """Write atomically, so that a kill at any moment leaves the previous or the new state, never half.

        False when it cannot be written (a full disk): the previous state, if any, stays as it was.
        """
        data = {
            "url": self.url,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "blocks": [[b.pos, b.end] for b in self.blocks if b.left > 0],
        }
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(data))
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        return True

    @classmethod
    def load(cls, path: Path) -> State | None:
        """The saved state, or None when missing or unreadable (then the download starts over)."""
        try:
            data = json.loads(path.read_text())
            blocks = [Block(int(pos), int(end), int(pos)) for pos, end in data["blocks"]]
            return cls(str(data["url"]), int(data["size"]), data["etag"], data["last_modified"], blocks)
        except (OSError, ValueError, KeyError, TypeError):
            return None
