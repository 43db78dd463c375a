"""A missing binary: a skip naming the Debian package where we cannot install it, a failure where make test can."""

from __future__ import annotations

import shutil

import pytest

from tests.system import docker_fixtures
from tests.system.docker_fixtures import DEBIAN_PACKAGE, can_install_debs, require


def _pretend_missing(monkeypatch: pytest.MonkeyPatch, *tools: str) -> None:
    real = shutil.which

    def which(cmd: str, mode: int = 0, path: str | None = None) -> str | None:
        return None if cmd in tools else real(cmd, path=path)

    monkeypatch.setattr(shutil, "which", which)


def test_missing_binary_skips_naming_the_package_when_not_root_on_debian(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "buildah", "docker-registry")
    monkeypatch.setattr(docker_fixtures, "can_install_debs", lambda: False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install buildah docker-registry$"):
        require("buildah", "docker-registry", "tar")


def test_missing_binary_fails_when_make_test_could_have_installed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "dockerd")
    monkeypatch.setattr(docker_fixtures, "can_install_debs", lambda: True)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install docker\.io .*debian-packages\.txt"):
        require("dockerd")


def test_this_machine_has_every_harness_binary() -> None:
    """On the CI machine (root, Debian) nothing may skip: every binary the harness runs is installed."""
    if not can_install_debs():
        pytest.skip("not root on Debian: the harness's binaries are optional here")
    paths = require(*DEBIAN_PACKAGE)
    assert all(paths.values())
