"""When ``Registry.start`` counts the registry as up: ``/v2/`` answering 200, or 401 where the registry has an auth
section. Any other answer is a registry still starting, retried until it is up, its process exits or the deadline
passes.

The port is held by a small server of ours that answers ``/v2/`` with one status, so the real docker-registry cannot
bind it and exits: start must keep asking (seeing the process gone) instead of taking the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.system.docker_fixtures import Registry

pytestmark = pytest.mark.system


@contextmanager
def answering(port: int, status: int) -> Iterator[list[str]]:
    """An HTTP server on 127.0.0.1:``port`` answering every GET with ``status``; yields the paths asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("status", [401, 503, 404])
def test_a_plain_registry_is_not_up_on_an_error_status(status: int, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
    registry.root.mkdir()
    failed = pytest.raises(RuntimeError, match=f"docker-registry did not start on {registry.host}")
    with answering(registry.port, status) as asked, failed:
        registry.start(timeout=10)
    assert asked and set(asked) == {"/v2/"}
    assert registry.process is not None and registry.process.poll() is not None


def test_a_registry_with_auth_is_up_on_401(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry", auth="auth: {htpasswd: {realm: r, path: /nonexistent}}\n")
    registry.root.mkdir()
    with answering(registry.port, 401) as asked:
        try:
            registry.start(timeout=10)
        finally:
            registry.stop()
    assert asked == ["/v2/"]
