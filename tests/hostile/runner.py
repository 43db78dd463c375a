"""Run an installed console script on a hostile input and measure it: exit code, output, CPU seconds, peak RSS.

CPU time (user + system, from wait4) is what the limits promise: on a loaded machine wall time measures the other
processes. Every run is also bounded (a wall-clock timeout and an address-space limit through prlimit) so a
regression fails the test instead of hanging or swapping the machine.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
    # prlimit sets the limit and execs the tool: same process, so wait4's figures are the tool's own
    command = ["prlimit", f"--as={ADDRESS_SPACE}", "--", str(BIN / tool), *map(str, args)]
    feed = subprocess.PIPE if isinstance(stdin, bytes) else stdin if stdin is not None else subprocess.DEVNULL
    proc = subprocess.Popen(command, stdin=feed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=_env())
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

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(TIMEOUT, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    for t in threads:
        t.join()
    assert not killed.is_set(), f"{tool} still running after {TIMEOUT} s"
    return Run(
        proc.returncode,
        chunks["out"],
        chunks["err"].decode(errors="replace"),
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss * 1024,
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKIT_DEBUG"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
