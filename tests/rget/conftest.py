"""Fixtures for rget's tests: the misbehaving servers (one pair per session) and a runner for the real CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rget.servers import Site

RGET = Path(sys.executable).parent / "rget"
RGET_SH = Path(__file__).resolve().parents[2] / "packages" / "rget" / "rget.sh"


@pytest.fixture(scope="session")
def other_site() -> Iterator[Site]:
    """A second server (another port: another host for rget) that records what it was sent."""
    site = Site().start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def site(other_site: Site) -> Iterator[Site]:
    """The misbehaving server; tests put their own file names in ``site.files`` (counters are per name)."""
    s = Site(other=other_site).start()
    yield s
    s.stop()


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
