"""Read one layer blob (plain, gzip or zstd tar) into its entries, without holding any file contents."""

from __future__ import annotations

from dockit.archive.compression import Decompressed, sniff
from dockit.archive.model import HARDLINK, SYMLINK, Entry
from dockit.archive.tarstream import BLOCK, ByteSource, FileRegion, clean_name, walk
from dockit.errors import ArchiveError

MAX_DEPTH = 256  # path components; deeper is a hostile archive, and tools walk trees recursively


class Prefixed:
    """A ByteSource that first returns bytes already read (a sniffed head), then the rest of its source."""

    def __init__(self, head: bytes, src: ByteSource) -> None:
        self.head = head
        self.src = src

    def read(self, n: int) -> bytes:
        if not self.head:
            return self.src.read(n)
        if n <= len(self.head):
            data, self.head = self.head[:n], self.head[n:]
            return data
        data, self.head = self.head, b""
        return data + self.src.read(n - len(data))

    def skip(self, n: int) -> None:
        if n <= len(self.head):
            self.head = self.head[n:]
            return
        n -= len(self.head)
        self.head = b""
        self.src.skip(n)


def scan_layer(src: ByteSource, label: str) -> tuple[list[Entry], str]:
    """The entries of a layer blob and its compression (``none``, ``gzip``, ``zstd``), told by magic bytes.

    A blob that is not a tar (nor a compressed one) raises ArchiveError naming ``label``.
    """
    head = src.read(BLOCK)
    compression = sniff(head)
    if compression is None:
        if not head:
            return [], "none"  # an empty blob: some writers emit it for a layer with no changes
        raise ArchiveError("layer is not a tar (nor a gzip or zstd one)", path=label)
    stream: ByteSource
    if isinstance(src, FileRegion):
        src.pos = 0  # a file region rewinds for free: no need to replay the sniffed head
        stream = src
    else:
        stream = Prefixed(head, src)
    if compression != "none":
        stream = Decompressed(stream, compression, label)
    entries: list[Entry] = []
    append = entries.append
    modes: dict[int, int] = {}
    intern = modes.setdefault  # a layer has a handful of distinct modes: one int object each, not one per entry

    def visit(name: str, flag: str, size: int, mode: int, uid: int, gid: int, link: str) -> int:
        if name.startswith(("./", "/")) or "/." in name or "//" in name or name.endswith("/") or name[:1] == ".":
            name = clean_name(name, label)
        path = name.lstrip("/")
        if not path or path == ".":
            return 0
        if path.count("/") >= MAX_DEPTH:
            raise ArchiveError(f"path nested more than {MAX_DEPTH} deep: refusing", path=label)
        # Docker 20.10 can leave a stale link name on a plain whiteout file: only links have a target (the stale
        # name is kept aside, as dive shows it).
        if flag in (HARDLINK, SYMLINK) or not link:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, link, name))
        else:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, "", name, link))
        return 0

    walk(stream, label, visit)
    return entries, compression
