"""The download: probe, parallel ranges written in place with pwrite, single-stream fallback, verify, rename.

Invariants: nothing appears at the output path until every byte is there and checked; bytes of two versions of
the file are never mixed (every range carries If-Range and must come back 206 with the Content-Range we asked
for); memory stays bounded (each worker holds one chunk) whatever the file size.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from rget.blocks import Block, State, plan, spread
from rget.errors import RemoteChanged, RgetError
from rget.progress import Reporter
from rget.remote import HttpError, Remote, new_session, parse_content_range, probe, send, shown, tls_failure

CHUNK = 64 * 1024  # per read: small enough that progress, the resume state and a cut connection lose little
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
EXPIRED_STATUS = frozenset({403, 410})
STATE_EVERY = 1.0


@dataclass
class Options:
    """How to download: the CLI flags, in bytes and seconds."""

    connections: int = 4
    block_size: int | None = None
    retries: int = 5
    timeout: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None
    executable: bool = False
    resume: bool = False


@dataclass(frozen=True)
class Result:
    """What was downloaded: size, seconds, and how (``ranges`` or ``single``, ``restarted`` after a change)."""

    path: Path
    size: int
    seconds: float
    mode: str
    restarted: bool = False
    resumed_from: int = 0


class Retryable(RgetError):
    """A failure worth another attempt (5xx, 429, dropped connection, timeout)."""


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with jitter: about base * 2**(attempt-1), between half and all of it, capped."""
    delay: float = min(cap, base * 2 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)


