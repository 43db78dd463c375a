"""The design card's first use, proven as written: `RUN pip install rget && rget ...` in a real docker build on a
Debian base with python3, downloading from a real web server; and `rget.sh` in the busybox image with busybox alone.

The daemon is the harness's (classic builder); the build reaches the harness nginx on 127.0.0.1 through
`--network host`. pip installs from the wheels directory only (`--no-index`): rget's wheel from dist/ and its
third-party dependencies, downloaded on the host first, as a build image without network access to an index would.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.release.conftest import ROOT, Venv, wheel
from tests.system.docker_fixtures import CACHE, Dockerd, locked, require
from tests.system.http_fixtures import Nginx

pytestmark = pytest.mark.release
SUITE = "bookworm"
PACKAGES = "python3,python3-venv"
BASE = "localhost/debian-python:release"


def debian_python_rootfs() -> Path:
    """A debootstrap minbase root of Debian SUITE with PACKAGES, as a tar, made once per machine under .cache/."""
    recipe = hashlib.sha256(f"{SUITE} minbase {PACKAGES}".encode()).hexdigest()[:12]
    out = CACHE / "release-base" / f"debian-python-{recipe}.tar"
    with locked(out.parent / ".lock"):
        if out.exists():
            return out
        debootstrap = require("debootstrap")["debootstrap"]
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            root = Path(tmp) / "root"
            log = Path(tmp) / "debootstrap.log"
            with log.open("wb") as f:
                done = subprocess.run(
                    [debootstrap, "--variant=minbase", f"--include={PACKAGES}", SUITE, str(root)],
                    stdout=f,
                    stderr=subprocess.STDOUT,
                )
            if done.returncode != 0:
                pytest.fail(f"debootstrap failed:\n{log.read_text(errors='replace')[-3000:]}", pytrace=False)
            partial = Path(tmp) / "rootfs.tar"
            subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], check=True)
            partial.rename(out)
    return out


@pytest.fixture(scope="module")
def debian_python(dockerd: Dockerd) -> str:
    """The Debian + python3 base image in the harness daemon."""
    dockerd.docker("import", "--change", 'CMD ["bash"]', debian_python_rootfs(), BASE)
    return BASE


def asset(nginx: Nginx, size: int) -> tuple[str, bytes]:
    payload = os.urandom(size)
    name = f"release-{hashlib.sha256(payload).hexdigest()[:8]}.bin"
    (nginx.root / name).write_bytes(payload)
    return nginx.url("plain", name), payload


def build(dockerd: Dockerd, context: Path, tag: str, **args: str) -> None:
    flags = [f"--build-arg={k}={v}" for k, v in args.items()]
    dockerd.docker("build", "--network", "host", "-q", "-t", tag, *flags, context)


def file_in(dockerd: Dockerd, image: str, path: str) -> str | None:
    """The sha256 of ``path`` in the image's final filesystem, or None when it is not there."""
    files = dockerd.export(image).files
    entry = files.get(path, files.get(path.lstrip("/")))
    return entry.sha256 if entry is not None else None


@pytest.fixture(scope="module")
def rget_image(
    tmp_path_factory: pytest.TempPathFactory, dist: Path, dockerd: Dockerd, nginx: Nginx, debian_python: str
) -> tuple[str, str]:
    """The build image of the design card: `RUN pip install ... rget && rget ...` on the Debian base; the tag and
    the sha256 of the asset its build downloaded."""
    url, payload = asset(nginx, 5 << 20)
    context = tmp_path_factory.mktemp("rget-image")
    wheels = context / "wheels"
    wheels.mkdir(parents=True)
    shutil.copy(wheel(dist, "rget"), wheels)
    # rget's third-party dependencies as wheels for the image's Python (Debian bookworm's CPython 3.11 on this
    # machine's architecture), whatever Python runs the tests
    downloader = Venv(context.parent / "pip-venv")  # the workspace's own venv is uv's, without pip
    arch = platform.machine()
    targets = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    for tag in ("manylinux_2_28", "manylinux_2_17", "manylinux2014"):
        targets += ["--platform", f"{tag}_{arch}"]
    rget_wheel = next(wheels.glob("rget-*.whl"))
    fetch = [
        "download",
        "--quiet",
        "--only-binary=:all:",
        *targets,
        "--dest",
        wheels,
        "--find-links",
        wheels,
        rget_wheel,
    ]
    downloaded = downloader.run(downloader.bin / "pip", "--disable-pip-version-check", *fetch)
    assert downloaded.returncode == 0, downloaded.stderr
    (context / "Dockerfile").write_text(
        f"FROM {debian_python}\n"
        "RUN python3 -m venv /venv\n"
        "ENV PATH=/venv/bin:$PATH\n"
        "COPY wheels /wheels\n"
        "ARG URL SHA\n"
        'RUN pip install --no-index --find-links /wheels rget && rget -q -P 8 --sha256 "$SHA" -o /opt/asset.bin "$URL"\n'  # noqa: E501
    )
    sha = hashlib.sha256(payload).hexdigest()
    build(dockerd, context, "localhost/release-rget:pip", URL=url, SHA=sha)
    return "localhost/release-rget:pip", sha


def test_run_pip_install_rget_and_rget_in_a_debian_build_image(dockerd: Dockerd, rget_image: tuple[str, str]) -> None:
    tag, sha = rget_image
    assert file_in(dockerd, tag, "/opt/asset.bin") == sha


def test_a_wrong_sha256_fails_the_build_and_leaves_no_file(
    tmp_path: Path, dockerd: Dockerd, nginx: Nginx, rget_image: tuple[str, str]
) -> None:
    url, _ = asset(nginx, 1 << 20)
    context = tmp_path / "ctx"
    context.mkdir()
    step = f'rget -q --sha256 {"0" * 64} -o /opt/bad.bin "$URL"'
    (context / "Dockerfile").write_text(f"FROM {rget_image[0]}\nARG URL\nRUN {step}\n")
    failed = dockerd.docker("build", "--network", "host", "--build-arg", f"URL={url}", context, check=False)
    assert failed.returncode != 0
    assert "sha256" in failed.stdout + failed.stderr
    (context / "Dockerfile").write_text(f"FROM {rget_image[0]}\nARG URL\nRUN {step} || test ! -e /opt/bad.bin\n")
    build(dockerd, context, "localhost/release-rget:bad", URL=url)
    assert file_in(dockerd, "localhost/release-rget:bad", "/opt/bad.bin") is None


def test_rget_sh_in_the_busybox_image_with_busybox_alone(
    tmp_path: Path, dockerd: Dockerd, nginx: Nginx, busybox_image: object
) -> None:
    url, payload = asset(nginx, 3 << 20)
    context = tmp_path / "ctx"
    context.mkdir()
    shutil.copy(ROOT / "packages" / "rget" / "rget.sh", context / "rget.sh")
    (context / "Dockerfile").write_text(
        f"FROM {busybox_image}\n"
        "COPY rget.sh /usr/local/bin/rget.sh\n"
        "ARG URL\n"
        'RUN mkdir -p /opt && sh /usr/local/bin/rget.sh -P 4 -u "$URL" -o /opt/asset.bin\n'
    )
    build(dockerd, context, "localhost/release-rget:sh", URL=url)
    assert file_in(dockerd, "localhost/release-rget:sh", "/opt/asset.bin") == hashlib.sha256(payload).hexdigest()
