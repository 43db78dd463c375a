"""Run the real rget console script and rget.sh (under busybox) as the tests' subprocesses."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

RGET = Path(sys.executable).parent / "rget"
RGET_SH = Path(__file__).resolve().parents[2] / "packages" / "rget" / "rget.sh"


def interruptible() -> None:
    """Give a child SIGINT's default action, as a terminal's foreground job has it: a test started in the
    background without job control inherits SIGINT ignored (POSIX shells do that), and an ignored SIGINT stays
    ignored through exec, so a Ctrl-C test would see the download finish instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def rget(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed ``rget`` console script."""
    return subprocess.run([str(RGET), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def rget_sh(busybox: Path, *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run rget.sh with busybox's sh and nothing but busybox applets on PATH (as in an alpine image)."""
    return subprocess.run(
        [str(busybox / "sh"), str(RGET_SH), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": str(busybox)},
    )
