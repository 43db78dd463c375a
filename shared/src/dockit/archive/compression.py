"""Layer blob compression, told by magic bytes (never by media type or position), and streaming decompression.

gzip goes through ISA-L (``isal``, several times faster than zlib) when installed, else zlib; zstd needs
``zstandard`` (both come with ``dockit[archive]``).
"""

from __future__ import annotations

from typing import IO, Any, cast

from dockit.archive.tarstream import BLOCK, ByteSource
from dockit.errors import ArchiveError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
_FILL = 256 << 10


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


class _Reader:
    """A file-like adapter so decompressors can pull from a ByteSource."""

    def __init__(self, src: ByteSource) -> None:
        self.src = src

    def read(self, n: int = -1) -> bytes:
        return self.src.read(n if n >= 0 else _CHUNK)

    def readinto(self, buf: Any) -> int:
        data = self.src.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


class Decompressed:
    """A ByteSource over the decompressed bytes of another source."""

    def __init__(self, src: ByteSource, compression: str, label: str) -> None:
        self.label = label
        self._buf = b""
        self._pos = 0
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
                raise ArchiveError("zstd layer: install dockit[archive] (zstandard) to read it", path=label) from None
            self.stream = zstandard.ZstdDecompressor().stream_reader(
                cast(IO[bytes], _Reader(src)), read_across_frames=True
            )
        else:
            raise ArchiveError(f"unknown compression {compression!r}", path=label)

    def _pull(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes from the stream (fewer only at its end)."""
        try:
            data: bytes = self.stream.read(n)
            return data
        except ArchiveError:
            raise
        except Exception as e:  # zlib.error, EOFError, zstd.ZstdError, gzip.BadGzipFile: all mean a bad layer
            raise ArchiveError(f"corrupt compressed layer: {e}", path=self.label) from None

    # Headers and small files are served from a buffer: one call into the decompressor per _FILL bytes, not two
    # per tar member (on a layer of small files that halves the time).
    def read(self, n: int) -> bytes:
        buf, pos = self._buf, self._pos
        if pos + n <= len(buf):
            self._pos = pos + n
            return buf[pos : pos + n]
        parts = [buf[pos:]]
        got = len(buf) - pos
        self._buf, self._pos = b"", 0
        while got < n:
            chunk = self._pull(max(_FILL, n - got))
            if not chunk:
                break
            take = n - got
            if len(chunk) > take:
                self._buf, self._pos = chunk, take
                chunk = chunk[:take]
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def skip(self, n: int) -> None:
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            return
        n -= avail
        self._buf, self._pos = b"", 0
        while n > 0:
            chunk = self._pull(min(max(n, _FILL), _CHUNK))
            if not chunk:
                raise ArchiveError("truncated (data runs past the end of the layer)", path=self.label)
            if len(chunk) > n:
                self._buf, self._pos = chunk, n
                return
            n -= len(chunk)
