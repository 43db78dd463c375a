"""Where the downloaded bytes go: a part file written at any offset, or a stream written strictly in order.

Both take ``write(offset, data)`` from any worker thread. Every byte of the file is handed over exactly once (the
range bookkeeping in :mod:`rget.blocks` guarantees it), so neither sink needs to deduplicate.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from rget.errors import ReaderGone, RgetError

MIB = 1024 * 1024
WINDOW = 16 * MIB
"""How far ahead of the stream's write point the ranges may run: the bound on the memory a stream holds."""


def _pwrite_all(fd: int, data: memoryview, offset: int, path: object) -> None:
    try:
        while data:
            n = os.pwrite(fd, data, offset)
            data = data[n:]
            offset += n
    except OSError as e:
        raise RgetError(f"{path}: cannot write: {e.strerror or e}") from None


def check_space(directory: Path, needed: int, what: Path) -> None:
    """Fail before a byte is fetched when ``needed`` bytes cannot fit: a part file is sparse, so the kernel would
    only say so after minutes of downloading (and a lying server could claim a terabyte)."""
    try:
        st = os.statvfs(directory)
    except OSError:
        return  # cannot tell: the writes will say so
    free = st.f_bavail * st.f_frsize
    if needed > free:
        raise RgetError(f"{what}: needs {needed} bytes, only {free} free on its file system")


class FileSink:
    """The part file: ranges land at their offsets with pwrite, in any order."""

    ordered = False

    def __init__(self, part: Path, size: int | None, *, fresh: bool = True) -> None:
        self.path = part
        if fresh and size:
            existing = part.stat().st_blocks * 512 if part.exists() else 0
            check_space(part.parent, size - existing, part)
        flags = os.O_RDWR | os.O_CREAT | (os.O_TRUNC if fresh else 0)
        try:
            self.fd = os.open(part, flags, 0o666)
            if fresh and size:
                os.ftruncate(self.fd, size)  # sparse: lets every range pwrite at its offset
        except OSError as e:
            raise RgetError(f"{part}: cannot write: {e.strerror or e}") from None
        self.written = 0

    def write(self, offset: int, data: memoryview, stop: threading.Event | None = None) -> None:
        _pwrite_all(self.fd, data, offset, self.path)

    def restartable(self) -> bool:
        """True: a file can always be truncated and written again."""
        return True

    def reset(self) -> None:
        """Back to an empty file (a single stream starting over)."""
        try:
            os.ftruncate(self.fd, 0)
        except OSError as e:
            raise RgetError(f"{self.path}: cannot write: {e.strerror or e}") from None

    def close(self) -> None:
        os.close(self.fd)


class StreamSink:
    """Bytes in order onto a pipe, FIFO, device or stdout, while the ranges arrive in any order.

    A chunk at the write point is written at once, straight from the worker's buffer; a chunk ahead of it waits
    in memory, at most ``window`` bytes ahead. A worker whose chunk lies beyond the window blocks until the write
    point moves, so a slow reader slows the connections (TCP backpressure) instead of growing memory. The chunk at
    the write point is never beyond the window, so the stream cannot deadlock.
    """

    ordered = True

    def __init__(self, fd: int, shown: str, window: int = WINDOW) -> None:
        self.fd = fd
        self.path = shown
        self.window = window
        self.next = 0
        """Bytes written to the stream so far (the write point)."""
        self.sha256 = hashlib.sha256()
        self._pending: dict[int, bytes] = {}
        self._writing = False
        self._sealed = False
        self._cond = threading.Condition()

    @property
    def written(self) -> int:
        return self.next

    def restartable(self) -> bool:
        """Only while nothing went out: bytes on a pipe cannot be taken back."""
        return self.next == 0 and not self._pending

    def reset(self) -> None:
        if not self.restartable():
            raise RgetError(f"{self.path}: cannot start over: {self.next} bytes already written")

    def seal(self) -> None:
        """Accept no more writes (the file changed: workers of the old version may still be running); returns once
        a write in progress is out, so that :attr:`written` is final."""
        with self._cond:
            self._sealed = True
            self._pending.clear()
            while self._writing:
                self._cond.wait(0.1)

    def write(self, offset: int, data: memoryview, stop: threading.Event | None = None) -> None:
        with self._cond:
            while offset >= self.next + self.window and not self._sealed:
                if stop is not None and stop.is_set():
                    return
                self._cond.wait(0.1)
            if self._sealed:
                return
            if offset != self.next or self._writing:
                self._pending[offset] = bytes(data)
                return
            self._writing = True
        chunk: memoryview | bytes | None = data
        try:
            while chunk is not None:
                self._out(chunk)
                with self._cond:
                    self.next += len(chunk)
                    chunk = None if self._sealed else self._pending.pop(self.next, None)
                    if chunk is None:
                        self._writing = False
                    self._cond.notify_all()
        except BaseException:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
            raise

    def _out(self, chunk: memoryview | bytes) -> None:
        self.sha256.update(chunk)
        view = memoryview(chunk)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except BrokenPipeError:
            raise ReaderGone(f"{self.path}: the reader closed the pipe") from None
        except OSError as e:
            raise RgetError(f"{self.path}: cannot write: {e.strerror or e}") from None

    def close(self) -> None:
        pass  # the caller owns the descriptor (stdout stays open for the shell)
