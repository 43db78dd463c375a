"""Where the downloaded bytes go: a part file written at any offset, or a stream written strictly in order.

Both take ``write(offset, data)`` from any worker thread. Every byte of the file is handed over exactly once (the
range bookkeeping in :mod:`rget.blocks` guarantees it), so neither sink needs to deduplicate.
"""

from __future__ import annotations

import errno
import hashlib
import os
import select
import tempfile
import threading
from pathlib import Path

from rget.errors import ReaderGone, RgetError

MIB = 1024 * 1024
WINDOW = 1024 * MIB
"""How far ahead of a stream's write point the ranges may run (spilled to a temporary file meanwhile)."""


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

    Workers spill every chunk to an unlinked temporary file (sparse, at its own offset; the page cache usually keeps
    it in memory) and go on downloading; one writer thread sends out, in order, whatever is contiguous at the write
    point, so the output keeps pace with the downloads however the ranges finish and no worker waits on the reader.
    Memory stays at one read-back buffer (none with os.sendfile). The spill is bounded: a worker whose chunk lies
    more than ``window`` bytes past the write point waits, so a slow reader slows the connections (TCP
    backpressure) instead of filling the disk. The chunk at the write point is never past the window: no deadlock.
    """

    ordered = True

    def __init__(
        self, fd: int, shown: str, window: int = WINDOW, size: int | None = None, *, hashing: bool = True
    ) -> None:
        self.fd = fd
        self.path = shown
        self.window = window
        self.hashing = hashing
        """Hash the bytes on the way out (for ``--sha256``). Without it the writer hands the spill file to the
        kernel (os.sendfile): no copy through Python and no hash nobody asked for (the reader usually hashes too,
        on the same two cores)."""
        self._sendfile = not hashing
        self.next = 0
        """Bytes written to the stream so far (the write point)."""
        self.sha256 = hashlib.sha256()
        self._ready: dict[int, int] = {}  # spilled and contiguous: start -> end (exclusive)
        self._ends: dict[int, int] = {}  # end -> start, to merge a chunk onto the interval it continues
        self._spill: int | None = None
        self._size = size
        self._sealed = False
        self._done = False  # no more chunks will come
        self._busy = False  # the writer is sending a piece out
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._writer: threading.Thread | None = None

    @property
    def written(self) -> int:
        return self.next

    def restartable(self) -> bool:
        """Only while nothing went out: bytes on a pipe cannot be taken back."""
        return self.next == 0 and not self._busy

    def reset(self) -> None:
        if not self.restartable():
            raise RgetError(f"{self.path}: cannot start over: {self.next} bytes already written")
        with self._cond:
            self._ready.clear()
            self._ends.clear()

    def seal(self) -> None:
        """Accept no more writes (the file changed: workers of the old version may still be running); returns once
        a piece being sent is out, so that :attr:`written` is final."""
        with self._cond:
            self._sealed = True
            self._ready.clear()
            self._cond.notify_all()
            while self._busy:
                self._cond.wait(0.1)

    def _spill_fd(self) -> int:
        if self._spill is None:
            tmp = tempfile.gettempdir()
            check_space(Path(tmp), min(self.window, self._size or self.window), Path(tmp, "rget spill file"))
            try:
                self._spill = os.open(tmp, os.O_RDWR | getattr(os, "O_TMPFILE", 0) | os.O_CLOEXEC, 0o600)
            except OSError:
                try:  # no O_TMPFILE here: an ordinary temporary file, unlinked at once
                    self._spill, name = tempfile.mkstemp(prefix="rget-spill-")
                    os.unlink(name)
                except OSError as e:
                    raise RgetError(f"{tmp}: cannot create the stream's spill file: {e.strerror or e}") from None
            self._writer = threading.Thread(target=self._write_out, name="rget-stdout", daemon=True)
            self._writer.start()
        return self._spill

    def write(self, offset: int, data: memoryview, stop: threading.Event | None = None) -> None:
        with self._cond:
            while offset >= self.next + self.window and not self._sealed and self._error is None:
                if stop is not None and stop.is_set():
                    return
                self._cond.wait(0.1)
            if self._error is not None:
                raise self._error
            if self._sealed:
                return
            spill = self._spill_fd()
        _pwrite_all(spill, data, offset, "the stream's spill file")
        with self._cond:
            if self._sealed:
                return
            start = self._ends.pop(offset, offset)
            end = offset + len(data)
            if end in self._ready:
                later = self._ready.pop(end)
                del self._ends[later]
                end = later
            self._ready[start] = end
            self._ends[end] = start
            if start == self.next:
                self._cond.notify_all()

    def _write_out(self) -> None:
        """The writer thread: send out every spilled byte at the write point, in order, until :meth:`finish`."""
        buf = bytearray(MIB)
        try:
            while True:
                with self._cond:
                    while not self._sealed and self.next not in self._ready and not self._done:
                        self._cond.wait(0.5)
                    if self._sealed or self.next not in self._ready:
                        return  # sealed, or done with nothing more at the write point
                    end = self._ready.pop(self.next)
                    del self._ends[end]
                    self._busy = True
                try:
                    pos = self.next
                    while pos < end:
                        if self._sendfile and (n := self._send_file(pos, min(MIB, end - pos))):
                            pos += n
                            continue
                        n = os.preadv(self._spill_fd(), [memoryview(buf)[: min(MIB, end - pos)]], pos)
                        if n <= 0:
                            raise RgetError("the stream's spill file came back short")
                        self._out(memoryview(buf)[:n])
                        pos += n
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        except BaseException as e:
            with self._cond:
                self._error = e
                self._cond.notify_all()

    def finish(self) -> None:
        """Every byte is in: wait until the writer sent the last of them; raise what stopped it."""
        with self._cond:
            self._done = True
            self._cond.notify_all()
        if self._writer is not None:
            while self._writer.is_alive():
                self._writer.join(0.1)  # timed: Ctrl-C reaches the main thread
        if self._error is not None:
            raise self._error

    def _send_file(self, pos: int, count: int) -> int:
        """Up to ``count`` spilled bytes at ``pos`` out by os.sendfile; 0 when this output cannot take it (then
        the writer copies, from now on)."""
        try:
            while True:
                try:
                    n = os.sendfile(self.fd, self._spill_fd(), pos, count)
                    break
                except BlockingIOError:
                    _wait_writable(self.fd)
        except BrokenPipeError:
            raise ReaderGone(f"{self.path}: the reader closed the pipe") from None
        except OSError as e:
            if e.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a terminal, an O_APPEND file, ...
                self._sendfile = False
                return 0
            raise RgetError(f"{self.path}: cannot write: {e.strerror or e}") from None
        if n <= 0:
            raise RgetError("the stream's spill file came back short")
        with self._cond:
            self.next += n
            self._cond.notify_all()
        return n

    def _out(self, chunk: memoryview) -> None:
        if self.hashing:
            self.sha256.update(chunk)
        view = chunk
        try:
            while view:
                try:
                    n = os.write(self.fd, view)
                except BlockingIOError:
                    _wait_writable(self.fd)
                    continue
                view = view[n:]
        except BrokenPipeError:
            raise ReaderGone(f"{self.path}: the reader closed the pipe") from None
        except OSError as e:
            raise RgetError(f"{self.path}: cannot write: {e.strerror or e}") from None
        with self._cond:
            self.next += len(chunk)
            self._cond.notify_all()

    def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return  # still writing (an error path): the process exit closes the spill file
        if self._spill is not None:
            os.close(self._spill)  # the caller owns the output descriptor (stdout stays open for the shell)
            self._spill = None


def _wait_writable(fd: int) -> None:
    """Until ``fd`` takes more: a stdout its creator made O_NONBLOCK (shared with the shell's other readers of the
    open file, so not ours to change back) answers EAGAIN when the pipe is full, where a blocking one would wait."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.poll()
