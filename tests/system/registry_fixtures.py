"""Registries as users meet them: Debian's docker-registry behind htpasswd basic auth, and behind a Bearer token
server (the challenge flow of Docker Hub, GHCR and most registries), with images pushed by skopeo.

Fixtures (session-scoped; every process stopped by its PID):

- ``basic_registry`` -> :class:`AuthRegistry`: docker-registry with ``auth.htpasswd`` (a bcrypt file written by
  ``htpasswd -B``, apache2-utils). Anonymous requests get ``401`` with ``WWW-Authenticate: Basic``.
- ``token_registry`` -> :class:`AuthRegistry`: docker-registry with ``auth.token``; its realm is a
  :class:`TokenServer` of ours on 127.0.0.1 that checks Basic credentials and issues RS256 JWTs (signed by
  ``openssl``, certificate chain in ``x5c``) granting per repository and action: anyone may pull ``public/*``,
  :data:`USER` may pull and push everything. The server records every scope asked (``.asked``).
- ``tls_registry`` -> :class:`AuthRegistry`: docker-registry serving HTTPS with a self-signed certificate, no auth.
- ``docker_login`` -> a function ``(registry, directory) -> DOCKER_CONFIG``: credentials stored by a real
  ``docker login`` (the harness daemon checks them against the registry and the client writes ``config.json``).

Push images with :meth:`AuthRegistry.push` (skopeo, credentials given on the command line).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.system.docker_fixtures import Dockerd, Registry, free_port, require, run, scratch_dir, self_signed, serving

USER, PASSWORD = "alice", "s3cret-pass"
SERVICE, ISSUER = "bi-registry", "bi-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A token server speaking the distribution token protocol (``GET /token?service=&scope=``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = root / "token.key"
        self.cert = root / "token.pem"
        self.asked: list[tuple[str, list[str]]] = []  # (user or "", scopes asked)
        self_signed(self.cert, self.key, "/CN=bi-token")
        pem = self.cert.read_text()  # x5c: the certificate's DER in standard base64, which is PEM's body
        self.x5c = "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        """Serve in a thread of the test process."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def grant(self, user: str, scope: str) -> dict[str, object] | None:
        """The access one scope (``repository:NAME:pull,push``) gets: what the user may do of what was asked."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind != "repository" or not name:
            return None
        allowed = {"pull", "push"} if user == USER else ({"pull"} if name.startswith("public/") else set())
        granted = [a for a in actions.split(",") if a in allowed]
        return {"type": "repository", "name": name, "actions": granted} if granted else None

    def token(self, user: str, scopes: list[str]) -> str:
        """A JWT for ``user`` granting what :meth:`grant` allows of ``scopes``."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        access = [g for g in (self.grant(user, s) for s in scopes) if g is not None]
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now}
        claims |= {"jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            [shutil.which("openssl") or "openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if url.path != "/token" or query.get("service") != [SERVICE]:
                    self.send_error(404)
                    return
                user = ""
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if (name, password) != (USER, PASSWORD):
                        self.send_response(401)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        self.wfile.write(b'{"details":"invalid username or password"}')
                        return
                    user = name
                scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
                server.asked.append((user, scopes))
                token = server.token(user, scopes)
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class AuthRegistry(Registry):
    """A :class:`Registry` with an ``auth`` section (or, ``kind`` "tls", HTTPS without auth), and its token server."""

    def __init__(self, root: Path, auth: str, kind: str, tls: bool = False) -> None:
        super().__init__(root, auth, tls)
        self.kind = kind  # "basic", "token" or "tls" (no auth)
        self.token_server: TokenServer | None = None

    def stop(self) -> None:
        """Stop the registry (and its token server) by PID and delete its storage."""
        super().stop()
        if self.token_server is not None:
            self.token_server.stop()

    def push(self, source: str, repository: str, *flags: str) -> str:
        """``skopeo copy SOURCE docker://HOST/REPOSITORY`` with the user's credentials; the reference pushed."""
        ref = f"{self.host}/{repository}"
        skopeo = require("skopeo")["skopeo"]
        creds = ["--dest-creds", f"{USER}:{PASSWORD}"]
        run([skopeo, "copy", "-q", "--dest-tls-verify=false", *creds, *flags, source, f"docker://{ref}"])
        return ref


def _htpasswd(root: Path) -> Path:
    path = root / "htpasswd"
    run([require("htpasswd")["htpasswd"], "-B", "-b", "-c", str(path), USER, PASSWORD])
    return path


@pytest.fixture(scope="session")
def basic_registry() -> Iterator[AuthRegistry]:
    """docker-registry with htpasswd (bcrypt) basic auth: :data:`USER`/:data:`PASSWORD`."""
    root = scratch_dir("registry-basic")
    auth = f"auth: {{htpasswd: {{realm: bi-basic, path: {_htpasswd(root)}}}}}\n"
    with serving(AuthRegistry(root, auth, "basic")) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry() -> Iterator[AuthRegistry]:
    """docker-registry with Bearer token auth, its realm a :class:`TokenServer` in this process."""
    root = scratch_dir("registry-token")
    tokens = TokenServer(root)
    auth = (
        f"auth: {{token: {{realm: '{tokens.realm}', service: {SERVICE}, issuer: {ISSUER}, "
        f"rootcertbundle: {tokens.cert}}}}}\n"
    )
    server = AuthRegistry(root, auth, "token")
    server.token_server = tokens
    tokens.start()
    with serving(server):
        yield server


@pytest.fixture(scope="session")
def tls_registry() -> Iterator[AuthRegistry]:
    """docker-registry serving HTTPS (a self-signed certificate for 127.0.0.1), no auth."""
    with serving(AuthRegistry(scratch_dir("registry-tls"), "", "tls", tls=True)) as server:
        yield server


@pytest.fixture(scope="session")
def docker_login(dockerd: Dockerd) -> Callable[[AuthRegistry, Path], Path]:
    """``login(registry, directory)``: ``docker --config DIRECTORY login`` to the registry as :data:`USER` (the
    daemon checks the credentials); DIRECTORY is then a DOCKER_CONFIG holding them as docker stores them."""

    def login(registry: AuthRegistry, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        run(
            [dockerd.client, "--config", str(directory), "login", "-u", USER, "--password-stdin", registry.host],
            env=dockerd.env,
            input=PASSWORD,
        )
        return directory

    return login


def credential_helper(directory: Path, registry: AuthRegistry) -> Path:
    """A ``docker-credential-bi`` in ``directory`` speaking the helper protocol (``get``: the server URL on stdin,
    ``{"Username", "Secret"}`` out; exit 1 for an unknown server, as docker-credential-helpers do)."""
    helper = directory / "docker-credential-bi"
    secret = json.dumps({"ServerURL": registry.host, "Username": USER, "Secret": PASSWORD})
    helper.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 2\n'
        "read -r server\n"
        f'[ "$server" = "{registry.host}" ] || {{ echo "credentials not found in native keychain"; exit 1; }}\n'
        f"echo '{secret}'\n"
    )
    helper.chmod(0o755)
    return helper
