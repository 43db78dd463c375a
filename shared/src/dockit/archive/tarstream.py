"""A tar header reader that never holds file contents: it reads headers and seeks (or reads) past the data.

Sources are byte streams with ``read(n)`` and ``skip(n)``: a region of a file read with ``os.pread`` (skipping is
free), a non-seekable stream such as stdin (skipping reads and discards), or a decompressed stream. Hostile input
is bounded: headers are checksummed, metadata records (PAX, GNU long names) are capped, names that climb out of the
root are refused, and the number of members per tar is capped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import posixpath
from collections.abc import Callable
from typing import IO, Protocol
from zlib import adler32

from dockit.errors import ArchiveError

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_META = 1 << 20  # a PAX record set or GNU long name larger than this is hostile, not a real path
MAX_MEMBERS = 1_000_000  # headers per tar (big real layers have ~300k): a header bomb stops here, at ~250 MB
HEADER_ONLY = frozenset("123456")  # Go's isHeaderOnlyType: these carry no data whatever their size field says
CHUNK = 1 << 20  # the most one skip step moves
FILL = 256 << 10  # the least a buffered source asks of the layer below


class ByteSource(Protocol):
    """What the tar reader reads from."""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end."""
        ...

    def skip(self, n: int) -> None:
        """Move ``n`` bytes forward; a source that ends first raises ArchiveError (truncated)."""
        ...


class FileRegion:
    """``length`` bytes of an open file from ``start``, read with ``os.pread`` through a small buffer."""

    def __init__(self, fd: int, start: int, length: int, label: str) -> None:
        self.fd = fd
        self.start = start
        self.length = length
        self.label = label
        self.pos = 0
        self._buf = b""
        self._buf_pos = 0  # region offset of _buf[0]

    def read(self, n: int) -> bytes:
        n = min(n, self.length - self.pos)
        if n <= 0:
            return b""
        lo = self.pos - self._buf_pos
        if lo >= 0 and lo + n <= len(self._buf):
            self.pos += n
            return self._buf[lo : lo + n]
        if n >= 65536:
            data = os.pread(self.fd, n, self.start + self.pos)
        else:
            want = min(max(n, 65536), self.length - self.pos)
            self._buf = os.pread(self.fd, want, self.start + self.pos)
            self._buf_pos = self.pos
            data = self._buf[:n]
        self.pos += len(data)
        return data

    def skip(self, n: int) -> None:
        if self.pos + n > self.length:
            raise ArchiveError("truncated (data runs past the end)", path=self.label)
        self.pos += n


