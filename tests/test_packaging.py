"""Each tool installs as its own distribution, as a user would install it, with nothing of the workspace behind it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ["targd", "minid", "castage", "dlayer", "dignore"]
pytestmark = pytest.mark.system


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is missing: `make install` installs it (python3 -m pip install uv)")
    return uv


def _venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([_uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    return venv


def _install(venv: Path, *paths: Path) -> set[str]:
    # --no-sources: resolve `dockit` by name as pip would, not through the workspace's uv sources
    python = str(venv / "bin" / "python")
    subprocess.run(
        [_uv(), "pip", "install", "-q", "--no-sources", "--python", python, *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    )
    listed = subprocess.run([_uv(), "pip", "list", "--python", python], check=True, capture_output=True, text=True)
    return {line.split()[0].lower() for line in listed.stdout.splitlines()[2:]}


def test_rget_installs_alone_without_dockit(tmp_path: Path) -> None:
    venv = _venv(tmp_path)
    installed = _install(venv, ROOT / "packages" / "rget")
    assert "rget" in installed
    assert not installed & {"better-image-dockit", "dockerfile", "pydantic"}
    out = subprocess.run([venv / "bin" / "rget", "--version"], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("rget ")
    script = subprocess.run([venv / "bin" / "rget", "--print-sh"], check=True, capture_output=True, text=True)
    assert script.stdout.startswith("#!/bin/sh")


def test_every_dockit_tool_installs_and_runs(tmp_path: Path) -> None:
    venv = _venv(tmp_path)
    installed = _install(venv, ROOT / "shared", *(ROOT / "packages" / tool for tool in TOOLS))
    assert {"better-image-dockit", "dockerfile", "isal", "zstandard", *TOOLS} <= installed
    assert "pydantic" not in installed
    for tool in TOOLS:
        out = subprocess.run([venv / "bin" / tool, "--version"], check=True, capture_output=True, text=True)
        assert out.stdout.split()[0] == tool
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM alpine AS a\nRUN echo a\nFROM alpine AS b\nRUN echo b\n")
    out = subprocess.run(
        [venv / "bin" / "targd", "-t", "a", str(dockerfile)], check=True, capture_output=True, text=True
    )
    assert out.stdout == "FROM alpine AS a\nRUN echo a\n"
