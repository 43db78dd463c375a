"""Session fixtures for the private Docker daemon, registry, buildah and the image-archive fixtures.

Fixtures (session-scoped, each process stopped by its PID, never by name):

- ``busybox_image`` -> :class:`BaseImage`: ``localhost/busybox:base``, a one-layer image of Debian's static busybox
  (every applet symlinked in /bin, /etc/passwd with root, app (1000) and nobody). Every test Dockerfile builds
  ``FROM localhost/busybox:base``; both builders already hold it. Made once per machine under ``.cache/busybox/``.
- ``dockerd`` -> :class:`Dockerd`: a private Docker 20.10 daemon (overlay2, else vfs; no bridge) whose builds use the
  classic builder (``DOCKER_BUILDKIT=0``). ``dockerd.docker(...)``, ``.env``, ``.build(...)``, ``.export(...)``,
  ``.save(...)``, ``.prune()``.
- ``buildkit`` -> :class:`BuildKit`: BuildKit builds on that same daemon (its config enables the ``buildkit``
  feature; Debian's client ``/usr/bin/docker`` with ``DOCKER_BUILDKIT=1``, ``--progress plain``). The same ``build``
  / ``export`` / ``prune``; ``build`` returns a :class:`tests.system.buildkit.BuildKitResult` (stages run, steps,
  ``CACHED``).
- ``buildah`` -> :class:`Buildah`: buildah with a private store (vfs, chroot isolation); the same ``build`` /
  ``export`` / ``prune`` as the daemon, plus ``buildah.buildah(...)`` and ``storage_ref(image)`` for skopeo.
- ``registry`` -> :class:`Registry`: Debian's docker-registry on ``registry.host`` (``127.0.0.1:PORT``), plain HTTP.
- ``builder`` -> one of the three, parametrized with ids ``classic``, ``buildkit``, ``buildah``; narrow it with
  ``@pytest.mark.parametrize("builder", ["classic", "buildkit"], indirect=True)``.
- ``image_archives`` -> :class:`tests.system.fixtures.make_archives.Archives`: one multi-stage image in every
  archive format (see tests/system/fixtures/make_archives.py), made once per machine under ``.cache/fixtures/``.

Where a binary is missing: on Debian as root that is an error (``make test`` installs tests/system/debian-packages.txt);
otherwise the test skips and names the Debian package to install.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

from tests.system.buildkit import BuildKitResult
from tests.system.fixtures import make_archives
from tests.system.fixtures.make_archives import Archives
from tests.system.images import BuildResult, ImageExport, read_docker_archive

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
BASE_IMAGE = "localhost/busybox:base"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Which Debian package gives each binary the harness runs (for the skip message).
DEBIAN_PACKAGE = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "buildah": "buildah",
    "skopeo": "skopeo",
    "umoci": "umoci",
    "docker-registry": "docker-registry",
    "apt-get": "apt",
    "dpkg-deb": "dpkg",
    "htpasswd": "apache2-utils",
    "podman": "podman",
    "openssl": "openssl",
}


# ---------------------------------------------------------------------------------------------------------------------
# Finding binaries: a missing one is a skip where we cannot install it, an error where `make test` should have.


def can_install_debs() -> bool:
    """True when `make test` installs missing Debian packages itself (root on Debian): then nothing may skip."""
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def require(*tools: str) -> dict[str, str]:
    """Absolute paths of ``tools``; skip the test (or fail it, as root on Debian) naming the packages to install."""
    found = {tool: shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin") for tool in tools}
    missing = sorted({DEBIAN_PACKAGE.get(t, t) for t, p in found.items() if p is None})
    if missing:
        message = f"missing {', '.join(t for t, p in found.items() if p is None)}: apt-get install {' '.join(missing)}"
        if can_install_debs():
            pytest.fail(message + " (make test installs tests/system/debian-packages.txt)", pytrace=False)
        pytest.skip(message)
    return {tool: path for tool, path in found.items() if path is not None}


def docker_client() -> str:
    """The Debian docker.io client, which matches the daemon; another ``docker`` earlier in PATH may be newer."""
    return "/usr/bin/docker" if Path("/usr/bin/docker").exists() else require("docker")["docker"]


# ---------------------------------------------------------------------------------------------------------------------
# Running commands


class CommandError(subprocess.CalledProcessError):
    """A harness command failed; ``str()`` includes the end of its output so the test report says why."""

    def __str__(self) -> str:
        out = "\n".join(part for part in (self.stdout, self.stderr) if part)
        tail = out[-4000:]
        return f"{' '.join(map(str, self.cmd))} exited {self.returncode}:\n{tail}"


def run(
    cmd: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    cwd: Path | None = None,
    merge: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing text output (stderr into stdout when ``merge``); raise :class:`CommandError` if asked."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        env=dict(env) if env is not None else None,
        input=input,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        cwd=cwd,
        check=False,
    )
    if check and proc.returncode != 0:
        raise CommandError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM the process we started, by PID; SIGKILL it if it has not exited after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_pidfile(pidfile: Path) -> None:
    """Kill the process a pidfile names, if it is still alive (a daemon's helper that outlived it)."""
    with suppress(FileNotFoundError, ValueError, ProcessLookupError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(cert: Path, key: Path, subject: str, *extra: str) -> None:
    """A self-signed RSA certificate and its key (openssl), valid two days."""
    openssl = require("openssl")["openssl"]
    files = ["-keyout", str(key), "-out", str(cert)]
    run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject, *extra, *files])


