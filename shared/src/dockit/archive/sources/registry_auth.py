"""Registry credentials as ``docker login`` stores them, and the challenge flow registries answer 401 with.

Credentials come from ``$DOCKER_CONFIG/config.json`` (default ``~/.docker``): ``credHelpers[host]``, else
``credsStore``, run as ``docker-credential-<name> get`` (the host on stdin, ``{"Username", "Secret"}`` out), else
``auths[host]`` (``auth`` = base64 ``user:password``, or ``username``/``password``). Docker Hub's key is
``https://index.docker.io/v1/``.

The challenge (``WWW-Authenticate``) is ``Basic realm=...`` (send the credentials) or ``Bearer realm=...,service=...,
scope=...``: ask the realm for a token for this repository and action, with the credentials if there are any
(anonymous otherwise), and send it as ``Authorization: Bearer``.

>>> parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"')
('bearer', {'realm': 'https://auth.example/token', 'service': 'registry.example', 'scope': 'repository:a:pull'})
>>> config_key("https://index.docker.io/v1/"), config_key("http://127.0.0.1:5000/v2/")
('docker.io', '127.0.0.1:5000')
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dockit.errors import ArchiveError

DOCKER_HUB = "docker.io"
HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or token), and where they were found (for error messages)."""

    username: str
    password: str
    origin: str

    def basic(self) -> str:
        """The ``Authorization: Basic`` value."""
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def config_dir() -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker``."""
    given = os.environ.get("DOCKER_CONFIG")
    return Path(given) if given else Path.home() / ".docker"


def config_key(key: str) -> str:
    """A config.json ``auths`` key as a bare host: scheme and path dropped, Docker Hub's aliases made one."""
    host = re.sub(r"^[a-z]+://", "", key.strip()).split("/", 1)[0]
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io", DOCKER_HUB) else host


def _load_config(path: Path) -> dict[str, object]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise ArchiveError(f"cannot read credentials: {e}", path=str(path)) from None
    if not isinstance(doc, dict):
        raise ArchiveError("not a JSON object", path=str(path))
    return doc


def _helper(name: str, host: str, origin: str) -> Credentials | None:
    binary = shutil.which(f"docker-credential-{name}")
    if binary is None:
        raise ArchiveError(f"{origin} names docker-credential-{name}, which is not on PATH")
    keys = HUB_KEYS if host == DOCKER_HUB else (host, f"https://{host}")
    for key in keys:
        proc = subprocess.run([binary, "get"], input=key, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            continue  # "credentials not found in native keychain": try the next spelling of the host
        try:
            doc = json.loads(proc.stdout)
        except ValueError:
            raise ArchiveError(f"docker-credential-{name} get: not JSON") from None
        if isinstance(doc, dict) and doc.get("Secret"):
            return Credentials(str(doc.get("Username") or ""), str(doc["Secret"]), f"docker-credential-{name}")
    return None


def find_credentials(host: str) -> Credentials | None:
    """The credentials ``docker`` would use for ``host`` (``docker.io`` for Docker Hub), or None."""
    path = config_dir() / "config.json"
    config = _load_config(path)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if config_key(str(key)) == host and isinstance(name, str) and name:
                return _helper(name, host, f"{path} credHelpers")
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        found = _helper(store, host, f"{path} credsStore")
        if found is not None:
            return found
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if config_key(str(key)) != host or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, sep, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise ArchiveError(f"auths[{key!r}].auth is not base64 of user:password", path=str(path)) from None
            if sep:
                return Credentials(user, password, str(path))
        if entry.get("username") and entry.get("password"):
            return Credentials(str(entry["username"]), str(entry["password"]), str(path))
    return None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """The scheme (lower case) and parameters of a ``WWW-Authenticate`` header."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}
    return scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()}
