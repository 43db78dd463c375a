"""The Docker daemon source: the Engine API at ``DOCKER_HOST`` (default ``unix:///var/run/docker.sock``), TLS as
``docker`` sets it up (``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``)."""

from __future__ import annotations

import os

from dockit.archive.model import Image
from dockit.archive.sources import Request
from dockit.archive.sources.engine import Endpoint, read_from, tls_context

DEFAULT_HOST = "unix:///var/run/docker.sock"


def endpoint() -> Endpoint:
    """The daemon ``docker`` would talk to."""
    return Endpoint(os.environ.get("DOCKER_HOST") or DEFAULT_HOST, "Docker daemon", tls_context(os.environ))


def read(request: Request) -> Image:
    """The image from the Docker daemon (``docker save`` without the CLI, streamed)."""
    return read_from(endpoint(), request)
