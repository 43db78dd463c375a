"""Install the way users will: each distribution from dist/ into a fresh venv with pip, the index serving only the
third-party dependencies, then run the installed console script for real."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from release import version
from tests.release.conftest import ROOT, TOOLS, Venv, wheel
from tests.system.http_fixtures import Nginx

pytestmark = pytest.mark.release
OURS = {version.LIBRARY, "rget", *TOOLS}

# One real run of each Dockerfile tool on the examples; the installed script must print what the workspace's prints.
RUNS = {
    "targd": (["-t", "release", "examples/targd/Dockerfile"], ROOT),
    "minid": (["examples/minid/Dockerfile"], ROOT),
    "castage": (["-i", "registry.example.com/acme/app", "-f", "examples/castage/Dockerfile"], ROOT),
    "dlayer": (["-f", "examples/dlayer/app.tar"], ROOT),
    "dignore": (["svc/api"], ROOT / "examples" / "dignore" / "monorepo"),
}


def test_pip_install_rget_brings_requests_and_typer_and_nothing_of_ours(
    tmp_path: Path, dist: Path, nginx: Nginx
) -> None:
    venv = Venv(tmp_path / "venv")
    venv.pip_install(wheel(dist, "rget"), "--find-links", dist)
    installed = venv.installed()
    assert installed["rget"] == version.root_version()
    assert {"requests", "typer"} <= installed.keys()
    assert not installed.keys() & (OURS - {"rget"}), "rget must stand alone"
    assert not installed.keys() & {"dockerfile", "pydantic", "isal", "zstandard"}
    # and it downloads, over several connections, from a real web server
    payload = os.urandom(3 << 20)
    (nginx.root / "release-asset.bin").write_bytes(payload)
    out = tmp_path / "asset.bin"
    done = venv.run(
        venv.bin / "rget",
        "-q",
        "-P",
        "4",
        "--sha256",
        hashlib.sha256(payload).hexdigest(),
        "-o",
        out,
        nginx.url("plain", "release-asset.bin"),
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == payload
    sh = venv.run(venv.bin / "rget", "--print-sh")
    assert sh.returncode == 0 and sh.stdout.startswith("#!/bin/sh")


@pytest.mark.parametrize("tool", TOOLS)
def test_each_dockerfile_tool_installs_alone_with_the_library_at_its_release(
    tmp_path: Path, dist: Path, tool: str
) -> None:
    # pipx-style: one isolated venv per tool, holding that tool and what it needs
    venv = Venv(tmp_path / "venv")
    venv.pip_install(wheel(dist, tool), "--find-links", dist)
    installed = venv.installed()
    assert installed[tool] == version.root_version()
    assert installed[version.LIBRARY] == version.root_version()
    assert not installed.keys() & (OURS - {tool, version.LIBRARY})
    assert "pydantic" not in installed
    if tool == "dlayer":  # the archive extra: fast gzip and zstd layers
        assert {"isal", "zstandard"} <= installed.keys()
    shown = venv.run(venv.bin / tool, "--version")
    assert shown.returncode == 0 and shown.stdout.split() == [tool, version.root_version()], shown.stderr
    args, cwd = RUNS[tool]
    got = venv.run(venv.bin / tool, *args, cwd=cwd)
    want = subprocess.run([ROOT / ".venv" / "bin" / tool, *args], capture_output=True, text=True, cwd=cwd)
    assert got.returncode == want.returncode == 0, got.stderr
    assert got.stdout == want.stdout and got.stdout
