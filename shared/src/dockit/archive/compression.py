"""Compression, told by magic bytes (never by media type, name or position), and streaming decompression: of a
layer blob (gzip, zstd) and of a whole archive (``docker save img | gzip``: gzip, zstd, xz).

gzip goes through ISA-L (``isal``, several times faster than zlib) when installed, else zlib; zstd needs
``zstandard`` (both come with ``dockit[archive]``); xz is the standard library's lzma.
"""

from __future__ import annotations

from typing import IO, Any, cast

from dockit.archive.tarstream import BLOCK, BufferedSource, ByteSource
from dockit.errors import ArchiveError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
# The most a decompressor is handed per call. isal asks for 512 KiB at a time; from a pipe, which delivers it in
# pieces, that was a fresh 512 KiB object per call, and past glibc's mmap threshold each is new pages (measured on
# the 735 MB gzip OCI bench archive through a pipe: 320k page faults and 1.4 s; with 128 KiB, 9k and 0.75 s).
_FEED = 128 << 10


def sniff(head: bytes) -> str | None:
    """``gzip``, ``zstd``, ``none`` (a plain tar) or None (not a layer) from a blob's first bytes.

    >>> sniff(b"\\x1f\\x8b\\x08"), sniff(b"{}")
    ('gzip', None)
    """
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= BLOCK and (head[257:262] == b"ustar" or head[:BLOCK] == bytes(BLOCK)):
        return "none"
    return None


def sniff_whole(head: bytes) -> str | None:
    """The compression of a whole archive (``gzip``, ``zstd``, ``xz``) from its first bytes; None for anything else
    (a plain tar, or not an archive: the tar reader then says which).

    >>> sniff_whole(b"\\xfd7zXZ\\x00\\x00"), sniff_whole(b"ustar")
    ('xz', None)
    """
    if head.startswith(XZ_MAGIC):
        return "xz"
    found = sniff(head[:4])
    return found if found in ("gzip", "zstd") else None


class _Reader:
    """A file-like adapter so decompressors can pull from a ByteSource."""

    def __init__(self, src: ByteSource) -> None:
        self.src = src

    def read(self, n: int = -1) -> bytes:
        return self.src.read(min(n, _FEED) if n >= 0 else _FEED)

    def readinto(self, buf: Any) -> int:
        data = self.src.read(min(len(buf), _FEED))
        buf[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


class Decompressed(BufferedSource):
    """A ByteSource over the decompressed bytes of another source."""

    truncated = "truncated (data runs past the end of the layer)"

    def __init__(self, src: ByteSource, compression: str, label: str, what: str = "layer") -> None:
        super().__init__()
        self.label = label
        self.what = what
        if what != "layer":
            self.truncated = f"truncated (data runs past the end of the {what})"
        self.stream: Any
        if compression == "gzip":
            try:
                from isal import igzip as gzip_module
            except ImportError:  # pragma: no cover - the archive extra brings isal
                import gzip as gzip_module  # type: ignore[no-redef]
            self.stream = gzip_module.GzipFile(fileobj=cast(IO[bytes], _Reader(src)), mode="rb")  # type: ignore[no-untyped-call]
        elif compression == "zstd":
            try:
                import zstandard
            except ImportError:
                raise ArchiveError(f"zstd {what}: install dockit[archive] (zstandard) to read it", path=label) from None
            self.stream = zstandard.ZstdDecompressor().stream_reader(
                cast(IO[bytes], _Reader(src)), read_across_frames=True
            )
        elif compression == "xz":
            import lzma

            self.stream = lzma.LZMAFile(cast(IO[bytes], _Reader(src)))  # noqa: SIM115 - lives as long as the source
        else:
            raise ArchiveError(f"unknown compression {compression!r}", path=label)

    def _pull(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes from the stream (fewer only at its end)."""
        try:
            data: bytes = self.stream.read(n)
            return data
        except ArchiveError:
            raise
        except Exception as e:  # zlib.error, EOFError, zstd.ZstdError, gzip.BadGzipFile, LZMAError: all mean bad data
            raise ArchiveError(f"corrupt compressed {self.what}: {e}", path=self.label) from None