class StreamSource:
    """A non-seekable binary stream (stdin, a pipe); ``skip`` reads and discards."""

    def __init__(self, raw: IO[bytes], label: str) -> None:
        self.raw = raw
        self.label = label
        self._scratch = bytearray(CHUNK)

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        if data is None:
            data = b""
        if len(data) < n and data:
            parts = [data]
            got = len(data)
            while got < n:
                more = self.raw.read(n - got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        return data

    def skip(self, n: int) -> None:
        view = memoryview(self._scratch)
        readinto = getattr(self.raw, "readinto", None)
        while n > 0:
            want = min(n, CHUNK)
            got = readinto(view[:want]) if readinto is not None else len(self.raw.read(want) or b"")
            if not got:
                raise ArchiveError("truncated (data runs past the end)", path=self.label)
            n -= got


class BufferedSource:
    """A ByteSource over a lower one that hands out big chunks (a pipe, a decompressor): headers and small files
    are served from the last chunk, so the lower source is called once per FILL bytes, not twice per tar member
    (on a layer of small files that halves the time). Subclasses give ``_pull``; ``_discard`` may move data past
    more cheaply than pulling it."""

    label: str
    truncated = "truncated (data runs past the end)"

    def __init__(self) -> None:
        self._buf = b""
        self._off = 0

    def _pull(self, n: int) -> bytes:
        """Up to ``n`` bytes from the lower source (fewer only at its end)."""
        raise NotImplementedError

    def _discard(self, n: int) -> int:
        """Move up to ``n`` bytes forward in the lower source; how many moved (0 at its end)."""
        chunk = self._pull(min(max(n, FILL), CHUNK))
        if len(chunk) > n:
            self._buf, self._off = chunk, n
            return n
        return len(chunk)

    def read(self, n: int) -> bytes:
        buf, off = self._buf, self._off
        if off + n <= len(buf):
            self._off = off + n
            return buf[off : off + n]
        parts = [buf[off:]]
        got = len(buf) - off
        self._buf, self._off = b"", 0
        while got < n:
            chunk = self._pull(max(FILL, n - got))
            if not chunk:
                break
            take = n - got
            if len(chunk) > take:
                self._buf, self._off = chunk, take
                chunk = chunk[:take]
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer only at the end), left unread."""
        data = self.read(n)
        self._buf, self._off = data + self._buf[self._off :], 0
        return data

    def skip(self, n: int) -> None:
        avail = len(self._buf) - self._off
        if n <= avail:
            self._off += n
            return
        self._buf, self._off = b"", 0
        n -= avail
        while n > 0:
            moved = self._discard(n)
            if not moved:
                raise ArchiveError(self.truncated, path=self.label)
            n -= moved


class FdSource(BufferedSource):
    """A pipe (``docker save | dlayer``) read at the file-descriptor level: ``skip`` moves the data to /dev/null with
    splice(2), inside the kernel, instead of copying it through Python (falls back to reading when splice cannot)."""

    def __init__(self, fd: int, label: str) -> None:
        super().__init__()
        self.fd = fd
        self.label = label
        self._sink: int | None = None
        self._splice = hasattr(os, "splice")
        # A 1 MiB pipe buffer (the unprivileged maximum) instead of 64 KiB: a sixteenth of the wake-ups for the
        # writer and for us (docker save | dlayer moves a gigabyte through it)
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)

    def _pull(self, n: int) -> bytes:
        return os.read(self.fd, n)

    def _discard(self, n: int) -> int:
        if self._splice and n >= FILL:
            try:
                if self._sink is None:
                    self._sink = os.open(os.devnull, os.O_WRONLY)
                return os.splice(self.fd, self._sink, min(n, 1 << 30))
            except OSError:  # not a pipe, or a kernel without splice to /dev/null
                self._splice = False
        return len(os.read(self.fd, min(n, CHUNK)))

    def close(self) -> None:
        """Close the /dev/null sink (the fd itself belongs to the caller)."""
        if self._sink is not None:
            os.close(self._sink)
            self._sink = None


class Limited:
    """The next ``length`` bytes of a parent source (a tar member's data)."""

    def __init__(self, parent: ByteSource, length: int, label: str) -> None:
        self.parent = parent
        self.remaining = length
        self.label = label

    def read(self, n: int) -> bytes:
        n = min(n, self.remaining)
        if n <= 0:
            return b""
        data = self.parent.read(n)
        if len(data) < n:
            raise ArchiveError("truncated (member data runs past the end)", path=self.label)
        self.remaining -= len(data)
        return data

    def skip(self, n: int) -> None:
        if n > self.remaining:
            raise ArchiveError("truncated (data runs past the end of its member)", path=self.label)
        self.parent.skip(n)
        self.remaining -= n

    def drain(self) -> None:
        """Skip whatever the consumer left unread."""
        if self.remaining:
            self.parent.skip(self.remaining)
            self.remaining = 0


# visit(name, type, size, mode, uid, gid, link) -> how many data bytes the visitor read
Visitor = Callable[[str, str, int, int, int, int, str], int]


def _num(field: bytes, label: str) -> int:
    try:
        return int(field.rstrip(b"\0 ") or b"0", 8)  # the usual "0000644\0"; int() skips leading spaces
    except ValueError:
        pass
    if field and field[0] & 0x80:
        if field[0] != 0x80:
            raise ArchiveError("not a tar: negative number in a header", path=label)
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip()
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise ArchiveError("not a tar: bad number in a header", path=label) from None


def _exact_checksum(block: bytes, stored: int) -> bool:
    field = sum(block[148:156])
    unsigned = sum(block) - field + 256
    signed = unsigned - 256 * (sum(1 for b in block if b >= 128) - sum(1 for b in block[148:156] if b >= 128))
    return stored in (unsigned, signed)


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes, label: str) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            raise ArchiveError("not a tar: bad PAX record", path=label)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveError("not a tar: bad PAX record", path=label) from None
        if length <= 0 or pos + length > len(data):
            raise ArchiveError("not a tar: bad PAX record", path=label)
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def walk(src: ByteSource, label: str, visit: Visitor) -> int:
    """Call ``visit`` for each member (PAX and GNU long-name records applied); returns the member count.

    When ``visit`` is called the source sits at the member's data; it may read some of it and returns how many
    bytes it read. The rest, and the padding, are skipped (seeked past in a file). Type ``\\0`` is reported as
    ``0`` (``5`` for a name ending in ``/``), contiguous files (``7``) as ``0``.
    """
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    count = 0
    read = src.read
    skip = src.skip
    while True:
        block = read(BLOCK)
        if not block:
            return count  # no end-of-archive blocks: accepted, like Go's archive/tar
        if len(block) < BLOCK:
            raise ArchiveError("truncated (partial tar header)", path=label)
        if block == ZERO_BLOCK:
            return count
        try:
            stored = _num(block[148:156], label)
        except ArchiveError:
            stored = -1
        # The byte sum without a Python loop over 512 bytes (a third of the time per header): adler32 gives it mod
        # 65521, which is the sum itself when fewer than 257 bytes are not zero (a usual header has ~130).
        # Otherwise, and for signed sums (old writers; Go accepts them), the exact test.
        if 512 - block.count(0) < 257:
            total = (adler32(block) & 0xFFFF) - 1
            total = total if total >= 0 else 65520
        else:
            total = sum(block)
        if stored != total - sum(block[148:156]) + 256 and not _exact_checksum(block, stored):
            raise ArchiveError("not a tar (bad header checksum)", path=label)
        count += 1
        if count > MAX_MEMBERS:
            raise ArchiveError(f"more than {MAX_MEMBERS} tar headers: refusing a header bomb", path=label)
        flag = chr(block[156]) if block[156] else "0"
        size = _num(block[124:136], label)
        if flag in "xgLK":
            if size > MAX_META:
                raise ArchiveError(f"tar metadata record of {size} bytes: refusing", path=label)
            record = read(size)
            if len(record) < size:
                raise ArchiveError("truncated (partial tar metadata record)", path=label)
            skip(-size % BLOCK)
            if flag == "x":
                pax = _pax(record, label)
            elif flag == "L":
                long_name = _text(record)
            elif flag == "K":
                long_link = _text(record)
            continue  # a global PAX header ('g') sets defaults nobody we read relies on
        name = _text(block[0:100])
        if block[257:263] == b"ustar\0" and block[345]:
            name = _text(block[345:500]) + "/" + name
        link = _text(block[157:257]) if block[157] else ""
        mode = _num(block[100:108], label)
        uid = _num(block[108:116], label)
        gid = _num(block[116:124], label)
        if pax:
            name = pax.get("path", name)
            link = pax.get("linkpath", link)
            try:
                size = int(pax.get("size", size))
                uid = int(pax.get("uid", uid))
                gid = int(pax.get("gid", gid))
            except ValueError:
                raise ArchiveError("not a tar: bad PAX number", path=label) from None
            pax = {}
        if long_name is not None:
            name, long_name = long_name, None
        if long_link is not None:
            link, long_link = long_link, None
        if flag == "0" and name.endswith("/"):
            flag = "5"
        elif flag == "7":
            flag = "0"
        span = 0 if flag in HEADER_ONLY else size
        used = visit(name, flag, size, mode, uid, gid, link)
        skip(span - used + (-span % BLOCK))


def clean_name(name: str, label: str) -> str:
    """Go's ``path.Clean`` of a member name, refusing names that climb above the root.

    >>> clean_name("./usr//bin/", "x")
    'usr/bin'
    """
    cleaned = posixpath.normpath(name) if name else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    stripped = cleaned.lstrip("/")
    if stripped == ".." or stripped.startswith("../"):
        raise ArchiveError(f"member name climbs out of the root: {name!r}", path=label)
    return cleaned
