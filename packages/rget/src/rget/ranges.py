"""Fetching: many connections over the ranges of one version of the file, or one plain stream.

Invariants: every byte is handed to the sink once (:class:`rget.blocks.Work` splits ranges under a lock); every
206 carries the Content-Range we asked for and the first answer's validators, or the file changed
(:class:`RemoteChanged`); each connection holds one 64 KiB buffer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rget.blocks import Block, Work
from rget.errors import RemoteChanged, RgetError
from rget.options import Options
from rget.progress import Reporter
from rget.remote import Remote, first_answer, parse_content_range, send, shown
from rget.sinks import FileSink, StreamSink
from rget.wire import (
    CHUNK,
    EXPIRED_STATUS,
    PROGRESS,
    Expired,
    Retryable,
    backoff,
    describe,
    gave_up,
    read_into,
    refused,
    release,
)

if TYPE_CHECKING:
    import requests

Sink = FileSink | StreamSink
STATE_EVERY = 1.0
MEASURE = 1.0
"""Seconds of an answer before its connection's rate counts (slow start is over by then at any common RTT)."""
SLOWER = 4.0
"""A connection this many times slower than the fastest one is replaced..."""
WORTH = 2.0
"""...when what is left of its range would take it longer than this many seconds."""


class Rates:
    """Bytes/s of each connection on an answer older than MEASURE seconds, by its thread's ident; every worker
    writes its own and reads the others', so under a lock (iterating a dict another thread resizes raises)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[int, float] = {}

    def set(self, me: int, rate: float) -> None:
        with self._lock:
            self._rates[me] = rate

    def drop(self, me: int) -> None:
        with self._lock:
            self._rates.pop(me, None)

    def fastest_but(self, me: int) -> float:
        """The fastest rate of the other connections (0.0 when there is none)."""
        with self._lock:
            return max((r for t, r in self._rates.items() if t != me), default=0.0)


class Ranges:
    """Fetches ``work`` over ``connections`` threads into ``sink``; the first answer's open body may start it."""

    def __init__(
        self,
        session: requests.Session,
        remote: Remote,
        opts: Options,
        sink: Sink,
        work: Work,
        reporter: Reporter,
        first: tuple[Block, requests.Response] | None = None,
    ) -> None:
        self.session = session
        self.remote = remote
        self.opts = opts
        self.sink = sink
        self.work = work
        self.reporter = reporter
        self.first = first
        self.url = remote.final_url
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._resolve_lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._rates = Rates()
        self._latency = 0.0
        """The shortest wait seen from a request to its answer's headers (0.0 until one is seen)."""
        self.replaced = 0
        """Connections dropped for being far slower than the others (at most one per connection asked for)."""

    def run(self, checkpoint: Callable[[], None]) -> None:
        """Fetch everything; ``checkpoint`` is called about once a second (saves the resume state).

        On the first error it returns at once: a worker stuck in a read of a silent connection must not hold up
        the failure or the restart (workers stop at their next chunk; see :meth:`alive`).
        """
        count = min(self.opts.connections, max(len(self.work.todo) + (self.first is not None), 1))
        self._workers = [
            threading.Thread(target=self._worker, args=(i == 0,), name=f"rget-{i}", daemon=True) for i in range(count)
        ]
        for w in self._workers:
            w.start()
        size = self.remote.size or 0
        last = time.monotonic()
        try:
            while not self.stop.is_set() and (alive := [w for w in self._workers if w.is_alive()]):
                alive[0].join(0.1)  # a timed join lets Ctrl-C reach the main thread promptly
                self.reporter.update(size - self.work.remaining())
                if time.monotonic() - last >= STATE_EVERY:
                    checkpoint()
                    last = time.monotonic()
        except BaseException:
            self.stop.set()
            self.work.wake()
            raise
        self.reporter.update(size - self.work.remaining())
        if self.error is not None:
            raise self.error
        if self.work.splits:
            self.reporter.log(f"{self.work.splits} ranges split to keep every connection busy")
        if self.replaced:
            self.reporter.log(f"{self.replaced} slow connections replaced")

    def alive(self) -> bool:
        """True while a worker may still write to the sink."""
        return any(w.is_alive() for w in self._workers)

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.stop.set()
        self.work.wake()

    def _worker(self, first: bool) -> None:
        buf = memoryview(bytearray(CHUNK))
        opened = self.first if first else None
        try:
            fresh, rate = False, 0.0  # whether the next request needs a new connection; bytes/s of the last range
            if opened is not None:
                block, resp = opened
                self._seen(resp)
                fresh, rate = True, self._fetch_done(block, buf, resp)  # its answer was open-ended
            while not self.stop.is_set():
                # nothing worth a request now: it may become so if a range stalls, so wait and look again
                taken = self.work.wait_take(self._lead(fresh, rate), max(self._latency, 0.02), self.stop)
                if taken is None:
                    return
                end = taken.end
                rate = self._fetch_done(taken, buf)
                fresh = taken.end != end  # split while it ran: the answer was cut short, its connection closed
        except BaseException as e:
            self._fail(e)

    def _fetch_done(self, block: Block, buf: memoryview, resp: requests.Response | None = None) -> float:
        """:meth:`_fetch` ``block``, then hand it back to the work; the bytes/s this connection got on it."""
        began, before = time.monotonic(), block.pos
        try:
            self._fetch(block, buf, resp)
        finally:
            self.work.done(block)
        return (block.pos - before) / max(time.monotonic() - began, 1e-3)

    def _seen(self, resp: requests.Response) -> None:
        """Note how long ``resp`` took to answer (from sending to the parsed headers: requests' ``elapsed``, or
        the early request's own wait)."""
        took = getattr(resp, "early_elapsed", None) or resp.elapsed.total_seconds()
        if took > 0 and (not self._latency or took < self._latency):
            self._latency = took

    def _lead(self, fresh: bool, rate: float) -> Callable[[Block], int]:
        """For a split now: how far a range's connection gets while a new request waits for its answer (one
        latency, two when the connection must be made first), at the range's own rate, or else at ``rate``."""
        wait = self._latency * (2 if fresh else 1)
        return lambda block: int(wait * (block.rate(time.monotonic()) or rate))

    def _fetch(self, block: Block, buf: memoryview, resp: requests.Response | None = None) -> None:
        import requests

        failures = 0
        while block.left > 0 and not self.stop.is_set():
            url = self.url
            before = block.pos
            try:
                if resp is not None:
                    with resp:
                        self._stream(resp, block, buf)
                    resp = None
                else:
                    self._attempt(url, block, buf)
                continue
            except Retryable as e:
                cause: BaseException = e
            except requests.RequestException as e:
                cause = e
            finally:
                if resp is not None:
                    resp.close()
                    resp = None
            if self.stop.is_set():
                return
            failures = 1 if block.pos - before >= PROGRESS else failures + 1
            where = shown(url, self.remote.url)
            if failures > self.opts.retries:
                raise gave_up(where, cause, failures, self.opts.timeout)
            delay = 0.0 if isinstance(cause, Expired) else backoff(failures)
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
            if_range=remote.if_range,
        )
        self._seen(resp)
        try:
            status = resp.status_code
            where = shown(answered, remote.url)
            if status == 206:
                cr = parse_content_range(resp.headers.get("Content-Range"))
                if cr is None or cr.start != block.pos or cr.total != remote.size:
                    got = resp.headers.get("Content-Range", "no Content-Range")
                    raise RemoteChanged(f"{where}: asked bytes {block.pos}-{block.end}/{remote.size}, got {got}")
                if change := remote.changed(resp.headers):
                    raise RemoteChanged(f"{where}: the file changed on the server ({change})")
                self._stream(resp, block, buf)
                return
            if status in (200, 412):
                raise RemoteChanged(f"{where}: HTTP {status} to a range request (file changed or ranges ignored)")
            if status in EXPIRED_STATUS and url != remote.url:
                self._reresolve(url)
                raise Expired(f"{where}: HTTP {status}, URL re-resolved")
            raise refused(resp, where)
        finally:
            release(resp)

    def _stream(self, resp: requests.Response, block: Block, buf: memoryview) -> None:
        start = block.pos
        began = time.monotonic()
        check = began + MEASURE
        me = threading.get_ident()
        try:
            while block.left > 0 and not self.stop.is_set():
                n = read_into(resp, buf[: min(len(buf), block.left)], self.opts.timeout)
                if not n:
                    if block.pos == start:
                        raise Retryable("connection closed before any data")
                    return  # a short answer: the caller asks again for the rest
                n = self.work.claim(block, n)  # a split may have taken the tail while we read
                if not n:
                    return
                self.sink.write(block.pos, buf[:n], self.stop)
                self.work.advance(block, n)  # only after the write: the resume state never claims bytes not written
                if not block.began:  # its rate counts from its first bytes (an early answer may have waited)
                    block.began, block.since = time.monotonic(), block.pos
                if (now := time.monotonic()) >= check:
                    check = now + 0.25
                    rate = (block.pos - start) / (now - began)
                    self._rates.set(me, rate)
                    if self._too_slow(me, rate, block):
                        return  # the caller closes the answer, and with it the slow connection
        finally:
            block.began = 0.0
            self._rates.drop(me)

    def _too_slow(self, me: int, rate: float, block: Block) -> bool:
        """Drop this connection (its range back to the queue, first in line) when it is SLOWER times slower than
        the fastest and its range would still take it WORTH seconds: a straggler (a congested path, a slow server
        behind a balancer) keeps its slowness for every range it is given, a new connection usually does not.
        Work stealing alone only shrinks what the straggler holds; this replaces it, at most once per connection
        asked for."""
        fastest = self._rates.fastest_but(me)
        if fastest < SLOWER * rate or block.left < WORTH * rate or rate <= 0:
            return False
        with self._lock:
            if self.replaced >= self.opts.connections:
                return False
            self.replaced += 1
        if (rest := self.work.give_back(block)) is not None:
            self.reporter.log(
                f"range {rest.pos}-{rest.end}: {rate / 1048576:.1f} MiB/s, the fastest connection"
                f" {fastest / 1048576:.1f} MiB/s: replacing this connection"
            )
        return True

    def _reresolve(self, used: str) -> None:
        """A signed redirect target expired: ask the original URL again; it must still be the same file."""
        with self._resolve_lock:
            if self.url != used:
                return  # another worker already did
            fresh, body = first_answer(self.session, self.remote.url, self.opts.headers, self.opts.timeout)
            if body is not None:
                body.close()
            if not fresh.ranges or not self.remote.same_version(fresh):
                raise RemoteChanged(f"{self.remote.url}: the file changed during the download")
            self.reporter.log(f"re-resolved {self.remote.url} -> {shown(fresh.final_url, self.remote.url)}")
            self.url = fresh.final_url


