"""Web servers and object storage as rget meets them, each on 127.0.0.1 with a config of ours (never a system service).

``web`` (session): Apache httpd, lighttpd and Caddy from Debian and Python's http.server, all serving one
directory ``web.root`` (world-readable, in /tmp: Apache's workers run as www-data):

- ``apache``    httpd 2.4, mpm_event: Range, ETag and Last-Modified
- ``lighttpd``  a minimal config (as its docs start one): Range, but neither ETag nor Last-Modified
- ``caddy``     ``file_server``: Range, ETag, Last-Modified
- ``pyhttp``    ``python -m http.server``: no Range at all (always 200), Last-Modified only

``s3`` (session): moto's S3 server (``moto[server]``) behind a gate of ours that makes presigned URLs behave as real
S3's do, which moto alone does not: they expire (``X-Amz-Expires``: 403 "Request has expired") and are bound to their
method (HEAD on a GET signature: 403). ``s3.release(key)`` is a GitHub-releases-like URL answering 302 to a freshly
presigned one (expiring after ``s3.expires`` seconds). moto ignores If-Range, as the issue found: replacing an
object mid-download makes every later 206 carry the new ETag.

:func:`start_shaper`: the userland network shaper (tests/system/shaper.py) in front of any port: latency, a cap per
connection, 1-in-N stragglers. :func:`start_redirector`: a host that answers every GET with a 302 to the same path
on another port (a release page in front of its CDN), to put behind a shaper of its own.

Every process gets SIGTERM when the process that started it dies (PR_SET_PDEATHSIG), and the fixtures stop them.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.system.docker_fixtures import free_port, stop_process
from tests.system.http_fixtures import _die_with_parent

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("apache", "lighttpd", "caddy", "pyhttp")
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def _spawn(argv: list[str], log: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        **kwargs,
    )


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str, timeout: float = 20) -> None:
    """Until ``port`` accepts a connection; fail naming ``what`` and its log's tail if it exits or never listens."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port} within {timeout:g} s") from None
            time.sleep(0.05)


def _apache(prefix: Path, root: Path, port: int) -> list[str]:
    conf = prefix / "apache.conf"
    modules = ("mpm_event", "authz_core", "mime")
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
    conf.write_text(f"""ServerRoot {prefix}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {prefix}/apache.pid
ErrorLog {prefix}/apache-error.log
{loads}
User www-data
Group www-data
TypesConfig /etc/mime.types
DocumentRoot {root}
<Directory {root}>
  Require all granted
</Directory>
""")
    return ["apache2", "-f", str(conf), "-DFOREGROUND"]


def _lighttpd(prefix: Path, root: Path, port: int) -> list[str]:
    conf = prefix / "lighttpd.conf"
    conf.write_text(f"""server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{prefix}/lighttpd-error.log"
""")
    return ["lighttpd", "-D", "-f", str(conf)]


def _caddy(prefix: Path, root: Path, port: int) -> list[str]:
    conf = prefix / "Caddyfile"
    conf.write_text(f"""{{
    admin off
    auto_https off
    storage file_system {prefix}/caddy-data
}}
http://127.0.0.1:{port} {{
    root * {root}
    file_server
}}
""")
    return ["caddy", "run", "--config", str(conf), "--adapter", "caddyfile"]


def _pyhttp(prefix: Path, root: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)]


LAUNCHERS = {"apache": _apache, "lighttpd": _lighttpd, "caddy": _caddy, "pyhttp": _pyhttp}


@dataclass(frozen=True)
class Web:
    """The running servers: ``root`` is served by all of them; ``ports`` maps server name to port."""

    root: Path
    ports: dict[str, int]

    def url(self, server: str, name: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[server]}/{name.lstrip('/')}"

    def put(self, name: str, data: bytes) -> Path:
        """A world-readable file under the root (Apache's workers are www-data)."""
        path = self.root / name
        path.write_bytes(data)
        path.chmod(0o644)
        return path


@contextmanager
def start_web(prefix: Path, servers: tuple[str, ...] = SERVERS) -> Iterator[Web]:
    """Run ``servers`` with configs, logs and state under ``prefix``, serving a fresh world-readable directory."""
    wanted = [b for b, s in (("apache2", "apache"), ("lighttpd", "lighttpd"), ("caddy", "caddy")) if s in servers]
    missing = [b for b in wanted if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
    if missing:
        raise RuntimeError(f"missing {' '.join(missing)}: tests/system/debian-packages.txt, `make debs`")
    prefix.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="rget-www-"))
    root.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = {name: free_port() for name in servers}
        for name in servers:
            log = prefix / f"{name}.log"
            env = {"PATH": "/usr/sbin:/usr/bin:/bin", "HOME": str(prefix), "XDG_DATA_HOME": str(prefix)}
            procs.append(_spawn(LAUNCHERS[name](prefix, root, ports[name]), log, env=env))
            wait_port(ports[name], procs[-1], log, name)
        yield Web(root, ports)
    finally:
        for proc in procs:
            stop_process(proc, timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """Apache, lighttpd, Caddy and http.server on 127.0.0.1 (see the module docstring)."""
    try:
        with start_web(tmp_path_factory.mktemp("web")) as servers:
            yield servers
    except RuntimeError as e:
        pytest.fail(str(e))


# --- S3: moto behind a gate that expires presigned URLs and binds them to their method -------------------------

BUCKET = "rget-test"


def _expired(query: dict[str, list[str]]) -> bool:
    date, expires = query.get("X-Amz-Date", [""])[0], query.get("X-Amz-Expires", [""])[0]
    if not date or not expires.isdigit():
        return False
    signed = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    return time.time() > signed + int(expires)


def _s3_error(handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(body) if handler.command != "HEAD" else 0))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


