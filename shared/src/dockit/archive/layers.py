"""Read one layer blob (plain, gzip or zstd tar) into its entries, without holding any file contents."""

from __future__ import annotations

from dockit.archive.compression import Decompressed, sniff
from dockit.archive.contents import sha256_of
from dockit.archive.model import HARDLINK, REGULAR, SYMLINK, Entry
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


def scan_layer(
    src: ByteSource, label: str, digests: bool = False, offsets: list[int] | None = None
) -> tuple[list[Entry], str]:
    """The entries of a layer blob and its compression (``none``, ``gzip``, ``zstd``), told by magic bytes.

    With ``digests`` each regular file's data is read and hashed as the walk passes it (``Entry.digest``): that
    costs the read the walk otherwise seeks past. Given ``offsets``, a plain layer in a file region is not hashed:
    the region offset of each entry's data is appended there instead (-1 for an entry with none), for
    :func:`~dockit.archive.contents.hash_duplicates` to read what it needs; a compressed layer leaves it empty. A
    blob that is not a tar (nor a compressed one) raises ArchiveError naming ``label``.
    """
    head = src.read(BLOCK)
    compression = compression_of(head, label)
    if not head:
        return [], compression
    stream: ByteSource
    if isinstance(src, FileRegion):
        src.pos = 0  # a file region rewinds for free: no need to replay the sniffed head
        stream = src
    else:
        stream = Prefixed(head, src)
    if compression != "none":
        stream = Decompressed(stream, compression, label)
    region = stream if offsets is not None and isinstance(stream, FileRegion) else None
    if region is not None:
        digests = False  # hash_duplicates reads what it needs later, by offset
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
        digest = ""
        if digests and flag == REGULAR:
            digest = sha256_of(stream, size, label)
        elif region is not None and offsets is not None:
            offsets.append(region.pos if flag == REGULAR else -1)
        if flag in (HARDLINK, SYMLINK) or not link:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, link, name, "", digest))
        else:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, "", name, link, digest))
        return size if digest else 0

    walk(stream, label, visit)
    return entries, compression


def compression_of(head: bytes, label: str) -> str:
    """A layer blob's compression from its first block (``none`` for an empty blob: some writers emit one for a
    layer with no changes); ArchiveError naming ``label`` if it is not a layer."""
    compression = sniff(head)
    if compression is None:
        if not head:
            return "none"
        raise ArchiveError("layer is not a tar (nor a gzip or zstd one)", path=label)
    return compression