def single(
    session: requests.Session,
    remote: Remote,
    body: requests.Response | None,
    sink: Sink,
    opts: Options,
    reporter: Reporter,
) -> int:
    """One plain GET into ``sink`` (``body``: an answer already open, from byte 0). A dropped stream starts over
    while the sink allows it (a file: always; a pipe: only before its first byte)."""
    import requests

    failures = 0
    buf = memoryview(bytearray(CHUNK))
    while True:
        answered = remote.url
        done = 0
        try:
            if body is None:
                body, answered = send(
                    session, remote.url, original=remote.url, headers=opts.headers, timeout=opts.timeout
                )
                if body.status_code != 200:
                    raise refused(body, shown(answered, remote.url))
            if body.status_code == 206:
                expected = remote.size
            else:
                length = body.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
            reporter.restart(expected)
            while n := read_into(body, buf, opts.timeout):
                sink.write(done, buf[:n])
                done += n
                reporter.update(done)
            if expected is not None and done != expected:
                raise Retryable(f"got {done} of {expected} bytes")
            if expected is None and not done and "chunked" not in body.headers.get("Transfer-Encoding", "").lower():
                # http.client takes a connection closed inside the headers for their end: "HTTP/1.1 200 OK" and
                # a hang-up would be an empty file. A real empty file says Content-Length: 0 (or 416 */0).
                raise Retryable("connection closed before any data")
            return done
        except (Retryable, requests.RequestException) as e:
            failures += 1
            where = shown(answered, remote.url)
            if failures > opts.retries:
                raise gave_up(where, e, failures, opts.timeout) from None
            if not sink.restartable():
                raise RgetError(
                    f"{where}: {describe(e, opts.timeout)} after {done} bytes went to {sink.path}"
                    " (a stream cannot start over)"
                ) from None
            reporter.log(f"single stream: {describe(e, opts.timeout)}; retry {failures}/{opts.retries}")
            sink.reset()
            time.sleep(backoff(failures))
        finally:
            if body is not None:
                body.close()
            body = None
