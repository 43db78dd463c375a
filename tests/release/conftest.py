"""Fixtures for the release checks (`make release-check`): the built distributions in dist/ and fresh venvs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from release import version

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
TOOLS = ["targd", "minid", "castage", "dlayer", "dignore"]


def dist_name(project: str) -> str:
    """The file-name form of a distribution name (PEP 427: `better-image-dockit` -> `better_image_dockit`)."""
    return project.replace("-", "_")


@pytest.fixture(scope="session")
def dist() -> Path:
    """dist/ holding a wheel and an sdist of each of the seven at the workspace's version (`make dist` makes it)."""
    v = version.root_version()
    expected = {
        f"{dist_name(p)}-{v}{ext}"
        for p in [version.LIBRARY, "rget", *TOOLS]
        for ext in ("-py3-none-any.whl", ".tar.gz")
    }
    have = {p.name for p in DIST.glob("*")} if DIST.is_dir() else set()
    if missing := sorted(expected - have):
        pytest.fail(f"dist/ lacks {', '.join(missing)}: run `make dist` (make release-check does)", pytrace=False)
    return DIST


def wheel(dist: Path, project: str) -> Path:
    (found,) = dist.glob(f"{dist_name(project)}-{version.root_version()}-*.whl")
    return found


class Venv:
    """A fresh virtual environment with pip, as a user makes one (`python -m venv`)."""

    def __init__(self, path: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        self.path = path
        self.bin = path / "bin"

    def pip_install(self, *args: str | Path) -> None:
        """`pip install` with the index for third-party dependencies and dist/ for ours."""
        subprocess.run(
            [self.bin / "pip", "install", "--quiet", "--disable-pip-version-check", *map(str, args)],
            check=True,
            capture_output=True,
            text=True,
        )

    def installed(self) -> dict[str, str]:
        """Distribution name (normalised, lower case) -> version, as pip lists them (pip itself left out)."""
        out = subprocess.run(
            [self.bin / "pip", "list", "--format=freeze", "--disable-pip-version-check"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pairs = (line.split("==") for line in out.splitlines() if "==" in line)
        return {name.lower().replace("_", "-"): v for name, v in pairs if name.lower() not in {"pip", "setuptools"}}

    def site_packages_bytes(self) -> int:
        (site,) = self.path.glob("lib/python*/site-packages")
        return sum(
            p.stat().st_size
            for p in site.rglob("*")
            if p.is_file() and p.parent.name != "__pycache__" and not p.is_relative_to(site / "pip")
        )

    def run(
        self, *args: str | Path, input: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], input=input, capture_output=True, text=True, cwd=cwd)
