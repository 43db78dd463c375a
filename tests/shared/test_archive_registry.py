"""dockit.archive.sources.registry's decisions that need no server: references as docker normalizes them, which
hosts may be spoken to in plain HTTP, the host's default platform, credentials as docker login stores them, and
the docstring examples of every source module."""

from __future__ import annotations

import base64
import doctest
import json
from pathlib import Path

import pytest

from dockit.archive import sources
from dockit.archive.sources import engine, registry, registry_auth
from dockit.archive.sources.registry import Client, choose_manifest, is_loopback, parse_target
from dockit.errors import ArchiveError, UsageError


def test_docstring_examples_hold() -> None:
    for module in (sources, engine, registry, registry_auth):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_references_are_normalized_as_docker_does() -> None:
    assert str(parse_target("nginx:1.27")) == "docker.io/library/nginx:1.27"
    assert str(parse_target("team/app")) == "docker.io/team/app:latest"
    assert str(parse_target("ghcr.io/o/app@sha256:" + "a" * 64)) == "ghcr.io/o/app@sha256:" + "a" * 64
    assert parse_target("localhost:5000/x:1").host == "localhost:5000"
    with pytest.raises(UsageError, match="must be lower case"):
        parse_target("Team/App")


def test_plain_http_only_for_loopback_or_insecure() -> None:
    assert is_loopback("127.0.0.2:5000") and is_loopback("[::1]:5000") and is_loopback("localhost:80")
    assert not is_loopback("registry.example:5000") and not is_loopback("10.0.0.1")
    strict = Client(parse_target("registry.example:5000/a:1"), insecure=False, pool=1)
    assert strict.lenient is False and strict.verify is True
    assert Client(parse_target("registry.example:5000/a:1"), insecure=True, pool=1).lenient is True
    assert Client(parse_target("127.0.0.1:5000/a:1"), insecure=False, pool=1).lenient is True
    assert Client(parse_target("nginx"), insecure=False, pool=1).api_host == "registry-1.docker.io"


def test_an_index_without_the_platform_lists_those_it_has() -> None:
    index = {
        "manifests": [
            {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:2", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"digest": "sha256:3", "platform": {"os": "unknown", "architecture": "unknown"}},  # an attestation
        ]
    }
    target = parse_target("127.0.0.1:5000/a:1")
    assert choose_manifest(index, "linux/arm/v7", target)["digest"] == "sha256:2"
    assert choose_manifest(index, "amd64", target)["digest"] == "sha256:1"
    with pytest.raises(UsageError, match=r"has no linux/arm64 image; it has: linux/amd64, linux/arm/v7 \(choose"):
        choose_manifest(index, "linux/arm64", target)


def test_credentials_as_docker_login_stores_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert registry_auth.find_credentials("r.example") is None  # no config.json at all
    auth = base64.b64encode(b"bob:pw:with:colons").decode()
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": auth},
            "http://r.example/v2/": {"username": "u", "password": "p"},
        }
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    hub = registry_auth.find_credentials("docker.io")
    assert hub is not None and (hub.username, hub.password) == ("bob", "pw:with:colons")
    other = registry_auth.find_credentials("r.example")
    assert other is not None and (other.username, other.password, other.origin) == (
        "u",
        "p",
        str(tmp_path / "config.json"),
    )
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ArchiveError, match="cannot read credentials"):
        registry_auth.find_credentials("r.example")
