"""Byte ranges to fetch: the plan, and the resume state that records how far each range got."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from rget.remote import Remote

MIB = 1024 * 1024


class Block:
    """One range ``[start, end]`` (inclusive, like HTTP); ``pos`` is the next byte not yet written to the file.

    A plain class (a dataclass would import inspect: ~15 ms of start-up), compared by value.
    """

    __slots__ = ("began", "end", "pos", "since", "start")

    def __init__(self, start: int, end: int, pos: int) -> None:
        self.start = start
        self.end = end
        self.pos = pos
        self.began = 0.0
        """time.monotonic() when the answer now being read began to arrive (0.0: none is), at byte ``since``."""
        self.since = pos

    def rate(self, now: float) -> float:
        """Bytes/s of the answer being read (0.0 when none is, or it is too young to tell)."""
        took = now - self.began
        return (self.pos - self.since) / took if self.began and took >= 0.05 else 0.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Block) and (self.start, self.end, self.pos) == (other.start, other.end, other.pos)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Block(start={self.start}, end={self.end}, pos={self.pos})"

    @property
    def left(self) -> int:
        """Bytes still to fetch."""
        return self.end + 1 - self.pos


def plan(size: int, connections: int, block_size: int | None = None, *, ramp_from: int = 0) -> list[Block]:
    """Split ``size`` bytes into blocks of ``block_size`` (default: one block per connection).

    With ``ramp_from`` (a stream), a file of more than one block starts with ``connections`` blocks that grow from
    ``1/connections`` of a block (but not below ``ramp_from`` bytes) to a whole one. Blocks of one size, started
    together at one rate, all end together: the write point then waits for a whole wave and jumps over it at
    once, and the last wave lands on the reader as one burst that it works off after the download is over.
    Ramped, they end one after another and the write point moves with each.

    >>> [(b.start, b.end) for b in plan(10, 3)]
    [(0, 3), (4, 7), (8, 9)]
    >>> [(b.start, b.end) for b in plan(10, 2, block_size=4)]
    [(0, 3), (4, 7), (8, 9)]
    >>> [b.end + 1 - b.start for b in plan(40, 4, block_size=8, ramp_from=1)]
    [2, 4, 6, 8, 8, 8, 4]
    >>> [b.end + 1 - b.start for b in plan(40, 4, block_size=8, ramp_from=5)], len(plan(8, 4, 8, ramp_from=1))
    ([5, 5, 6, 8, 8, 8], 1)
    """
    if size <= 0:
        return []
    step = block_size or -(-size // max(connections, 1))
    step = max(step, 1)
    ramped = ramp_from and size > step
    ramp = [max(step * (i + 1) // connections, min(ramp_from, step)) for i in range(connections)] if ramped else []
    blocks, pos = [], 0
    for n in ramp:
        if pos >= size:
            break
        blocks.append(Block(pos, min(pos + n, size) - 1, pos))
        pos += n
    return blocks + [Block(s, min(s + step, size) - 1, s) for s in range(pos, size, step)]


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


class State:
    """What ``-c`` needs to resume: which file (URL, size, ETag/Last-Modified) and the blocks not yet done."""

    __slots__ = ("blocks", "etag", "last_modified", "size", "url")

    def __init__(self, url: str, size: int, etag: str | None, last_modified: str | None, blocks: list[Block]) -> None:
        self.url = url
        self.size = size
        self.etag = etag
        self.last_modified = last_modified
        self.blocks = blocks

    def _values(self) -> tuple[object, ...]:
        return (self.url, self.size, self.etag, self.last_modified, self.blocks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"State{self._values()!r}"

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

    def save(self, path: Path, blocks: list[Block] | None = None) -> bool:
        """Write atomically, so that a kill at any moment leaves the previous or the new state, never half.

        False when it cannot be written (a full disk): the previous state, if any, stays as it was.
        """
        data = {
            "url": self.url,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "blocks": [[b.pos, b.end] for b in (blocks if blocks is not None else self.blocks) if b.left > 0],
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


class Work:
    """The blocks still to fetch, handed to connections: in order, then by splitting a range still in flight.

    When a connection runs out of blocks it takes the second half of the range with the most bytes left (the
    straggler's), so one slow connection no longer decides the total. The victim's ``end`` shrinks under the lock
    and the victim only ever writes up to its current ``end`` (see :meth:`claim`): every byte is written once.
    With ``ordered`` (a stream), the split goes to the in-flight range nearest the write point instead, the one the
    stream waits for.
    """

    def __init__(
        self, blocks: list[Block], *, minimum: int = MIB, ordered: bool = False, started: Block | None = None
    ) -> None:
        self.blocks = blocks
        self.minimum = minimum
        self.ordered = ordered
        self.todo = sorted((b for b in blocks if b.left > 0 and b is not started), key=lambda b: b.pos)
        self.active: list[Block] = [started] if started is not None else []
        """Blocks being fetched; ``started`` is already on a connection (the first answer's)."""
        self.splits = 0
        self.lock = threading.Condition(threading.Lock())
        """Guards every block's ``end`` and ``pos``; notified when a range ends or is given back."""

    def take(self, lead: Callable[[Block], int] | None = None) -> Block | None:
        """The next block for a free connection, or None when nothing is left worth splitting.

        ``lead`` (a range -> the bytes its connection will have read by the time the new request's first byte
        arrives: its rate times the new request's latency) makes the split fair in time, not in bytes: the victim
        keeps its lead plus half of the rest, and a range that its own connection would finish before a new
        request could help is left alone.

        >>> w = Work([Block(0, 9 * MIB - 1, 0)], minimum=MIB)
        >>> a = w.take(); b = w.take()
        >>> (a.pos, a.end + 1, b.pos, b.end + 1) == (0, 4608 * 1024, 4608 * 1024, 9 * MIB)
        True
        >>> w = Work([Block(0, 9 * MIB - 1, 0)], minimum=MIB)
        >>> a = w.take(); b = w.take(lambda block: 3 * MIB)  # 3 MiB arrive meanwhile: 6 MiB halved after them
        >>> (a.end + 1, b.pos) == (6 * MIB, 6 * MIB), w.take(lambda block: 5 * MIB) is None
        (True, True)
        """
        with self.lock:
            return self._take(lead)

    def wait_take(self, lead: Callable[[Block], int], wait: float, stop: threading.Event) -> Block | None:
        """:meth:`take`; while nothing is worth a request yet but a range in flight could become so (its connection
        stalls), wait until a range ends or is given back, or ``wait`` seconds, and ask again. None once nothing
        is left to split, or ``stop`` is set (:meth:`wake` it then).

        >>> w = Work([Block(0, 2 * MIB - 1, 0)], minimum=MIB // 4); a = w.take(); stop = threading.Event()
        >>> threading.Timer(0.05, lambda: (setattr(a, "pos", a.end + 1), w.done(a))).start()
        >>> w.wait_take(lambda block: 2 * MIB, 10.0, stop) is None  # not worth it; then the range ends: no wait
        True
        >>> w = Work([Block(0, 2 * MIB - 1, 0)], minimum=MIB // 4); a = w.take(); leads = iter([2 * MIB, 0])
        >>> w.wait_take(lambda block: next(leads), 0.01, stop).start == MIB  # it stalled: worth it on a second look
        True
        """
        with self.lock:
            while not stop.is_set():
                if (block := self._take(lead)) is not None:
                    return block
                if not any(b.left >= 2 * self.minimum for b in self.active):
                    return None
                self.lock.wait(wait)
            return None

    def wake(self) -> None:
        """Wake the connections waiting in :meth:`wait_take` (the download is stopping)."""
        with self.lock:
            self.lock.notify_all()

    def _take(self, lead: Callable[[Block], int] | None) -> Block | None:
        if self.todo:
            block = self.todo.pop(0)
        else:
            worth = {id(b): b.left - (lead(b) if lead else 0) for b in self.active}
            victims = [b for b in self.active if worth[id(b)] >= 2 * self.minimum]
            if not victims:
                return None
            first = min if self.ordered else max  # a stream waits for the range nearest its write point
            victim = first(victims, key=lambda b: b.pos if self.ordered else worth[id(b)])
            middle = victim.end + 1 - worth[id(victim)] // 2
            block = Block(middle, victim.end, middle)
            victim.end = middle - 1
            self.blocks.append(block)
            self.splits += 1
        self.active.append(block)
        return block

    def give_back(self, block: Block) -> Block | None:
        """The rest of ``block`` back to the queue, first in line (its connection is being replaced); ``block``
        itself ends where it got to. Returns the new block, or None when nothing was left.

        >>> w = Work([Block(0, 99, 0)]); b = w.take(); b.pos = 40
        >>> rest = w.give_back(b); (b.left, rest.pos, rest.end, w.take() is rest)
        (0, 40, 99, True)
        """
        with self.lock:
            if block.left <= 0:
                return None
            rest = Block(block.pos, block.end, block.pos)
            block.end = block.pos - 1
            self.blocks.append(rest)
            self.todo.insert(0, rest)
            self.lock.notify_all()
            return rest

    def done(self, block: Block) -> None:
        """``block`` is no longer being fetched (finished, or its connection gave up)."""
        with self.lock:
            if block in self.active:
                self.active.remove(block)
            self.lock.notify_all()

    def claim(self, block: Block, n: int) -> int:
        """How many of ``n`` bytes just read at ``block.pos`` are still the block's (a split may have cut it)."""
        with self.lock:
            return max(0, min(n, block.left))

    def advance(self, block: Block, n: int) -> None:
        """``n`` bytes at ``block.pos`` are written."""
        with self.lock:
            block.pos += n

    def remaining(self) -> int:
        with self.lock:
            return sum(b.left for b in self.blocks)

    def snapshot(self) -> list[Block]:
        """The unfinished blocks, copied under the lock (for the resume state)."""
        with self.lock:
            return [Block(b.start, b.end, b.pos) for b in self.blocks if b.left > 0]
