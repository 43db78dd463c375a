"""Read one layer blob (plain, gzip or zstd tar) into its entries, without holding any file contents."""

from __future__ import annotations

from hashlib import sha256

from dockit.archive.compression import Decompressed, sniff
from dockit.archive.model import HARDLINK, REGULAR, SYMLINK, Entry
from dockit.archive.tarstream import BLOCK, ByteSource, FileRegion, clean_name, walk
from dockit.errors import ArchiveError

HASH_CHUNK = 1 << 20
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


def scan_layer(src: ByteSource, label: str, digests: bool = False) -> tuple[list[Entry], str]:
    """The entries of a layer blob and its compression (``none``, ``gzip``, ``zstd``), told by magic bytes.

    With ``digests`` each regular file's data is read and hashed as the walk passes it (``Entry.digest``): that
    costs the read the walk otherwise seeks past. A blob that is not a tar (nor a compressed one) raises
    ArchiveError naming ``label``.
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
        digest = ""
        if digests and flag == REGULAR:
            digest = _hash(stream, size, label)
        if flag in (HARDLINK, SYMLINK) or not link:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, link, name, "", digest))
        else:
            append(Entry(path, flag, size, intern(mode, mode), uid, gid, "", name, link, digest))
        return size if digest else 0

    walk(stream, label, visit)
    return entries, compression


def _hash(src: ByteSource, size: int, label: str) -> str:
    """The sha256 of the next ``size`` bytes. sha256, not blake2b: with SHA-NI it hashes at ~1.5 GB/s of CPU here
    against blake2b's ~0.6 (measured 2026-12-01, OpenSSL 3.0), faster than the layers decompress."""
    h = sha256()
    left = size
    while left > 0:
        data = src.read(min(left, HASH_CHUNK))
        if not data:
            raise ArchiveError("truncated (member data runs past the end)", path=label)
        h.update(data)
        left -= len(data)
    return h.hexdigest()
