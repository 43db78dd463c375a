"""A userland network shaper: a TCP proxy on 127.0.0.1 with latency, a per-connection bandwidth cap and stragglers.

This kernel has no netem, so benchmarks and tests that need a real network's shape go through this proxy:

- latency: every chunk in either direction is delivered ``rtt / 2`` after it arrived (pipelined: latency does not
  cap throughput), so a request's first byte comes one RTT after it was sent, plus the connect's own RTT/2 each way
- a cap per connection (token bucket, bytes/s), server to client
- stragglers: every ``straggle``-th connection (1 in N) gets ``fraction`` of the cap

Run as ``python -m tests.system.shaper --upstream PORT --rtt 0.04 --rate 8m --straggle 4 --fraction 0.125``: it
prints its own port on stdout, then serves until stdin closes or it gets SIGTERM (so a killed parent leaves no
proxy behind). :func:`start_shaper` in ``tests/system/web_fixtures.py`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time

CHUNK = 64 * 1024


def parse_rate(text: str) -> float:
    """``8m`` -> 8 MiB/s, ``512k``, ``1000`` (bytes/s); ``0`` means uncapped.

    >>> parse_rate("8m"), parse_rate("512k"), parse_rate("0")
    (8388608.0, 524288.0, 0.0)
    """
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower()
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


class Pipe:
    """One direction of one connection: read, hold for the one-way delay, pace to the cap, write."""

    def __init__(self, delay: float, rate: float) -> None:
        self.delay = delay
        self.rate = rate
        self.queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(maxsize=64)

    async def pump(
        self, reader: asyncio.StreamReader, source: asyncio.StreamWriter, writer: asyncio.StreamWriter
    ) -> None:
        """From ``reader`` to ``writer``; when the writing side fails (the client hung up mid-answer), ``source``
        is closed too, so that the reading side ends instead of waiting on a full queue."""
        reading = asyncio.ensure_future(self._read(reader))
        try:
            await self._write(writer)
        finally:
            with contextlib.suppress(Exception):
                source.close()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(CHUNK):
                await self.queue.put((time.monotonic() + self.delay, data))
        except (ConnectionError, OSError):
            pass
        await self.queue.put(None)  # not when cancelled: then nobody is left to read it

    async def _write(self, writer: asyncio.StreamWriter) -> None:
        start = time.monotonic()
        sent = 0
        try:
            while (item := await self.queue.get()) is not None:
                due, data = item
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                if self.rate:
                    # paced over the connection's life from its first byte: the cap on average, never above it
                    if sent == 0:
                        start = time.monotonic()
                    ahead = start + (sent + len(data)) / self.rate - time.monotonic()
                    if ahead > 0:
                        await asyncio.sleep(ahead)
                writer.write(data)
                await writer.drain()
                sent += len(data)
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


class Shaper:
    """The proxy: ``upstream`` port on 127.0.0.1, shaped as the options say."""

    def __init__(self, upstream: int, rtt: float, rate: float, straggle: int, fraction: float) -> None:
        self.upstream = upstream
        self.rtt = rtt
        self.rate = rate
        self.straggle = straggle
        self.fraction = fraction
        self.counter = itertools.count(1)
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        n = next(self.counter)
        slow = self.straggle > 0 and n % self.straggle == 0
        rate = self.rate * (self.fraction if slow else 1.0)
        try:
            await asyncio.sleep(self.rtt / 2)  # the SYN's way there (the SYN-ACK's way back is the first chunk's)
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_w.close()
            return
        for w in (client_w, up_w):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(6, 1, 1)  # TCP_NODELAY: our pacing, not Nagle's
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)  # asyncio holds tasks weakly: a pending one must not be collected mid-transfer
        try:
            await asyncio.gather(
                Pipe(self.rtt / 2, 0).pump(client_r, client_w, up_w),
                Pipe(self.rtt / 2, rate).pump(up_r, up_w, client_w),
                return_exceptions=True,
            )
        finally:
            if task is not None:
                self.tasks.discard(task)


async def serve(args: argparse.Namespace) -> None:
    shaper = Shaper(args.upstream, args.rtt, parse_rate(args.rate), args.straggle, args.fraction)
    server = await asyncio.start_server(shaper.handle, "127.0.0.1", args.port, backlog=256)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def watch() -> None:
        sys.stdin.buffer.read()  # returns when the parent closes our stdin or dies
        loop.call_soon_threadsafe(stdin_closed.set_result, None)

    loop.run_in_executor(None, watch)
    async with server:
        await stdin_closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--upstream", type=int, required=True, help="port on 127.0.0.1 to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free one)")
    parser.add_argument("--rtt", type=float, default=0.0, help="round-trip time added, seconds")
    parser.add_argument("--rate", default="0", help="cap per connection, e.g. 8m (MiB/s), 512k; 0: none")
    parser.add_argument("--straggle", type=int, default=0, help="every N-th connection is a straggler (0: none)")
    parser.add_argument("--fraction", type=float, default=0.1, help="a straggler's share of the cap")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
