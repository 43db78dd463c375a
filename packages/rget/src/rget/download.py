"""The download: one first request (probe and first range together), parallel ranges or one stream, verify, place.

Invariants: nothing appears at a file output until every byte is there and checked; bytes of two versions of the
file are never mixed (every 206 must carry the Content-Range asked for and the first answer's validators; a
server with no validator gets one stream, unless ``--sha256`` will prove the result); memory stays bounded (one
64 KiB buffer per connection, plus the reorder window of a stream) whatever the file size.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rget.blocks import MIB, Block, State, Work, plan, spread
from rget.errors import RemoteChanged, RgetError, UsageError
from rget.options import Options
from rget.output import Destination, destination, move_into_place, open_stream, part_paths
from rget.progress import Reporter
from rget.ranges import Ranges, Sink, single
from rget.remote import HttpError, Remote, first_answer, new_session, shown
from rget.sinks import FileSink, StreamSink
from rget.wire import CHUNK, EXPIRED_STATUS, RETRY_STATUS, backoff, gave_up

if TYPE_CHECKING:
    import requests

__all__ = ["Options", "Result", "download", "extract", "sha256_of"]


class Result(NamedTuple):
    """What was downloaded: size, seconds, and how (``ranges`` or ``single``, ``restarted`` after a change)."""

    path: Path | None
    size: int
    seconds: float
    mode: str
    restarted: bool = False
    resumed_from: int = 0


def _first(
    session: requests.Session, url: str, opts: Options, reporter: Reporter
) -> tuple[Remote, requests.Response | None]:
    """The first answer (retried on 5xx and dropped connections), said with -v."""
    import requests

    failures = 0
    while True:
        try:
            remote, body = first_answer(session, url, opts.headers, opts.timeout)
            early = " (asked while Python was starting)" if getattr(body, "sent_early", False) else ""
            reporter.log(
                f"first answer: {'ranges' if remote.ranges else 'no ranges'}, size {remote.size}, "
                f"etag {remote.etag}, last-modified {remote.last_modified}, at {shown(remote.final_url, url)}{early}"
            )
            return remote, body
        except HttpError as e:
            # a signed redirect target may expire between the redirect and its use (a slow machine, a 1 s
            # signature): the original URL gives a fresh one
            if e.status not in RETRY_STATUS and not (e.redirected and e.status in EXPIRED_STATUS):
                raise
            cause: BaseException = e
        except requests.RequestException as e:
            cause = e
        failures += 1
        if failures > opts.retries:
            raise gave_up(url, cause, failures, opts.timeout) from None
        time.sleep(backoff(failures))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces (the ranges arrive out of order, so hashing waits for the end)."""
    h = hashlib.sha256()
    buf = bytearray(MIB)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _discard(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _parallel_ok(remote: Remote, opts: Options) -> bool:
    """Ranges only when a mix of two versions would be caught: a validator on every 206, or the final hash."""
    return bool(remote.ranges and remote.size and (remote.validator or opts.sha256))


def download(
    url: str, output: Path | str | Destination | None, opts: Options, reporter: Reporter | None = None
) -> Result:
    """Download ``url`` to ``output`` (a path, ``-`` for stdout, ``DIR/``, or None: the server's name here).

    A file output is written as ``PATH.part`` (and ``PATH.part.state`` for ``-c``), renamed onto PATH only when
    complete and verified. Raises :class:`RgetError` (one line) on failure; KeyboardInterrupt keeps the state.
    """
    started = time.monotonic()
    reporter = reporter or Reporter()
    dest = output if isinstance(output, Destination) else destination(None if output is None else str(output))
    if dest.kind == "stream" and opts.resume:
        raise UsageError(f"-c cannot resume a stream ({dest.shown}): bytes already written cannot be taken back")
    if dest.kind == "stream" and opts.executable:
        raise UsageError(f"-x needs a file output, not {dest.shown}")
    session = _session(url, opts, dest.kind == "stream")
    remote, body = _first(session, url, opts, reporter)
    try:
        if remote.ranges and not _parallel_ok(remote, opts):
            reporter.log("no ETag or Last-Modified: one stream (ranges could mix two versions; --sha256 allows them)")
        if dest.kind == "stream":
            fd = open_stream(dest)
            try:
                result = _streamed(session, remote, body, fd, dest, opts, reporter, started)
            finally:
                if fd != 1:
                    os.close(fd)
            body = None
            return result
        path = dest.path if dest.kind == "file" else dest.file_in(remote, opts.force)
        assert path is not None
        result = _to_file(
            session, remote, body, path, opts, reporter, started, replace=dest.kind == "file" or opts.force
        )
        body = None
        return result
    finally:
        if body is not None:
            body.close()


def fetch(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    sink: Sink,
    opts: Options,
    reporter: Reporter,
    *,
    blocks: list[Block] | None = None,
    checkpoint: Checkpoint | None = None,
) -> Ranges | None:
    """Every byte of ``remote`` into ``sink``: parallel ranges when safe, else one stream on the first answer.

    ``blocks`` (a resumed state) replace the plan; then the first answer's body is not used. Returns the Ranges
    (so the caller can tell whether a worker may still write) or None for one stream.
    """
    if not _parallel_ok(remote, opts):
        single(session, remote, body, sink, opts, reporter)
        return None
    assert remote.size
    first = None
    if blocks is None:
        blocks = _plan(remote.size, opts, sink.ordered)
        if body is not None:
            first = (blocks[0], body)
    elif body is not None:
        body.close()
    minimum = 4 * CHUNK  # a split is worth a new request down to a few reads: a straggler keeps little
    work = Work(blocks, minimum=minimum, ordered=sink.ordered, started=first[0] if first else None)
    reporter.log(f"{len(blocks)} ranges over {min(opts.connections, len(blocks))} connections")
    ranges = Ranges(session, remote, opts, sink, work, reporter, first)
    ranges.run(checkpoint.save(work) if checkpoint else lambda: None)
    if work.remaining():
        raise RgetError(f"{remote.url}: {work.remaining()} bytes missing")  # unreachable unless a worker quit early
    return ranges


def _plan(size: int, opts: Options, ordered: bool) -> list[Block]:
    """The blocks of a fresh download. A block smaller than one read is not worth a request of its own: a small file
    is one answer; a stream goes out in order, so its blocks are a quarter as large and its first wave ramps up
    from one read (:func:`rget.blocks.plan`, ``-b`` blocks too): the write point then moves with every block."""
    per = -(-size // (opts.connections * (4 if ordered else 1)))
    step = opts.block_size or max(per, MIB if ordered else CHUNK)
    return plan(size, opts.connections, step, ramp_from=CHUNK if ordered else 0)


def _session(url: str, opts: Options, ordered: bool) -> requests.Session:
    """The download's session; the first request, and those of the blocks after the first one's, go out at once
    (:mod:`rget.early`: while Python still imports requests, when it can tell they are requests' own). With -c
    the blocks are the saved state's, not a fresh plan's: only the first request goes ahead."""

    def ahead(size: int) -> list[tuple[int, int]]:
        return [(b.start, b.end) for b in _plan(size, opts, ordered)[1 : opts.connections]]

    first = (url, opts.headers, opts.timeout)
    return new_session(opts.connections, first=first, ahead=None if opts.resume else ahead)


class Checkpoint:
    """Saves the resume state about once a second (only for a file with a validator: else nothing can resume)."""

    def __init__(self, state: State, path: Path) -> None:
        self.state = state
        self.path = path
        self.work: Work | None = None

    def save(self, work: Work) -> Callable[[], None]:
        """The function :meth:`Ranges.run` calls once a second."""
        self.work = work

        def now() -> None:
            self.state.save(self.path, work.snapshot())

        return now

    def final(self) -> bool:
        """Save once more (on Ctrl-C or failure); False when it could not be written."""
        if self.work is not None:
            return self.state.save(self.path, self.work.snapshot())
        return self.state.save(self.path)


def _to_file(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    output: Path,
    opts: Options,
    reporter: Reporter,
    started: float,
    *,
    replace: bool,
) -> Result:
    part, state_path = part_paths(output)
    reporter.start(remote.size, output.name)
    restarted = False
    resumed_from = 0
    sink: FileSink | None = None
    ranges: Ranges | None = None
    resumable = remote.validator is not None
    try:
        if _parallel_ok(remote, opts):
            state = State.load(state_path) if opts.resume else None
            blocks = None
            if state is not None and state.matches(remote) and part.exists() and part.stat().st_size == remote.size:
                blocks = spread(state.blocks, opts.connections)
                sink = FileSink(part, remote.size, fresh=False)
                resumed_from = remote.size - sum(b.left for b in blocks)
                reporter.log(f"resuming: {resumed_from} of {remote.size} bytes already here")
            else:
                if opts.resume:
                    why = "no validator" if not resumable else "no state, or the file changed"
                    reporter.log(f"nothing to resume for this file ({why}): starting over")
                sink = FileSink(part, remote.size)
            checkpoint = Checkpoint(
                State(remote.url, remote.size or 0, remote.etag, remote.last_modified, []), state_path
            )
            try:
                ranges = fetch(
                    session,
                    remote,
                    body,
                    sink,
                    opts,
                    reporter,
                    blocks=blocks,
                    checkpoint=checkpoint if resumable else None,
                )
                body = None
                mode = "ranges"
            except RemoteChanged as e:
                body = None
                reporter.log(f"{e}; starting over as one stream")
                _discard(part, state_path)  # workers still running hold the old inode; their writes vanish
                restarted = True
                sink = FileSink(part, None)
                single(new_session(1), remote, None, sink, opts, reporter)
                mode = "single"
            except BaseException as e:
                body = None
                if not (resumable and checkpoint.final()):
                    raise
                if isinstance(e, RgetError):
                    raise RgetError(f"{e} (kept {part.name}; rerun with -c to resume)") from None
                raise
        else:
            _discard(state_path)
            sink = FileSink(part, None)
            single(session, remote, body, sink, opts, reporter)
            body = None
            mode = "single"
    except BaseException:
        # Only a resumable range download keeps its part file (for -c); anything else leaves nothing behind.
        if not (state_path.exists() and part.exists()):
            _discard(part, state_path)
        raise
    finally:
        reporter.stop()
        if body is not None:
            body.close()
        # A worker still blocked in a read would pwrite into whatever file reused this descriptor number:
        # leave it open until the process ends rather than risk that.
        if sink is not None and not (ranges is not None and ranges.alive()):
            sink.close()
    size = part.stat().st_size
    if opts.sha256:
        digest = sha256_of(part)
        if digest != opts.sha256.lower():
            _discard(part, state_path)
            raise RgetError(f"{remote.url}: sha256 mismatch: expected {opts.sha256.lower()}, got {digest}")
    if opts.executable:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(part, part.stat().st_mode | (0o111 & ~umask))
    try:
        move_into_place(part, output, replace=replace)
    except RgetError:
        _discard(part, state_path)
        raise
    _discard(state_path)
    result = Result(output, size, time.monotonic() - started, mode, restarted, resumed_from)
    speed = (size - resumed_from) / MIB / max(result.seconds, 1e-9)
    resumed = f" ({resumed_from} were already here)" if resumed_from else ""
    reporter.log(f"saved {output}: {size} bytes{resumed} in {result.seconds:.2f} s ({speed:.1f} MiB/s)")
    return result


def _to_stream(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    fd: int,
    shown_as: str,
    opts: Options,
    reporter: Reporter,
) -> tuple[str, bool, StreamSink]:
    """Every byte in order onto ``fd``; returns the mode, whether it restarted, and the sink (its hash, its count)."""
    sink = StreamSink(fd, shown_as, size=remote.size, hashing=bool(opts.sha256))
    reporter.start(remote.size, shown_as)
    restarted = False
    try:
        try:
            fetch(session, remote, body, sink, opts, reporter)
            sink.finish()
            mode = "ranges" if _parallel_ok(remote, opts) else "single"
        except RemoteChanged as e:
            sink.seal()
            if sink.written:
                raise RgetError(f"{e}; {sink.written} bytes already went to {shown_as}: cannot start over") from None
            reporter.log(f"{e}; starting over as one stream")
            restarted = True
            sink.close()
            sink = StreamSink(fd, shown_as, size=remote.size, hashing=bool(opts.sha256))
            single(new_session(1), remote, None, sink, opts, reporter)
            sink.finish()
            mode = "single"
    finally:
        reporter.stop()
        sink.close()
    return mode, restarted, sink


def _streamed(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    fd: int,
    dest: Destination,
    opts: Options,
    reporter: Reporter,
    started: float,
) -> Result:
    mode, restarted, sink = _to_stream(session, remote, body, fd, dest.shown, opts, reporter)
    if opts.sha256 and (digest := sink.sha256.hexdigest()) != opts.sha256.lower():
        raise RgetError(
            f"{remote.url}: sha256 mismatch: expected {opts.sha256.lower()}, got {digest} (the {sink.written} bytes"
            f" already went to {dest.shown}: `set -o pipefail` makes a pipeline fail on this exit 1)"
        )
    result = Result(dest.path, sink.written, time.monotonic() - started, mode, restarted)
    speed = sink.written / MIB / max(result.seconds, 1e-9)
    reporter.log(f"wrote {sink.written} bytes to {dest.shown} in {result.seconds:.2f} s ({speed:.1f} MiB/s)")
    return result


def extract(url: str, into: Path, opts: Options, reporter: Reporter | None = None, strip: int = 0) -> Result:
    """Download ``url`` and unpack it into ``into`` as it arrives (see :mod:`rget.extract`); nothing lands in
    ``into`` unless the whole archive unpacked and (with ``--sha256``) the hash matched."""
    from rget.extract import Extraction

    started = time.monotonic()
    reporter = reporter or Reporter()
    if opts.resume:
        raise UsageError("-c cannot resume an extraction: the archive is unpacked as it streams, never kept")
    if opts.executable:
        raise UsageError("-x needs a file output; an archive keeps its own modes")
    session = _session(url, opts, True)
    remote, body = _first(session, url, opts, reporter)
    unpacking = Extraction(into, strip)
    shown_as = f"the extraction into {into}"
    try:
        try:
            mode, restarted, sink = _to_stream(session, remote, body, unpacking.fd, shown_as, opts, reporter)
        except RgetError:
            if unpacking.error is not None:  # a refused member closed the pipe: its reason is the one to tell
                raise unpacking.error from None
            raise
        unpacking.wait()
        if opts.sha256 and (digest := sink.sha256.hexdigest()) != opts.sha256.lower():
            raise RgetError(f"{remote.url}: sha256 mismatch: expected {opts.sha256.lower()}, got {digest}")
        unpacking.finish()
    except BaseException as e:
        unpacking.abandon()
        if isinstance(e, RgetError) and not isinstance(e, UsageError):
            raise RgetError(f"{url}: {e}" if not str(e).startswith(url) else str(e)) from None
        raise
    result = Result(into, sink.written, time.monotonic() - started, mode, restarted)
    reporter.log(f"extracted {unpacking.members} members ({sink.written} bytes) into {into} in {result.seconds:.2f} s")
    return result