def describe(exc: BaseException, timeout: float) -> str:
    """A short cause for a requests exception (its own text nests three libraries' worth of repr)."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within {timeout:g} s"
    if isinstance(exc, requests.ReadTimeout) or "Read timed out" in text:
        return f"no data for {timeout:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection closed mid-transfer"
    if isinstance(exc, requests.exceptions.SSLError):
        return tls_failure(exc)
    if isinstance(exc, requests.ConnectionError):
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "unknown host"
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "connection closed by the server"
        return "connection failed"
    if isinstance(exc, HttpError):
        return exc.cause
    if isinstance(exc, RgetError):
        return text
    return text or type(exc).__name__


def gave_up(where: str, cause: BaseException, attempts: int, timeout: float) -> RgetError:
    """The one-line error once retries run out: the URL, the last cause, and how many attempts were made."""
    return RgetError(f"{where}: {describe(cause, timeout)} (gave up after {attempts} attempts)")


def read_into(resp: requests.Response, view: memoryview, timeout: float) -> int:
    """Fill ``view`` from the body; 0 at its end. A dropped connection or a silent server raises Retryable.

    The bytes go from the socket straight into our buffer (http.client's readinto under urllib3): no allocation
    per chunk, so memory stays flat however many connections run; a connection closed mid-body still hands
    over what arrived (the range then resumes from its last byte).
    """
    fp = resp.raw._fp
    try:
        n = int(fp.readinto(view))
    except TimeoutError:
        raise Retryable(f"no data for {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as e:
        raise Retryable(f"connection closed mid-transfer ({type(e).__name__})") from None
    if not n and view and getattr(fp, "length", None):  # Content-Length promised more
        raise Retryable("connection closed mid-transfer")
    return n


def _pwrite_all(fd: int, data: memoryview, offset: int, path: Path) -> None:
    """Write all of ``data`` at ``offset``; a failed write (a full disk) is one line naming ``path``."""
    try:
        while data:
            n = os.pwrite(fd, data, offset)
            data = data[n:]
            offset += n
    except OSError as e:
        raise RgetError(f"{path}: cannot write: {e.strerror or e}") from None


def _open_part(part: Path, size: int | None, *, fresh: bool) -> int:
    flags = os.O_RDWR | os.O_CREAT | (os.O_TRUNC if fresh else 0)
    try:
        fd = os.open(part, flags, 0o666)
        if fresh and size:
            os.ftruncate(fd, size)  # sparse: reserves nothing, lets every range pwrite at its offset
    except OSError as e:
        raise RgetError(f"{part}: cannot write: {e.strerror or e}") from None
    return fd


def _discard(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


class Ranges:
    """Fetches the blocks of one version of the file over ``connections`` threads into ``fd``."""

    def __init__(
        self,
        session: requests.Session,
        remote: Remote,
        opts: Options,
        part: Path,
        fd: int,
        blocks: list[Block],
        reporter: Reporter,
    ) -> None:
        self.session = session
        self.remote = remote
        self.opts = opts
        self.part = part
        self.fd = fd
        self.blocks = blocks
        self.reporter = reporter
        self.url = remote.final_url
        self.todo: deque[Block] = deque(b for b in blocks if b.left > 0)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._resolve_lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def remaining(self) -> int:
        """Bytes not yet written."""
        return sum(b.left for b in self.blocks)

    def run(self, checkpoint: Callable[[], None]) -> None:
        """Fetch everything; ``checkpoint`` is called about once a second (saves the resume state).

        On the first error it returns at once: a worker stuck in a read of a silent connection must not hold up
        the failure or the restart (workers stop at their next chunk; see :meth:`alive`).
        """
        self._workers = [
            threading.Thread(target=self._worker, name=f"rget-{i}", daemon=True)
            for i in range(min(self.opts.connections, len(self.todo)))
        ]
        for w in self._workers:
            w.start()
        size = self.remote.size or 0
        last = time.monotonic()
        try:
            while not self.stop.is_set() and (alive := [w for w in self._workers if w.is_alive()]):
                alive[0].join(0.1)  # a timed join lets Ctrl-C reach the main thread promptly
                self.reporter.update(size - self.remaining())
                if time.monotonic() - last >= STATE_EVERY:
                    checkpoint()
                    last = time.monotonic()
        except BaseException:
            self.stop.set()
            raise
        self.reporter.update(size - self.remaining())
        if self.error is not None:
            raise self.error

    def alive(self) -> bool:
        """True while a worker may still write to the file descriptor."""
        return any(w.is_alive() for w in self._workers)

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.stop.set()

    def _worker(self) -> None:
        buf = memoryview(bytearray(CHUNK))
        while not self.stop.is_set():
            with self._lock:
                if not self.todo:
                    return
                block = self.todo.popleft()
            try:
                self._fetch(block, buf)
            except BaseException as e:
                self._fail(e)
                return

    def _fetch(self, block: Block, buf: memoryview) -> None:
        failures = 0
        while block.left > 0 and not self.stop.is_set():
            url = self.url
            before = block.pos
            try:
                self._attempt(url, block, buf)
                continue
            except Retryable as e:
                cause: BaseException = e
            except requests.RequestException as e:
                cause = e
            if self.stop.is_set():
                return
            failures = 1 if block.pos > before else failures + 1
            where = shown(url, self.remote.url)
            if failures > self.opts.retries:
                raise gave_up(where, cause, failures, self.opts.timeout)
            delay = 0.0 if isinstance(cause, _Expired) else backoff(failures)
            self.reporter.log(
                f"range {block.pos}-{block.end}: {describe(cause, self.opts.timeout)}; retry {failures}"
                f"/{self.opts.retries}" + (f" in {delay:.1f} s" if delay else "")
            )
            self.stop.wait(delay)

    def _attempt(self, url: str, block: Block, buf: memoryview) -> None:
        remote = self.remote
        resp, answered = send(
            self.session,
            url,
            original=remote.url,
            headers=self.opts.headers,
            timeout=self.opts.timeout,
            byte_range=(block.pos, block.end),
            if_range=remote.validator,
        )
        with resp:
            status = resp.status_code
            where = shown(answered, remote.url)
            if status == 206:
                cr = parse_content_range(resp.headers.get("Content-Range"))
                if cr is None or cr.start != block.pos or cr.total != remote.size:
                    got = resp.headers.get("Content-Range", "no Content-Range")
                    raise RemoteChanged(f"{where}: asked bytes {block.pos}-{block.end}/{remote.size}, got {got}")
                self._stream(resp, block, buf)
                return
            if status in (200, 412):
                raise RemoteChanged(f"{where}: HTTP {status} to a range request (file changed or ranges ignored)")
            if status in EXPIRED_STATUS and url != remote.url:
                self._reresolve(url)
                raise _Expired(f"{where}: HTTP {status}, URL re-resolved")
            raise _refused(resp, where)

    def _stream(self, resp: requests.Response, block: Block, buf: memoryview) -> None:
        start = block.pos
        while block.left > 0 and not self.stop.is_set():
            n = read_into(resp, buf[: min(len(buf), block.left)], self.opts.timeout)
            if not n:
                if block.pos == start:
                    raise Retryable("connection closed before any data")
                return  # a short answer: the caller asks again for the rest
            _pwrite_all(self.fd, buf[:n], block.pos, self.part)
            block.pos += n  # only after the write: the resume state never claims bytes not on disk

    def _reresolve(self, used: str) -> None:
        """A signed redirect target expired: ask the original URL again; it must still be the same file."""
        with self._resolve_lock:
            if self.url != used:
                return  # another worker already did
            fresh, body = probe(self.session, self.remote.url, self.opts.headers, self.opts.timeout)
            if body is not None:
                body.close()
            if not fresh.ranges or not self.remote.same_version(fresh):
                raise RemoteChanged(f"{self.remote.url}: the file changed during the download")
            self.reporter.log(f"re-resolved {self.remote.url} -> {shown(fresh.final_url, self.remote.url)}")
            self.url = fresh.final_url


class _Expired(Retryable):
    """A signed URL expired and was re-resolved: retry at once."""


def _refused(resp: requests.Response, where: str) -> RgetError:
    """The error for an answer we cannot use: worth a retry for 5xx/429 (the caller names the URL), else final."""
    if resp.status_code in RETRY_STATUS:
        return Retryable(f"HTTP {resp.status_code} {resp.reason or ''}".rstrip())
    return HttpError(where, resp.status_code, resp.reason or "")


def _probe(session: requests.Session, url: str, opts: Options) -> tuple[Remote, requests.Response | None]:
    failures = 0
    while True:
        try:
            return probe(session, url, opts.headers, opts.timeout)
        except HttpError as e:
            if e.status not in RETRY_STATUS:
                raise
            cause: BaseException = e
        except requests.RequestException as e:
            cause = e
        failures += 1
        if failures > opts.retries:
            raise gave_up(url, cause, failures, opts.timeout)
        time.sleep(backoff(failures))


def _single(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    part: Path,
    opts: Options,
    reporter: Reporter,
) -> int:
    """One plain GET streamed to ``part``; a dropped stream starts over (without ranges there is no resuming)."""
    failures = 0
    buf = memoryview(bytearray(CHUNK))
    while True:
        fd = _open_part(part, None, fresh=True)
        try:
            answered = remote.url
            if body is None:
                body, answered = send(
                    session, remote.url, original=remote.url, headers=opts.headers, timeout=opts.timeout
                )
                if body.status_code != 200:
                    raise _refused(body, shown(answered, remote.url))
            length = body.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            reporter.restart(expected)
            done = 0
            while n := read_into(body, buf, opts.timeout):
                _pwrite_all(fd, buf[:n], done, part)
                done += n
                reporter.update(done)
            if expected is not None and done != expected:
                raise Retryable(f"got {done} of {expected} bytes")
            return done
        except (Retryable, requests.RequestException) as e:
            failures += 1
            if failures > opts.retries:
                where = shown(answered, remote.url)
                raise gave_up(where, e, failures, opts.timeout) from None
            reporter.log(f"single stream: {describe(e, opts.timeout)}; retry {failures}/{opts.retries}")
            time.sleep(backoff(failures))
        finally:
            os.close(fd)
            if body is not None:
                body.close()
            body = None


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces (the ranges arrive out of order, so hashing waits for the end)."""
    h = hashlib.sha256()
    buf = bytearray(1024 * 1024)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def download(url: str, output: Path, opts: Options, reporter: Reporter | None = None) -> Result:
    """Download ``url`` to ``output``: parallel ranges when the server allows, else one stream; verified.

    Writes ``output.part`` (and ``output.part.state`` for ``-c``), renamed to ``output`` only when complete.
    Raises :class:`RgetError` (one line, URL and status or cause) on failure; KeyboardInterrupt keeps the state.
    """
    started = time.monotonic()
    reporter = reporter or Reporter()
    output = Path(output)
    if output.is_dir():
        raise RgetError(f"{output}: is a directory")
    part = output.with_name(output.name + ".part")
    state_path = output.with_name(output.name + ".part.state")
    session = new_session(opts.connections)
    remote, body = _probe(session, url, opts)
    reporter.log(
        f"probe: {'ranges' if remote.ranges else 'no ranges'}, size {remote.size}, "
        f"etag {remote.etag}, last-modified {remote.last_modified}, at {shown(remote.final_url, url)}"
    )
    reporter.start(remote.size, output.name)
    restarted = False
    resumed_from = 0
    try:
        if remote.ranges and remote.size:
            try:
                resumed_from = _parallel(session, remote, part, state_path, opts, reporter)
                mode = "ranges"
            except RemoteChanged as e:
                reporter.log(f"{e}; starting over as one stream")
                _discard(part, state_path)  # workers still running hold the old inode; their writes vanish
                restarted = True
                _single(new_session(1), remote, None, part, opts, reporter)
                mode = "single"
        else:
            _discard(state_path)
            _single(session, remote, body, part, opts, reporter)
            mode = "single"
            body = None
    except BaseException:
        # Only a resumable range download keeps its part file (for -c); anything else leaves nothing behind.
        if not (state_path.exists() and part.exists()):
            _discard(part, state_path)
        raise
    finally:
        reporter.stop()
        if body is not None:
            body.close()
    size = part.stat().st_size
    if opts.sha256:
        digest = sha256_of(part)
        if digest != opts.sha256.lower():
            _discard(part, state_path)
            raise RgetError(f"{url}: sha256 mismatch: expected {opts.sha256.lower()}, got {digest}")
    if opts.executable:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(part, part.stat().st_mode | (0o111 & ~umask))
    try:
        os.replace(part, output)
    except OSError as e:
        raise RgetError(f"{output}: cannot write: {e.strerror or e}") from None
    _discard(state_path)
    result = Result(output, size, time.monotonic() - started, mode, restarted, resumed_from)
    speed = (size - resumed_from) / 1048576 / max(result.seconds, 1e-9)
    resumed = f" ({resumed_from} were already here)" if resumed_from else ""
    reporter.log(f"saved {output}: {size} bytes{resumed} in {result.seconds:.2f} s ({speed:.1f} MiB/s)")
    return result


def _parallel(
    session: requests.Session, remote: Remote, part: Path, state_path: Path, opts: Options, reporter: Reporter
) -> int:
    """Fetch by ranges, resuming from the saved state when ``-c`` and it describes this very file.

    Returns the number of bytes that were already there (resumed).
    """
    assert remote.size
    state = State.load(state_path) if opts.resume else None
    if state is not None and state.matches(remote) and part.exists() and part.stat().st_size == remote.size:
        blocks = spread(state.blocks, opts.connections)
        fd = _open_part(part, remote.size, fresh=False)
        reporter.log(f"resuming: {remote.size - sum(b.left for b in blocks)} of {remote.size} bytes already here")
    else:
        if opts.resume:
            reporter.log("nothing to resume for this file (no state, or the file changed): starting over")
        blocks = plan(remote.size, opts.connections, opts.block_size)
        fd = _open_part(part, remote.size, fresh=True)
    resumed = remote.size - sum(b.left for b in blocks)
    reporter.log(f"{len(blocks)} ranges over {min(opts.connections, len(blocks))} connections")
    state = State(remote.url, remote.size, remote.etag, remote.last_modified, blocks)
    resumable = remote.validator is not None

    def checkpoint() -> None:
        if resumable:
            state.save(state_path)

    ranges = Ranges(session, remote, opts, part, fd, blocks, reporter)
    try:
        ranges.run(checkpoint)
    except RemoteChanged:
        raise
    except BaseException as e:
        if not (resumable and state.save(state_path)):
            _discard(part, state_path)
            raise
        if isinstance(e, RgetError):
            raise RgetError(f"{e} (kept {part.name}; rerun with -c to resume)") from None
        raise
    finally:
        # A worker still blocked in a read would pwrite into whatever file reused this descriptor number:
        # leave it open until the process ends rather than risk that.
        if not ranges.alive():
            os.close(fd)
    if ranges.remaining():
        raise RgetError(f"{remote.url}: {ranges.remaining()} bytes missing")  # unreachable unless a worker quit early
    return resumed
