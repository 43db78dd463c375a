"""Run an installed console script on a hostile input and measure it: exit code, output, CPU seconds, peak RSS.

CPU time (user + system) is what the limits promise: on a loaded machine wall time measures the other processes.
Both figures come from GNU time, which forks the tool: Linux carries a process's peak RSS across exec, so a tool
started straight from a big process (a fuzz worker) would report that process's peak as its own. Every run is also
bounded (a wall-clock timeout and an address-space limit through prlimit) so a regression fails the test instead of
hanging or swapping the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
CPU_LIMIT = 2.0  # seconds of CPU per run: the "under 2 s"
RSS_LIMIT = 200 * 1024 * 1024  # bytes: "under 200 MB"
ADDRESS_SPACE = 4 * 1024**3  # the Go runtime reserves address space it never touches: bound, not measure, with it
TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    code: int
    stdout: bytes
    stderr: str
    cpu: float  # seconds
    rss: int  # bytes

    def check_one_line_error(self, *codes: int) -> str:
        """Assert the run failed the way bad input must, within the limits; the error line, without its newline."""
        assert self.code in (codes or (1,)), (self.code, self.stderr[-2000:])
        assert self.stderr.endswith("\n") and self.stderr.count("\n") == 1, self.stderr[-2000:]
        assert "Traceback" not in self.stderr
        assert self.stdout == b""
        self.check_limits()
        return self.stderr[:-1]

    def check_limits(self) -> None:
        assert self.cpu < CPU_LIMIT, f"{self.cpu:.2f} s of CPU"
        assert self.rss < RSS_LIMIT, f"{self.rss / 2**20:.0f} MiB peak RSS"


def run(tool: str, *args: str | os.PathLike[str], stdin: bytes | int | None = None, cwd: Path | None = None) -> Run:
    """``tool args`` with ``stdin`` (bytes, or an open file descriptor such as a pipe from ``yes``)."""
    figures = tempfile.NamedTemporaryFile(prefix="hostile-time-", suffix=".txt", delete=False)  # noqa: SIM115
    figures.close()
    # time forks prlimit, which sets the limit and execs the tool: time's figures are the tool's own
    command = ["/usr/bin/time", "-o", figures.name, "-f", "%U %S %M", "prlimit", f"--as={ADDRESS_SPACE}", "--"]
    command += [str(BIN / tool), *map(str, args)]
    feed = subprocess.PIPE if isinstance(stdin, bytes) else stdin if stdin is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        command, stdin=feed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=_env(), start_new_session=True
    )
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        chunks[name] = stream.read()

    def feed_input() -> None:
        assert proc.stdin is not None and isinstance(stdin, bytes)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(stdin)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()

    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    if isinstance(stdin, bytes):
        threads.append(threading.Thread(target=feed_input))
    for t in threads:
        t.start()
    killed = threading.Event()

    def kill() -> None:  # time and the tool under it: the session started for them
        killed.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(TIMEOUT, kill)
    timer.start()
    try:
        proc.wait()
    finally:
        timer.cancel()
    for t in threads:
        t.join()
    assert not killed.is_set(), f"{tool} still running after {TIMEOUT} s"
    text = Path(figures.name).read_text()
    os.unlink(figures.name)
    user, system, rss_kb = text.split()[-3:]  # after "Command exited with non-zero status N", if any
    return Run(
        proc.returncode,
        chunks["out"],
        chunks["err"].decode(errors="replace"),
        float(user) + float(system),
        int(rss_kb) * 1024,
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKIT_DEBUG"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Ahead(Generic[T]):
    """Runs started before the tests that check them, in worker threads (one per core), while other tests go on.

    Each run's CPU time and peak RSS are its own (GNU time measures the process), so running them beside other work
    changes no figure a test checks, only the wall time the whole takes. ``start(name, **params)`` makes the run of
    test ``name`` with ``params`` (its parametrize values) in a directory of its own (:meth:`directory`). The
    session fixture of tests/hostile/conftest.py starts every collected test's run as the first hostile test
    begins; :meth:`result` waits for one, starting it then if it was not started (a test run alone).
    """

    def __init__(self, start: Callable[..., T], workers: int | None = None) -> None:
        self.make = start
        self.pool = ThreadPoolExecutor(workers or os.cpu_count() or 2, thread_name_prefix="ahead")
        self.runs: dict[tuple[str, tuple[tuple[str, Any], ...]], Future[T]] = {}
        self.root: Path | None = None
        """Where the runs' directories go (the session's tmp_path_factory; the system's temp dir if unset)."""

    def directory(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="run-", dir=self.root))

    def start(self, name: str, **params: Any) -> None:
        key = (name, tuple(sorted(params.items())))
        if key not in self.runs:
            self.runs[key] = self.pool.submit(self.make, name, **params)

    def start_all(self, items: Iterable[Any], module: object, names: Iterable[str]) -> None:
        """Start the runs of the collected tests (pytest items) of ``module`` whose function is one of ``names``."""
        wanted = set(names)
        for item in items:
            if getattr(item, "module", None) is module and getattr(item, "originalname", None) in wanted:
                self.start(item.originalname, **item.callspec.params)

    def result(self, name: str, **params: Any) -> T:
        self.start(name, **params)
        return self.runs[(name, tuple(sorted(params.items())))].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
