"""The podman source: podman's Docker-compatible API socket when its service runs (``CONTAINER_HOST``,
``$XDG_RUNTIME_DIR/podman/podman.sock``, ``/run/podman/podman.sock``), else ``podman save`` into a pipe, read in
one pass like ``podman save | dlayer``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dockit.archive.model import Image
from dockit.archive.reader import read_image
from dockit.archive.sources import NotFound, Request, Unreachable
from dockit.archive.sources.engine import Endpoint, read_from
from dockit.errors import ArchiveError, DockitError


def sockets() -> list[str]:
    """Where podman's API service listens, most specific first (``unix://`` URLs)."""
    found = []
    host = os.environ.get("CONTAINER_HOST", "")
    if host.startswith("unix://"):
        found.append(host)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    for path in ([Path(runtime) / "podman" / "podman.sock"] if runtime else []) + [Path("/run/podman/podman.sock")]:
        if path.is_socket():
            found.append(f"unix://{path}")
    return found


def read(request: Request) -> Image:
    """The image from podman: through its API socket if one answers and has it, else through ``podman save``
    (the rootful service and a user's podman keep different stores)."""
    for url in sockets():
        try:
            return read_from(Endpoint(url, "podman service", origin="podman"), request)
        except (Unreachable, NotFound):
            continue
    return _save(request)


def _save(request: Request) -> Image:
    podman = shutil.which("podman")
    if podman is None:
        raise Unreachable("no podman: no API socket answers and no podman command on PATH")
    name = request.target
    exists = subprocess.run([podman, "image", "exists", name], capture_output=True, text=True)
    if exists.returncode == 1:
        raise NotFound(f"{name} is not in podman's storage")
    if exists.returncode != 0:
        raise ArchiveError(f"podman image exists {name}: {exists.stderr.strip().splitlines()[-1:]}")
    request.announce(f"reading {name} from podman save")
    with subprocess.Popen(
        [podman, "save", "--format", "docker-archive", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            image = read_image(proc.stdout, digests=request.digests, cache=request.cache)
        except DockitError:
            proc.kill()
            proc.wait()
            err = proc.stderr.read().decode(errors="replace").strip()
            if err:
                raise ArchiveError(f"podman save {name}: {err.splitlines()[-1]}") from None
            raise
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            raise ArchiveError(f"podman save {name}: {err.splitlines()[-1] if err else f'exit {proc.returncode}'}")
    image.origin = "podman"
    return image