class Served(Protocol):
    """A server a fixture starts and stops."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=Served)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """``server`` started, and stopped (its directories deleted) however the ``with`` block ends: a session
    fixture's ``with serving(Server(...)) as s: yield s``."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed): concurrent sessions build a cache entry once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _dockerfile_args(dockerfile: str | Path | None, scratch: Path) -> list[str]:
    """``-f`` arguments: a Path is a file; a str is Dockerfile text, written to a file outside the context."""
    if dockerfile is None:
        return []
    if isinstance(dockerfile, str):
        fd, name = tempfile.mkstemp(prefix="Dockerfile.", dir=scratch)
        with os.fdopen(fd, "w") as f:
            f.write(dockerfile)
        dockerfile = Path(name)
    return ["-f", str(dockerfile)]


def _build_flags(
    tag: str | None, target: str | None, build_args: Mapping[str, str] | None, extra: Sequence[str]
) -> list[str]:
    flags = ["-t", tag] if tag else []
    if target:
        flags += ["--target", target]
    for key, value in (build_args or {}).items():
        flags += ["--build-arg", f"{key}={value}"]
    return flags + list(extra)


def _build(
    head: list[str],
    env: Mapping[str, str],
    root: Path,
    context: Path,
    dockerfile: str | Path | None,
    tag: str | None,
    target: str | None,
    build_args: Mapping[str, str] | None,
    extra: Sequence[str],
    check: bool,
    result: type[BuildResult] = BuildResult,
) -> BuildResult:
    """Run a builder's command line ``head`` (``docker build``, ``buildah bud``: both take the same flags) with an
    iidfile in a scratch directory under ``root``; the build's id and merged output."""
    scratch = Path(tempfile.mkdtemp(prefix="build-", dir=root))
    iidfile = scratch / "iid"
    cmd = [*head, "--iidfile", str(iidfile), *_dockerfile_args(dockerfile, scratch)]
    cmd += [*_build_flags(tag, target, build_args, extra), str(context)]
    proc = run(cmd, env=env, check=False, merge=True)
    image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    shutil.rmtree(scratch, ignore_errors=True)
    if check and proc.returncode != 0:
        raise CommandError(proc.returncode, proc.args, proc.stdout)
    return result(image_id, tag, proc.stdout, proc.returncode)


# ---------------------------------------------------------------------------------------------------------------------
# The base image: Debian's static busybox, as a docker-archive written here byte for byte the same on every machine
# (fixed mtimes and owners), so its image id is stable and `docker load` after a prune restores the very same base.

EPOCH = 1_700_000_000
PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
GROUP = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"


@dataclass(frozen=True)
class BaseImage:
    """``tag`` (``localhost/busybox:base``), ``archive`` (its docker-archive) and ``image_id`` (``sha256:...``)."""

    tag: str
    archive: Path
    image_id: str

    def __str__(self) -> str:
        return self.tag


