"""Fixtures for rget's tests: the misbehaving servers, one pair per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rget.servers import Site


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
