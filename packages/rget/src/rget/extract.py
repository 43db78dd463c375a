"""``--extract DIR``: unpack the download while it arrives, safely, and only into place once complete and verified.

The format comes from the first bytes (magic), never the name: tar, and tar inside gzip, bzip2, xz or zstd, unpack
from the stream as it arrives (the archive never lands on disk); zip needs its central directory at the end, so it is
saved whole first, then unpacked. Members are checked as Python's tarfile ``data`` filter defines safety, and
stricter: an absolute name or a ``..`` component is refused (the filter would quietly rewrite the first), as are links
out of DIR and devices. A refused member fails the run, naming it. Everything goes into a temporary directory
beside DIR (same file system), moved into DIR only when the whole archive is in and the hash matched; a failure
leaves DIR as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

from rget.errors import RgetError

MAGIC = (
    (b"\x1f\x8b", "gz"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zst"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
)


class Refused(RgetError):
    """A member the safety rules refuse (exit 1, the message names it)."""


def kind(head: bytes) -> str | None:
    """The archive format from its first bytes: ``gz``, ``bz2``, ``xz``, ``zst``, ``zip``, ``tar`` or None.

    >>> kind(b"\\x1f\\x8b\\x08\\x00"), kind(b"PK\\x03\\x04"), kind(bytes(257) + b"ustar\\x0000"), kind(b"hello")
    ('gz', 'zip', 'tar', None)
    """
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    if head[257:262] == b"ustar":
        return "tar"
    return None


def safe_name(name: str, strip: int, what: str = "member") -> str | None:
    """The member's path after ``--strip-components``, or None to skip it; raises Refused when unsafe.

    >>> safe_name("./tool-1.0/bin/tool", 1), safe_name("tool-1.0", 1), safe_name("a//b/", 0)
    ('bin/tool', None, 'a/b')
    """
    label = f"{what} {name!r}" if what else repr(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise Refused(f"{label}: an absolute path")
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    if ".." in parts:
        raise Refused(f"{label}: '..' in its path")
    parts = parts[strip:]
    return "/".join(parts) if parts else None


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``rest``: the magic was read off a stream that cannot seek back."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


def _zstd_reader(raw: IO[bytes]) -> IO[bytes]:
    try:
        import zstandard
    except ImportError:
        raise RgetError("a .tar.zst needs the zstandard module: pip install 'rget[zstd]'") from None
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def unpack(stream: IO[bytes], into: Path, strip: int = 0) -> int:
    """Unpack the archive read from ``stream`` into the (empty, private) directory ``into``; members written."""
    head = stream.read(512)
    fmt = kind(head)
    if fmt is None:
        raise RgetError(f"not a tar, tar.gz/bz2/xz/zst or zip archive (starts with {head[:8]!r})")
    raw = io.BufferedReader(_Prefixed(head, stream), buffer_size=256 * 1024)
    if fmt == "zip":
        return _unzip(raw, into, strip)
    source: IO[bytes] = _zstd_reader(raw) if fmt == "zst" else raw
    mode = "r|" + (fmt if fmt in ("gz", "bz2", "xz") else "")
    count = 0
    try:
        with tarfile.open(fileobj=source, mode=mode) as tar:  # type: ignore[call-overload]
            for member in tar:
                name = safe_name(member.name, strip)
                if name is None:
                    continue
                member = member.replace(name=name, deep=False)
                if member.islnk():
                    try:
                        target = safe_name(member.linkname, strip, what="")
                    except Refused as e:
                        raise Refused(f"member {member.name!r}: a hard link to {e}") from None
                    if target is None:
                        raise Refused(f"member {member.name!r}: a hard link to {member.linkname!r}, stripped away")
                    member = member.replace(linkname=target, deep=False)
                try:
                    checked = tarfile.data_filter(member, str(into))
                except tarfile.FilterError as e:
                    raise Refused(f"member {member.name!r}: {e}") from None
                tar.extract(checked, into, set_attrs=True, filter="fully_trusted")
                count += 1
    except (tarfile.TarError, EOFError, OSError) as e:
        if isinstance(e, OSError) and e.errno is not None:
            raise RgetError(f"cannot write the extracted files: {e.strerror or e}") from None
        raise RgetError(f"a broken archive: {e}") from None
    return count


def _unzip(raw: IO[bytes], into: Path, strip: int) -> int:
    archive = into / ".rget-archive.zip"
    with open(archive, "wb") as f:
        shutil.copyfileobj(raw, f, 1024 * 1024)
    count = 0
    try:
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                name = safe_name(info.filename, strip)
                if name is None:
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise Refused(f"member {info.filename!r}: a symlink (rget does not unpack links from a zip)")
                dest = into / name
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
                if mode & 0o111:
                    dest.chmod(0o755)
                count += 1
    except zipfile.BadZipFile as e:
        raise RgetError(f"a broken zip: {e}") from None
    finally:
        archive.unlink(missing_ok=True)
    return count


def merge(src: Path, dest: Path) -> None:
    """Move everything under ``src`` into ``dest`` (renames on one file system); existing files are replaced, as
    ``tar x`` replaces them, and directories are merged."""
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        if entry.is_dir() and not entry.is_symlink() and target.is_dir() and not target.is_symlink():
            merge(entry, target)
            entry.rmdir()
        else:
            if target.is_dir() and not target.is_symlink():
                raise RgetError(f"{target}: a directory is in the way of the archive's file")
            os.replace(entry, target)


class Extraction:
    """A pipe whose reader unpacks into a temporary directory beside ``dest``; :meth:`finish` moves it into place."""

    def __init__(self, dest: Path, strip: int = 0) -> None:
        self.dest = dest
        self.strip = strip
        self.created = not dest.exists()
        try:
            dest.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name or 'x'}.rget-", dir=dest.parent))
        except OSError as e:
            raise RgetError(f"{dest}: cannot create: {e.strerror or e}") from None
        read, self.fd = os.pipe()
        self.error: BaseException | None = None
        self.members = 0
        self._thread = threading.Thread(target=self._run, args=(read,), name="rget-extract", daemon=True)
        self._thread.start()

    def _run(self, read: int) -> None:
        with os.fdopen(read, "rb") as stream:
            try:
                self.members = unpack(stream, self.tmp, self.strip)
                while stream.read(1024 * 1024):  # trailing padding after the end-of-archive blocks
                    pass
            except BaseException as e:
                self.error = e

    def close_input(self) -> None:
        """No more bytes: the unpacking thread sees the end of the archive."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def wait(self) -> None:
        """Until every member is unpacked; raises what the unpacking refused or could not do."""
        self.close_input()
        self._thread.join()
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        """Move the unpacked tree into ``dest``."""
        try:
            merge(self.tmp, self.dest)
        except OSError as e:
            raise RgetError(f"{self.dest}: cannot move the extracted files into place: {e.strerror or e}") from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary tree (and DIR, when this run created it and nothing went in)."""
        self.close_input()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def abandon(self) -> None:
        """The run failed: leave the file system as it was."""
        self.discard()
        if self.created:
            with contextlib.suppress(OSError):
                self.dest.rmdir()
