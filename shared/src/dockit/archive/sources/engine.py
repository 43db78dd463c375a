"""The Docker Engine API, as the Docker daemon and podman's compatible service both speak it, over a unix socket or
TCP: is an image there, and ``GET /images/{name}/get`` (what ``docker save`` reads) streamed straight into the
one-pass archive reader: no temporary file, no ``docker`` CLI.

Plain ``http.client`` rather than the Docker SDK or requests: the SDK brings requests, urllib3 and its own unix
socket adapter (~0.3 s of imports, more than a whole dlayer run on a small image), for two GET requests whose
bodies we only stream.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from dockit.archive.model import Image, Platform
from dockit.archive.reader import read_image
from dockit.archive.sources import NotFound, Request, Unreachable
from dockit.errors import ArchiveError, UsageError

CONNECT_TIMEOUT = 10.0
# A save sends nothing while the daemon gathers a big layer: waiting minutes for a byte is normal, not a hang.
READ_TIMEOUT = 900.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An Engine API address: ``unix:///run/docker.sock`` or ``tcp://host:2376`` (TLS when ``tls`` is set)."""

    url: str
    what: str  # "Docker daemon", "podman service"
    tls: ssl.SSLContext | None = None
    origin: str = "docker"  # Image.origin of what it gives

    def connection(self, timeout: float = CONNECT_TIMEOUT) -> http.client.HTTPConnection:
        """A connection (not yet connected) to the endpoint."""
        parts = urlsplit(self.url)
        if parts.scheme == "unix":
            return _UnixConnection(parts.path, timeout)
        if parts.scheme in ("tcp", "http", "https") and parts.hostname:
            port = parts.port or (2376 if self.tls else 2375)
            if self.tls is not None or parts.scheme == "https":
                return http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=self.tls)
            return http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        raise UsageError(f"{self.what} host {self.url!r}: expected unix:///path or tcp://host:port")

    def get(self, path: str, timeout: float = CONNECT_TIMEOUT) -> http.client.HTTPResponse:
        """``GET path``; no answer at all is :class:`Unreachable` naming the endpoint."""
        conn = self.connection(timeout)
        try:
            conn.request("GET", path, headers={"Host": "docker"})
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
            raise Unreachable(f"no {self.what} at {self.url} ({why})") from None
        if conn.sock is not None:
            conn.sock.settimeout(READ_TIMEOUT)
        return response


def tls_context(environ: dict[str, str] | os._Environ[str]) -> ssl.SSLContext | None:
    """The client TLS context ``docker`` builds from ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH`` (ca.pem,
    cert.pem, key.pem), or None without TLS."""
    if not environ.get("DOCKER_TLS_VERIFY"):
        return None
    certs = Path(environ.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    context = ssl.create_default_context(cafile=str(certs / "ca.pem") if (certs / "ca.pem").exists() else None)
    if (certs / "cert.pem").exists():
        context.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    return context


def _message(response: http.client.HTTPResponse) -> str:
    body = response.read(64 << 10)
    try:
        doc = json.loads(body)
        return str(doc.get("message") or body.decode(errors="replace")).strip()
    except (ValueError, AttributeError):
        return body.decode(errors="replace").strip()[:300]


def image_path(name: str) -> str:
    """The URL path of an image name or id (``/`` and ``:`` kept, as the daemon routes ``/images/{name}/...``).

    >>> image_path("localhost:5000/team/app:v1")
    '/images/localhost:5000/team/app:v1'
    """
    if not name or any(c.isspace() or ord(c) < 32 for c in name):
        raise UsageError(f"invalid image name {name!r}")
    return "/images/" + quote(name, safe="/:@")


def _platform(inspect: bytes) -> Platform:
    """The platform ``GET /images/{name}/json`` reports (``Os``, ``Architecture``, ``Variant``)."""
    try:
        doc = json.loads(inspect)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return Platform()
    return Platform(str(doc.get("Os") or ""), str(doc.get("Architecture") or ""), str(doc.get("Variant") or ""))


def read_from(endpoint: Endpoint, request: Request) -> Image:
    """The image ``request.target`` from the endpoint: :class:`NotFound` when it has no such image."""
    name = request.target
    with endpoint.get(image_path(name) + "/json") as probe:
        if probe.status == 404:
            raise NotFound(f"{name} is not in the {endpoint.what} at {endpoint.url}")
        if probe.status != 200:
            raise ArchiveError(f"{endpoint.what} at {endpoint.url} answers {probe.status}: {_message(probe)}")
        inspect = probe.read(1 << 20)
    if request.platform:
        # the daemon holds one platform per name: another one asked for is, like a missing image, for the
        # registry to answer (auto asks it next)
        have = _platform(inspect)
        if not have.matches(request.platform):
            raise NotFound(f"{name} in the {endpoint.what} at {endpoint.url} is {have}, not {request.platform}")
    request.announce(f"reading {name} from the {endpoint.what} at {endpoint.url}")
    response = endpoint.get(image_path(name) + "/get", timeout=READ_TIMEOUT)
    with response:
        if response.status != 200:
            raise ArchiveError(f"{endpoint.what} at {endpoint.url}: saving {name}: {_message(response)}")
        try:
            image = read_image(response, tag=None, platform=None, digests=request.digests, cache=request.cache)
        except (OSError, http.client.HTTPException) as e:
            raise ArchiveError(f"{endpoint.what} at {endpoint.url}: the save of {name} broke off ({e})") from None
    image.origin = endpoint.origin
    return image