@dataclass
class S3:
    """moto's S3 on ``moto_port``, reached through the gate on ``port`` (see the module docstring)."""

    moto_port: int
    port: int = 0
    expires: int = 60
    delay: float = 0.0
    """Seconds the gate waits before forwarding each GET (makes a small download outlive its URL)."""
    client: Any = None
    """boto3, signing URLs for the gate."""
    admin: Any = None
    """boto3 straight to moto: bucket and object writes (the gate forwards only presigned GETs)."""
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, key: str, data: bytes) -> None:
        self.admin.put_object(Bucket=BUCKET, Key=key, Body=data)

    def presigned(self, key: str, expires: int | None = None) -> str:
        """A GET URL signed with SigV4, valid for ``expires`` seconds (default ``self.expires``)."""
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires or self.expires
            )
        )

    def release(self, key: str) -> str:
        """A GitHub-releases-like URL: each request is answered 302 to a freshly presigned URL."""
        return f"{self.endpoint}/releases/download/{key}"

    def gets(self, key: str) -> list[dict[str, str]]:
        """Headers of the GETs of the object (through the gate), in arrival order."""
        with self.lock:
            return [h for m, p, h in self.requests if m == "GET" and urlsplit(p).path == f"/{BUCKET}/{key}"]


def _gate(s3: S3) -> ThreadingHTTPServer:
    class Gate(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            with s3.lock:
                s3.requests.append((self.command, self.path, dict(self.headers.items())))
            parts = urlsplit(self.path)
            if parts.path.startswith("/releases/download/"):
                key = parts.path.removeprefix("/releases/download/")
                location = s3.presigned(key)
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            query = parse_qs(parts.query)
            if "X-Amz-Signature" not in query:
                _s3_error(self, 403, "AccessDenied", "Access Denied")
                return
            if _expired(query):
                _s3_error(self, 403, "AccessDenied", "Request has expired")
                return
            if self.command != "GET":  # the signature covers the method: a GET URL cannot HEAD
                _s3_error(self, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
                return
            self._forward()

        def _forward(self) -> None:
            if s3.delay:
                time.sleep(s3.delay)
            conn = http.client.HTTPConnection("127.0.0.1", s3.moto_port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("range", "if-range", "host")}
            conn.request("GET", self.path, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "server", "date"):
                    self.send_header(k, v)
            self.end_headers()
            try:
                while chunk := resp.read(64 * 1024):
                    self.wfile.write(chunk)
            except OSError:
                self.close_connection = True  # the client hung up (a range cut short on purpose)
            finally:
                conn.close()

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    return Quiet(("127.0.0.1", 0), Gate)


@contextmanager
def start_s3(prefix: Path) -> Iterator[S3]:
    """moto_server and the gate; a bucket ``rget-test``; boto3 signs against the gate (``s3.client``)."""
    import boto3
    from botocore.config import Config

    prefix.mkdir(parents=True, exist_ok=True)
    moto = Path(sys.executable).parent / "moto_server"
    port = free_port()
    log = prefix / "moto.log"
    proc = _spawn([str(moto), "-H", "127.0.0.1", "-p", str(port)], log)
    gate: ThreadingHTTPServer | None = None
    try:
        wait_port(port, proc, log, "moto_server", timeout=60)
        s3 = S3(moto_port=port)
        gate = _gate(s3)
        s3.port = int(gate.server_address[1])
        threading.Thread(target=gate.serve_forever, daemon=True).start()
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        keys = {"aws_access_key_id": "AKIARGETTEST", "aws_secret_access_key": "rget-test-secret"}
        s3.client = boto3.client("s3", endpoint_url=s3.endpoint, region_name="us-east-1", config=config, **keys)
        s3.admin = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", config=config, **keys
        )
        s3.admin.create_bucket(Bucket=BUCKET)
        yield s3
    finally:
        if gate is not None:
            gate.shutdown()
            gate.server_close()
        stop_process(proc, timeout=10)


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """moto's S3 behind the expiring, method-bound presigned-URL gate and its GitHub-like redirector."""
    with start_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


# --- the shaper ---------------------------------------------------------------------------------------------------


@contextmanager
def start_shaper(
    upstream: int, *, rtt: float = 0.0, rate: str = "0", straggle: int = 0, fraction: float = 0.1
) -> Iterator[int]:
    """tests/system/shaper.py in front of 127.0.0.1:``upstream``; yields its port. It exits when we close its stdin."""
    argv = [sys.executable, "-m", "tests.system.shaper", "--upstream", str(upstream), "--rtt", str(rtt)]
    argv += ["--rate", rate, "--straggle", str(straggle), "--fraction", str(fraction)]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"shaper did not start (exit {proc.poll()})")
        yield int(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        stop_process(proc, timeout=5)


@contextmanager
def start_redirector(target: int) -> Iterator[int]:
    """A server on 127.0.0.1 answering every GET with ``302`` to the same path on 127.0.0.1:``target`` (keep-alive,
    as GitHub's release URLs answer); yields its port."""

    class Redirect(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
