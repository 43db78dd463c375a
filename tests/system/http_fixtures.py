"""Session fixtures for nginx on 127.0.0.1 and a busybox-only PATH (rget and rget.sh).

``nginx``: one nginx-light (``nginx -p DIR -c CONF``) for the whole session, serving ``nginx.root`` on four
server blocks, each on its own free port of 127.0.0.1:

- ``plain``     static files, uncapped (sendfile), Range honoured
- ``limited``   ``limit_rate 10m`` per connection and ``sendfile_max_chunk 512k`` (GitHub/S3-like per-connection cap)
- ``redirect``  every path answers ``302`` to the same path on ``plain`` (another host:port)
- ``noranges``  ``max_ranges 0``: Range ignored, always 200 with the whole file

Put files under ``nginx.root`` and fetch ``nginx.url("plain", "name")``. :func:`start_nginx` is the same thing as a
context manager, for the benchmarks.

``busybox_path``: a directory holding busybox's applets (``busybox --install -s``), to run shell scripts with
``PATH=busybox_path`` only, as in an alpine image.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.system.docker_fixtures import free_port, stop_process

SERVERS = ("plain", "limited", "redirect", "noranges")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass(frozen=True)
class Nginx:
    """A running nginx: ``root`` is served by every server block; ``ports`` maps block name to port."""

    root: Path
    ports: dict[str, int]
    log: Path

    def url(self, server: str, name: str = "") -> str:
        """``http://127.0.0.1:PORT/name`` on one of :data:`SERVERS`."""
        return f"http://127.0.0.1:{self.ports[server]}/{name.lstrip('/')}"


def _config(prefix: Path, root: Path, ports: dict[str, int], rate: str) -> str:
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must read root's 0700 pytest tmp dirs
    temp = "\n".join(
        f"    {k}_temp_path {prefix}/tmp/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    common = f"root {root}; access_log {prefix}/access.log;"
    return f"""
{user}
daemon off;
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
{temp}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {{ listen 127.0.0.1:{ports["plain"]}; {common} }}
    server {{ listen 127.0.0.1:{ports["limited"]}; {common} limit_rate {rate}; sendfile_max_chunk 512k; }}
    server {{ listen 127.0.0.1:{ports["redirect"]}; {common}
             location / {{ return 302 http://127.0.0.1:{ports["plain"]}$request_uri; }} }}
    server {{ listen 127.0.0.1:{ports["noranges"]}; {common} max_ranges 0; }}
}}
"""


def _die_with_parent() -> None:
    """In the child before exec: nginx gets SIGTERM when the process that started it dies (a killed pytest or
    bench leaves no nginx behind)."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_listening(ports: dict[str, int], proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    for port in ports.values():
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not listen on {port} within 10 s") from None
                time.sleep(0.02)


@contextmanager
def start_nginx(prefix: Path, root: Path | None = None, rate: str = "10m") -> Iterator[Nginx]:
    """Run nginx with its prefix, config, logs and temp dirs under ``prefix``; stop it on exit."""
    prefix.mkdir(parents=True, exist_ok=True)
    root = root or prefix / "www"
    root.mkdir(parents=True, exist_ok=True)
    for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / k).mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in SERVERS}
    conf = prefix / "nginx.conf"
    conf.write_text(_config(prefix, root, ports, rate))
    log = prefix / "error.log"
    proc = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        _wait_listening(ports, proc, log, time.monotonic() + 10)
        yield Nginx(root, ports, log)
    finally:
        stop_process(proc, timeout=10)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """One nginx for the session (see the module docstring for its four server blocks)."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: install nginx-light (tests/system/debian-packages.txt, `make debs`)")
    with start_nginx(tmp_path_factory.mktemp("nginx")) as server:
        yield server


def install_busybox(directory: Path) -> Path:
    """Fill ``directory`` with symlinks to every busybox applet; returns it."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([busybox, "--install", "-s", str(directory)], check=True)
    if not (directory / "sh").exists():
        raise RuntimeError(f"busybox --install -s {directory} made no sh")
    return directory


@pytest.fixture(scope="session")
def busybox_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of busybox applets: run scripts with ``env={"PATH": str(busybox_path)}`` for an alpine-like PATH."""
    if not (shutil.which("busybox") or Path("/bin/busybox").exists()):
        pytest.fail("busybox is missing: install busybox (tests/system/debian-packages.txt, `make debs`)")
    return install_busybox(tmp_path_factory.mktemp("busybox-bin"))
