"""Fixtures for rget's tests: the misbehaving servers, one pair per session."""

from __future__ import annotations

import compileall
from collections.abc import Iterator
from pathlib import Path

import pytest

import rget
from tests.rget.servers import Site


@pytest.fixture(scope="session", autouse=True)
def _bytecode() -> None:
    """rget's modules byte-compiled once, as ``pip install`` leaves them: this machine sets PYTHONDONTWRITEBYTECODE,
    so every rget process the tests start would otherwise compile them again (~50 ms each)."""
    compileall.compile_dir(Path(rget.__file__).parent, quiet=1)


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