def _fetch_busybox(workdir: Path) -> Path:
    """Download busybox-static's .deb (installing it would conflict with the busybox package) and extract it."""
    tools = require("apt-get", "dpkg-deb")
    fetch = run([tools["apt-get"], "download", "busybox-static"], cwd=workdir, check=False, merge=True)
    if fetch.returncode != 0:  # a fresh machine has no package lists yet
        if os.geteuid() != 0:
            pytest.skip(f"apt-get download busybox-static failed (run apt-get update as root): {fetch.stdout[-300:]}")
        run([tools["apt-get"], "update", "-q"], merge=True)
        run([tools["apt-get"], "download", "busybox-static"], cwd=workdir, merge=True)
    (deb,) = workdir.glob("busybox-static_*.deb")
    root = workdir / "root"
    run([tools["dpkg-deb"], "-x", deb, root])
    return root / "bin" / "busybox"


def _rootfs_tar(busybox: Path) -> bytes:
    """A tiny root filesystem: busybox, a symlink per applet in /bin, passwd/group, the usual empty directories."""
    applets = sorted(set(run([busybox, "--list"]).stdout.split()) - {"busybox"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname, info.size = kind, mode, EPOCH, link, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in ("bin", "dev", "etc", "home", "proc", "root", "run", "sys", "tmp", "usr", "usr/bin", "var"):
            add(d, tarfile.DIRTYPE, {"tmp": 0o1777, "root": 0o700}.get(d, 0o755))
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in applets:
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("usr/bin/env", tarfile.SYMTYPE, 0o777, link="/bin/env")
        add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        for mountpoint in ("etc/hostname", "etc/hosts", "etc/resolv.conf"):  # else buildah's RUN leaves them behind
            add(mountpoint, tarfile.REGTYPE, 0o644)
        add("home/app", tarfile.DIRTYPE, 0o755)
    return buf.getvalue()


def _docker_archive(layer: bytes, tag: str, created_by: str) -> bytes:
    """A one-layer docker-archive (``docker save`` format) holding ``layer`` as image ``tag``."""
    diff_id = hashlib.sha256(layer).hexdigest()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = {
        "architecture": arch,
        "os": "linux",
        "created": created,
        "config": {"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": created, "created_by": created_by}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{diff_id}/layer.tar"]}]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            (f"{diff_id}/layer.tar", layer),
            (config_name, config_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def base_image() -> BaseImage:
    """The busybox base image's archive, made once per machine under ``.cache/busybox/`` (~1 s, one .deb fetch)."""
    archive = CACHE / "busybox" / "base.tar"
    with locked(CACHE / "busybox" / ".lock"):
        if not archive.exists():
            with tempfile.TemporaryDirectory(prefix="busybox-") as tmp:
                busybox = _fetch_busybox(Path(tmp))
                version = run([busybox], check=False).stdout.splitlines()[0]
                data = _docker_archive(_rootfs_tar(busybox), BASE_IMAGE, f"busybox-static: {version}")
            partial = archive.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(archive)
    with tarfile.open(archive) as tar:
        stream = tar.extractfile("manifest.json")
        assert stream is not None
        config_name = json.load(stream)[0]["Config"]
    return BaseImage(BASE_IMAGE, archive, "sha256:" + config_name.removesuffix(".json"))


# ---------------------------------------------------------------------------------------------------------------------
# The private Docker daemon


R = TypeVar("R", bound=BuildResult)


class DockerClient(Generic[R]):
    """The docker client against one private daemon, as :class:`Dockerd` (classic builder) and :class:`BuildKit`
    (the same daemon, ``DOCKER_BUILDKIT=1``) both drive it: ``client``, ``env`` and ``root`` (scratch space on the
    daemon's disk) come from the subclass; ``build_flags`` and ``result`` are what their ``docker build`` differs by.
    """

    name: str
    client: str
    env: dict[str, str]
    root: Path
    build_flags: tuple[str, ...]
    result: type[R]

    def docker(
        self, *args: str | os.PathLike[str], input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against the daemon with :attr:`env` (so ``DOCKER_BUILDKIT`` picks the builder);
        raise :class:`CommandError` (with output) on failure."""
        return run([self.client, *args], env=self.env, input=input, check=check)

    def build(
        self,
        context: Path,
        dockerfile: str | Path | None = None,
        tag: str | None = None,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        extra: Sequence[str] = (),
        check: bool = True,
    ) -> R:
        """``docker build --network none`` (BuildKit: with ``--progress plain``) of ``context``; ``dockerfile`` is a
        path (Path) or the Dockerfile's text (str), default ``context/Dockerfile``. ``extra`` goes before the context,
        e.g. ``("--cache-from", "127.0.0.1:5000/app:deps")`` (BuildKit: also ``("--build-arg",
        "BUILDKIT_INLINE_CACHE=1")``). A failed build raises unless ``check=False``."""
        head = [self.client, "build", *self.build_flags]
        built = _build(
            head, self.env, self.root, context, dockerfile, tag, target, build_args, extra, check, self.result
        )
        assert isinstance(built, self.result)
        return built

    def save(self, image: str, path: Path) -> Path:
        """``docker save image -o path`` (legacy docker-archive format in Docker 20.10)."""
        self.docker("save", "-o", path, image)
        return path

    def load(self, path: Path) -> None:
        """``docker load -i path``."""
        self.docker("load", "-q", "-i", path)

    def export(self, image: str) -> ImageExport:
        """The image's final filesystem, config, layer count and history (read from ``docker save``)."""
        with tempfile.TemporaryDirectory(dir=self.root) as tmp:
            return read_docker_archive(self.save(image, Path(tmp) / "image.tar"))

    def image_id(self, image: str) -> str:
        """``sha256:...`` id of a local image."""
        return self.docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()


class Dockerd(DockerClient[BuildResult]):
    """A private dockerd: overlay2 or vfs storage, no bridge/iptables, its own data and exec root under ``root``.

    Builds use the classic builder (``DOCKER_BUILDKIT=0``) with ``--network none``. The daemon's config enables the
    ``buildkit`` feature so that :class:`BuildKit` builds on it too (the client's ``DOCKER_BUILDKIT`` picks the
    builder per build): one daemon, one image store, for both builders.

    >>> dockerd.docker("images", "-q").stdout  # doctest: +SKIP
    >>> result = dockerd.build(ctx, "FROM localhost/busybox:base\\nRUN echo hi > /x\\n", tag="t")  # doctest: +SKIP
    >>> result.steps, result.cached  # doctest: +SKIP
    (2, 0)
    """

    name = "classic"
    build_flags = ("--network", "none")
    result = BuildResult

    def __init__(self, root: Path, base: BaseImage, storage_driver: str = "vfs") -> None:
        self.root = root
        self.base = base
        self.storage_driver = storage_driver
        self.socket = root / "docker.sock"
        self.client = docker_client()
        bindir = root / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        (bindir / "docker").symlink_to(self.client)
        self.env: dict[str, str] = {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "0",
            "DOCKER_CONFIG": str(root / "client-config"),  # no user credentials or plugins leak in
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        """Environment for subprocesses (scripts that call ``docker``): DOCKER_HOST, DOCKER_BUILDKIT=0, and PATH
        starting with the Debian docker client that matches the daemon."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The ``DOCKER_HOST`` value (``unix:///tmp/.../docker.sock``)."""
        return self.env["DOCKER_HOST"]

    def start(self, timeout: float = 60) -> None:
        """Start the daemon and wait until it answers; load the busybox base image."""
        dockerd = require("dockerd")["dockerd"]
        with (self.root / "dockerd.log").open("wb") as log:  # the daemon holds its own copy of the descriptor
            self.process = subprocess.Popen(
                [
                    dockerd,
                    f"--data-root={self.root / 'data'}",
                    f"--exec-root={self.root / 'exec'}",
                    f"--pidfile={self.root / 'dockerd.pid'}",
                    f"--host=unix://{self.socket}",
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                    "--bridge=none",
                    f"--storage-driver={self.storage_driver}",
                    "--log-level=warn",
                    f"--config-file={self._config_file()}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in pytest must not kill the daemon before we stop it cleanly
            )
        deadline = time.monotonic() + timeout
        while self.docker("version", check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"dockerd did not start (exit {self.process.returncode}):\n{tail}")
            time.sleep(0.1)
        self.load(self.base.archive)

    def _config_file(self) -> Path:
        config = self.root / "daemon.json"
        config.write_text(json.dumps({"features": {"buildkit": True}}))
        return config

    def stop(self) -> None:
        """Stop the daemon by its PID (and its containerd if it outlived it), then delete its directories."""
        if self.process is not None:
            stop_process(self.process)
        kill_pidfile(self.root / "exec" / "containerd" / "containerd.pid")
        shutil.rmtree(self.root, ignore_errors=True)

    def prune(self) -> None:
        """Empty the daemon: containers, every image (the build cache of the classic builder) and build cache; then
        reload the busybox base (same archive, so the same image id: ``--cache-from`` images still match it)."""
        self.docker("system", "prune", "--all", "--force", "--volumes")
        self.load(self.base.archive)


# ---------------------------------------------------------------------------------------------------------------------
# BuildKit, on the same daemon


class BuildKit(DockerClient[BuildKitResult]):
    """BuildKit builds on a :class:`Dockerd` (Docker 20.10's built-in BuildKit: no buildx, no frontend image).

    The same ``build``/``export``/``prune`` as the other builders; ``build`` returns a :class:`BuildKitResult`.
    It shares the daemon's image store with the classic builder, so ``prune()`` empties both (a fresh CI runner).
    Limits of this BuildKit: no ``# syntax=`` lines or heredocs (they need a frontend image), no ``RUN --network``,
    no ``--cache-to`` (buildx); a global ``ARG TARGETARCH`` without a default is empty; ``FROM Base`` does not find a
    stage declared ``AS Base`` (names are lower-cased on one side only).

    >>> result = buildkit.build(ctx, dockerfile, target="release")  # doctest: +SKIP
    >>> result.stages, [str(s) for s in result.executed]  # doctest: +SKIP
    ({'base', 'release'}, ['base 2/2 RUN mkdir /opt/app (ran)', ...])
    """

    name = "buildkit"
    build_flags = ("--progress", "plain", "--network", "none")
    result = BuildKitResult

    def __init__(self, daemon: Dockerd) -> None:
        self.daemon = daemon
        self.base = daemon.base
        self.client = daemon.client
        self.root = daemon.root
        self.env: dict[str, str] = {**daemon.env, "DOCKER_BUILDKIT": "1"}
        """Environment for subprocesses (scripts that call ``docker``): the daemon's, with ``DOCKER_BUILDKIT=1``."""

    def prune(self) -> None:
        """Empty the daemon (images, containers, BuildKit's cache and cache mounts) and reload the base image."""
        self.daemon.prune()


# ---------------------------------------------------------------------------------------------------------------------
# buildah with a private store


class Buildah:
    """buildah with its own ``--root``/``--runroot`` (vfs, chroot isolation); ``buildah bud --layers`` builds.

    ``storage_ref(image)`` names an image of this store for skopeo
    (``containers-storage:[vfs@ROOT+RUNROOT]image``).
    """

    name = "buildah"

    def __init__(self, root: Path, base: BaseImage) -> None:
        self.root = root
        self.base = base
        self.binary = require("buildah")["buildah"]
        self.store = root / "root"
        self.runroot = root / "runroot"
        self.env: dict[str, str] = {**os.environ, "BUILDAH_ISOLATION": "chroot", "STORAGE_DRIVER": "vfs"}
        """Environment for subprocesses calling buildah/skopeo."""
        self.flags = ["--root", str(self.store), "--runroot", str(self.runroot), "--storage-driver", "vfs"]
        """Global flags that select this store: ``buildah <flags> images``."""

    def start(self) -> None:
        """Load the busybox base image into the store."""
        self.pull(f"docker-archive:{self.base.archive}", self.base.tag)

    def stop(self) -> None:
        """Unmount what buildah mounted and delete the store."""
        self.buildah("rm", "--all", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def buildah(
        self, *args: str | os.PathLike[str], input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run buildah on this store; raise :class:`CommandError` (with output) on failure."""
        return run([self.binary, *self.flags, *args], env=self.env, input=input, check=check)

    def storage_ref(self, image: str) -> str:
        """The containers-storage reference of ``image`` in this store, for skopeo."""
        first = image.split("/", 1)[0]
        if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
            image = f"localhost/{image}"  # buildah stores short names under localhost/; skopeo would say docker.io/
        return f"containers-storage:[vfs@{self.store}+{self.runroot}]{image}"

    def pull(self, source: str, tag: str | None = None) -> str:
        """``buildah pull source`` (``docker-archive:F``, ``docker://127.0.0.1:PORT/x``...), tagged ``tag``; the id."""
        image_id = self.buildah("pull", "-q", "--tls-verify=false", source).stdout.strip().splitlines()[-1]
        if tag:
            self.buildah("tag", image_id, tag)
        return "sha256:" + image_id.removeprefix("sha256:")

    def build(
        self,
        context: Path,
        dockerfile: str | Path | None = None,
        tag: str | None = None,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        extra: Sequence[str] = (),
        check: bool = True,
        layers: bool = True,
    ) -> BuildResult:
        """``buildah bud --layers`` (``layers=False`` squashes each stage into one layer), same contract as
        :meth:`Dockerd.build`."""
        head = [self.binary, *self.flags, "bud", "--isolation", "chroot", f"--layers={str(layers).lower()}"]
        head += ["--identity-label=false"]  # else every image carries io.buildah.version: not what the Dockerfile says
        return _build(head, self.env, self.root, context, dockerfile, tag, target, build_args, extra, check)

    def push(self, image: str, destination: str, *flags: str) -> None:
        """``buildah push [flags] image destination``, e.g. ``oci-archive:/x.tar:tag``, ``docker://HOST/x:tag``."""
        self.buildah("push", "-q", "--tls-verify=false", *flags, image, destination)

    def export(self, image: str) -> ImageExport:
        """The image's final filesystem, config, layer count and history (read from a docker-archive push)."""
        with tempfile.TemporaryDirectory(dir=self.root) as tmp:
            archive = Path(tmp) / "image.tar"
            self.push(image, f"docker-archive:{archive}")
            return read_docker_archive(archive)

    def prune(self) -> None:
        """Remove every container and image (the layer cache), then reload the busybox base."""
        self.buildah("rm", "--all")
        self.buildah("rmi", "--all", "--force")
        self.start()


# ---------------------------------------------------------------------------------------------------------------------
# The registry


class Registry:
    """Debian's docker-registry (distribution 2.8) on ``host`` = ``127.0.0.1:PORT``, storage in ``root``; plain HTTP,
    or with ``tls`` HTTPS on a self-signed certificate for 127.0.0.1; ``auth`` is the config's ``auth:`` section
    (empty: none).

    The daemon pushes to it without TLS (loopback registries are insecure-allowed); for buildah/skopeo pass
    ``--tls-verify=false`` (``Buildah.push``/``pull`` do).
    """

    def __init__(self, root: Path, auth: str = "", tls: bool = False) -> None:
        self.root = root
        self.auth = auth
        self.tls = tls
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        """Start the registry and wait until ``/v2/`` answers 200 (with an ``auth`` section: 401, it wants
        credentials); anything else, until ``timeout``, is a registry still starting."""
        binary = require("docker-registry")["docker-registry"]
        config = self.root / "config.yml"
        tls = ""
        if self.tls:
            cert, key = self.root / "tls.pem", self.root / "tls.key"
            self_signed(cert, key, "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
            tls = f", tls: {{certificate: {cert}, key: {key}}}"
        config.write_text(
            "version: 0.1\n"
            "log: {level: error, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{self.host}'{tls}}}\n" + self.auth
        )
        with (self.root / "registry.log").open("wb") as log:  # the registry holds its own copy of the descriptor
            self.process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=2, context=ssl._create_unverified_context()):
                    return
            except OSError as e:  # an HTTP error status is one too (urllib.error.HTTPError)
                if isinstance(e, urllib.error.HTTPError):
                    e.close()
                    if e.code == 401 and self.auth:
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log_text = (self.root / "registry.log").read_text(errors="replace")[-1500:]
                    self.stop()
                    raise RuntimeError(f"docker-registry did not start on {self.host}:\n{log_text}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the registry by PID and delete its storage."""
        if self.process is not None:
            stop_process(self.process)
        shutil.rmtree(self.root, ignore_errors=True)

    def tags(self, repository: str) -> list[str]:
        """Tags of ``repository`` in the registry (``/v2/<repo>/tags/list``)."""
        with urllib.request.urlopen(f"{self.url}/v2/{repository}/tags/list", timeout=10) as response:
            return list(json.load(response).get("tags") or [])

    def digest(self, repository: str, tag: str) -> str:
        """The digest of the manifest ``repository:tag`` points to (any manifest kind: image, list, cache)."""
        kinds = (
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
        )
        request = urllib.request.Request(
            f"{self.url}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": ", ".join(kinds)}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["Docker-Content-Digest"])


# ---------------------------------------------------------------------------------------------------------------------
# Fixtures


def scratch_dir(prefix: str) -> Path:
    """A new private directory ``/tmp/bi-<prefix>-*`` for a daemon's state."""
    # Short paths under /tmp: dockerd's unix sockets (and containerd's beside them) must fit in 108 bytes.
    return Path(tempfile.mkdtemp(prefix=f"bi-{prefix}-", dir="/tmp"))


@pytest.fixture(scope="session")
def busybox_image() -> BaseImage:
    """The busybox base image (``localhost/busybox:base``); ``dockerd`` and ``buildah`` already hold it."""
    return base_image()


@pytest.fixture(scope="session")
def dockerd(busybox_image: BaseImage) -> Iterator[Dockerd]:
    """A private Docker daemon for the whole session, holding the busybox base image."""
    require("dockerd")
    # overlay2 is ~3-10x faster per step than vfs (make test's time budget needs it); vfs works everywhere (even on
    # overlayfs roots), so it is the fallback when the kernel refuses overlay2. BI_DOCKER_STORAGE_DRIVER forces one.
    forced = os.environ.get("BI_DOCKER_STORAGE_DRIVER")
    daemon = Dockerd(scratch_dir("dockerd"), busybox_image, forced or "overlay2")
    try:
        try:
            daemon.start()
        except RuntimeError:
            if forced:
                raise
            daemon.stop()
            daemon = Dockerd(scratch_dir("dockerd-vfs"), busybox_image, "vfs")
            daemon.start()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def buildkit(dockerd: Dockerd) -> BuildKit:
    """BuildKit builds on the session's private daemon (one daemon serves both builders)."""
    return BuildKit(dockerd)


Builder = Dockerd | BuildKit | Buildah
"""What the ``builder`` fixture gives: each has ``name``, ``base``, ``env``, ``build``, ``export``, ``prune``."""

BUILDER_FIXTURES = {"classic": "dockerd", "buildkit": "buildkit", "buildah": "buildah"}


@pytest.fixture(params=list(BUILDER_FIXTURES), ids=list(BUILDER_FIXTURES))
def builder(request: pytest.FixtureRequest) -> Builder:
    """Each builder in turn (ids ``classic``, ``buildkit``, ``buildah``), so a difference fails with its name.
    Where a feature exists on some builders only, narrow it and say why::

        @pytest.mark.parametrize("builder", ["buildkit", "buildah"], indirect=True)  # RUN --mount
    """
    builder: Builder = request.getfixturevalue(BUILDER_FIXTURES[request.param])
    return builder


@pytest.fixture(scope="session")
def buildah(busybox_image: BaseImage) -> Iterator[Buildah]:
    """buildah on a private store for the whole session, holding the busybox base image."""
    require("buildah")
    with serving(Buildah(scratch_dir("buildah"), busybox_image)) as builder:
        yield builder


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """A docker-registry on 127.0.0.1 for the whole session."""
    require("docker-registry")
    with serving(Registry(scratch_dir("registry"))) as server:
        yield server


@pytest.fixture(scope="session")
def image_archives(busybox_image: BaseImage, request: pytest.FixtureRequest) -> Archives:
    """The fixture image in every archive format (name -> Path, plus ``.intended``): see
    tests/system/fixtures/make_archives.py. Made once per machine; the daemons start only when the cache misses."""

    def daemons() -> tuple[Dockerd, Buildah]:
        require("skopeo", "umoci")
        return request.getfixturevalue("dockerd"), request.getfixturevalue("buildah")

    return make_archives.cached(busybox_image, daemons, CACHE / "fixtures")


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """``assert a == b`` on two :class:`ImageExport` shows what differs instead of two huge reprs."""
    if op == "==" and isinstance(left, ImageExport) and isinstance(right, ImageExport):
        return ["image exports differ (- left, + right):", *left.diff(right).splitlines()]
    return None
