"""dlayer reads images where they live: SOURCE as a path or a reference, the Docker daemon through its Engine API
(a private dockerd of the harness), compressed archives and pipes: the same image gives the same report and JSON
every way."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.dlayer.archives import TAG, archives
from tests.system.docker_fixtures import Dockerd, free_port, require, run, scratch_dir, stop_process

__all__ = ["archives"]
pytestmark = pytest.mark.system

DLAYER = Path(sys.executable).with_name("dlayer")


def dlayer(
    *args: str, env: Mapping[str, str] | None = None, stdin: Path | None = None
) -> subprocess.CompletedProcess[str]:
    with open(stdin or os.devnull, "rb") as f:
        return subprocess.run(
            [DLAYER, *args], stdin=f, capture_output=True, text=True, env={**os.environ, **(env or {})}
        )


@pytest.fixture(scope="module")
def daemon(dockerd: Dockerd, archives: dict[str, Path]) -> dict[str, str]:
    """The environment of a client of the harness's daemon, which holds the fixture image."""
    dockerd.load(archives["docker-save"])
    return {"DOCKER_HOST": dockerd.host}


def test_the_daemon_and_the_archive_give_the_same_report_and_json(
    daemon: dict[str, str], archives: dict[str, Path], tmp_path: Path
) -> None:
    archive = archives["docker-save"]
    gz = tmp_path / "image.tar.gz"
    gz.write_bytes(gzip.compress(archive.read_bytes(), 1))
    ways = {
        "positional": dlayer(str(archive), "-j", "-"),
        "-f": dlayer("-f", str(archive), "-j", "-"),
        "docker-archive://": dlayer(f"docker-archive://{archive}", "-j", "-"),
        "gzip file": dlayer(str(gz), "-j", "-"),
        "gzip stdin": dlayer("-j", "-", stdin=gz),
        "daemon (auto)": dlayer(TAG, "-j", "-", env=daemon),
        "docker://": dlayer(f"docker://{TAG}", "-j", "-", env=daemon),
        "--source docker": dlayer("--source", "docker", TAG, "-j", "-", env=daemon),
    }
    for way, proc in ways.items():
        assert proc.returncode == 0, (way, proc.stderr)
    assert len({proc.stdout for proc in ways.values()}) == 1, {w: p.stdout[:200] for w, p in ways.items()}
    said = f"dlayer: reading {TAG} from the Docker daemon at {daemon['DOCKER_HOST']}\n"
    assert ways["daemon (auto)"].stderr == ways["docker://"].stderr == said
    assert ways["positional"].stderr == ""  # a path says itself where it is read from
    text_archive, text_daemon = dlayer(str(archive)), dlayer(TAG, "-q", env=daemon)
    assert text_daemon.returncode == 0 and text_daemon.stderr == ""  # -q: not a word on stderr
    assert text_daemon.stdout == text_archive.stdout


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def without_ids(text: str) -> Any:
    """The JSON with each layer's ``id`` (the archive member that held it) dropped."""
    doc = json.loads(text)
    for layer in doc["layer"]:
        layer.pop("id")
    return doc


def one_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_daemon_errors_are_one_line(daemon: dict[str, str], tmp_path: Path) -> None:
    host = daemon["DOCKER_HOST"]
    one_line(
        dlayer("docker://localhost/nope:1", env=daemon), 1, f"localhost/nope:1 is not in the Docker daemon at {host}"
    )
    gone = f"unix://{tmp_path}/docker.sock"  # a daemon that stopped removed its socket
    one_line(dlayer("docker://app:1", env={"DOCKER_HOST": gone}), 1, f"no Docker daemon at {gone}")
    with socket.socket(socket.AF_UNIX) as stale:  # a socket left behind by a daemon that died: nobody listens
        stale.bind(str(tmp_path / "stale.sock"))
        refused = f"unix://{tmp_path}/stale.sock"
        one_line(dlayer("docker://app:1", env={"DOCKER_HOST": refused}), 1, f"no Docker daemon at {refused}")
    one_line(
        dlayer(f"docker://{TAG}", "--platform", "linux/arm64", env=daemon),
        1,
        f"{TAG} in the Docker daemon at {host} is linux/amd64, not linux/arm64",
    )
    tcp = f"tcp://127.0.0.1:{free_port()}"
    one_line(dlayer("docker://app:1", env={"DOCKER_HOST": tcp}), 1, f"no Docker daemon at {tcp}", "refused")
    one_line(dlayer("--source", "docker", "x", env={"DOCKER_HOST": "ssh://host"}), 2, "expected unix:///path or tcp://")
    one_line(dlayer("docker://x", "--source", "podman"), 2, "prefix says docker, --source says podman")
    one_line(dlayer(str(tmp_path / "a.tar"), "-f", str(tmp_path / "b.tar")), 2, "give one")


@pytest.fixture(scope="module")
def podman(archives: dict[str, Path]) -> Iterator[dict[str, str]]:
    """podman on a private store (vfs, chosen by CONTAINERS_STORAGE_CONF) holding the fixture image, and its API
    service on a private socket: the environment of a client of it (without CONTAINER_HOST: `podman save`)."""
    binary = require("podman")["podman"]
    root = scratch_dir("podman")
    conf = root / "storage.conf"
    conf.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/root"\nrunroot = "{root}/runroot"\n')
    env = {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf), "XDG_RUNTIME_DIR": str(root / "xdg")}
    run([binary, "load", "-q", "-i", str(archives["docker-save"])], env=env)
    sock = root / "podman.sock"
    with (root / "service.log").open("wb") as log:
        service = subprocess.Popen(
            [binary, "system", "service", "--time=0", f"unix://{sock}"], env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert service.poll() is None and time.monotonic() < deadline, (root / "service.log").read_text()
            time.sleep(0.05)
        yield {k: env[k] for k in ("CONTAINERS_STORAGE_CONF", "XDG_RUNTIME_DIR")} | {"SOCK": f"unix://{sock}"}
    finally:
        stop_process(service)
        run([binary, "rmi", "--all", "--force"], env=env, check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_podman_by_its_socket_and_by_podman_save(podman: dict[str, str], archives: dict[str, Path]) -> None:
    archive = without_ids(ok(dlayer(str(archives["docker-save"]), "-j", "-")))
    env = {k: v for k, v in podman.items() if k != "SOCK"}
    saved = dlayer(f"podman://{TAG}", "-j", "-", env=env)
    assert without_ids(ok(saved)) == archive  # podman names layer members by diff id, docker by v1 id
    assert saved.stderr == f"dlayer: reading {TAG} from podman save\n"
    served = dlayer("--source", "podman", TAG, "-j", "-", env={**env, "CONTAINER_HOST": podman["SOCK"]})
    assert ok(served) == ok(saved)
    assert served.stderr == f"dlayer: reading {TAG} from the podman service at {podman['SOCK']}\n"
    one_line(dlayer("podman://localhost/nope:1", env=env), 1, "localhost/nope:1 is not in podman's storage")
