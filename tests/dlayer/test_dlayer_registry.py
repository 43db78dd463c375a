"""dlayer reads a registry with no daemon: real docker-registry servers (anonymous, htpasswd basic auth, a Bearer
token server), images pushed by skopeo, credentials stored by a real ``docker login``. The same image gives the
same figures and JSON whether it comes from an archive, a pipe, the daemon or any registry."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.dlayer.archives import TAG, archives
from tests.system.docker_fixtures import Dockerd, Registry
from tests.system.registry_fixtures import PASSWORD, USER, AuthRegistry, credential_helper

__all__ = ["archives"]
pytestmark = pytest.mark.system

DLAYER = Path(sys.executable).with_name("dlayer")


def dlayer(
    *args: str, env: Mapping[str, str] | None = None, stdin: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    with open(stdin or os.devnull, "rb") as f:
        return subprocess.run([DLAYER, *args], stdin=f, capture_output=True, text=True, env={**base, **(env or {})})


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def one_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def without_ids(text: str) -> Any:
    """The JSON with each layer's ``id`` dropped: it names the archive member (``<v1 id>/layer.tar`` in a docker
    save, ``blobs`` in an OCI layout), a property of the container the image came in, not of the image."""
    doc = json.loads(text)
    for layer in doc["layer"]:
        layer.pop("id")
    return doc


@pytest.fixture(scope="module")
def nobody(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment with an empty DOCKER_CONFIG (no credentials) and no daemon."""
    return {"DOCKER_CONFIG": str(tmp_path_factory.mktemp("no-credentials")), "DOCKER_HOST": "unix:///nonexistent"}


@pytest.fixture(scope="module")
def pushed(
    registry: Registry, basic_registry: AuthRegistry, token_registry: AuthRegistry, archives: dict[str, Path]
) -> dict[str, str]:
    """The fixture image pushed everywhere (skopeo compresses its layers with gzip), plus a zstd copy and the
    two-platform index: name -> reference."""
    skopeo = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
    refs = {"anon": f"{registry.host}/app:1", "zstd": f"{registry.host}/zstd:1", "multi": f"{registry.host}/multi:1"}
    subprocess.run([*skopeo, f"oci-archive:{archives['oci-gzip']}", f"docker://{refs['anon']}"], check=True)
    zstd = ["--preserve-digests"]  # else skopeo recompresses the layers with gzip
    subprocess.run([*skopeo, *zstd, f"oci-archive:{archives['oci-zstd']}", f"docker://{refs['zstd']}"], check=True)
    subprocess.run([*skopeo, "--all", f"oci-archive:{archives['multi-arch']}", f"docker://{refs['multi']}"], check=True)
    source = f"oci-archive:{archives['oci-gzip']}"
    refs["basic"] = basic_registry.push(source, "app:1")
    refs["private"] = token_registry.push(source, "private/app:1")
    refs["public"] = token_registry.push(source, "public/app:1")
    return refs


@pytest.fixture(scope="module")
def logged_in(
    docker_login: Callable[[AuthRegistry, Path], Path],
    basic_registry: AuthRegistry,
    token_registry: AuthRegistry,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """A DOCKER_CONFIG written by `docker login` to both auth registries."""
    config = tmp_path_factory.mktemp("docker-config")
    docker_login(basic_registry, config)
    docker_login(token_registry, config)
    return {"DOCKER_CONFIG": str(config), "DOCKER_HOST": "unix:///nonexistent"}


def test_a_registry_image_reads_like_its_archive(
    pushed: dict[str, str], archives: dict[str, Path], nobody: dict[str, str]
) -> None:
    archive = ok(dlayer(str(archives["oci-gzip"]), "-j", "-"))
    ref = pushed["anon"]
    auto = dlayer(ref, "-j", "-", env=nobody)
    assert ok(auto) == archive  # the same blobs: the same JSON, to the byte
    assert (
        auto.stderr
        == f"dlayer: reading {ref} (linux/amd64, 4 layers, 1.6 MB to fetch) from the registry at http://{ref.split('/')[0]}\n"
    )
    assert ok(dlayer(f"registry://{ref}", "-j", "-", "-q", "-P", "1", env=nobody)) == archive
    assert ok(dlayer("--source", "registry", ref, "-j", "-", env=nobody)) == archive
    hashed = ok(dlayer(str(archives["oci-gzip"]), "-q", "--duplicates", "-j", "-"))
    assert json.loads(hashed)["duplicates"]["savedBytes"] > 0  # the example's base holds 20 copies of one doc
    assert ok(dlayer(ref, "-q", "--duplicates", "-j", "-", env=nobody)) == hashed  # digests through the registry
    text = ok(dlayer(ref, "-q", env=nobody))
    manifest = json.loads(
        subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], capture_output=True, check=True
        ).stdout
    )
    from dlayer.units import human

    for n, layer in enumerate(manifest["layers"]):  # each layer says what pulling it costs, from the manifest
        assert f"({human(layer['size'])} gzip to pull" in text.split(f"\n[{n}] ", 1)[1].split("\n", 1)[0]


def test_the_same_image_every_way_gives_the_same_figures_and_json(
    pushed: dict[str, str],
    archives: dict[str, Path],
    dockerd: Dockerd,
    logged_in: dict[str, str],
    nobody: dict[str, str],
    tmp_path: Path,
) -> None:
    dockerd.load(archives["docker-save"])
    gz = tmp_path / "image.tar.gz"
    gz.write_bytes(gzip.compress(archives["docker-save"].read_bytes(), 1))
    daemon = {"DOCKER_HOST": dockerd.host}
    ways = {
        "archive": dlayer(str(archives["docker-save"]), "-j", "-"),
        "gzip archive": dlayer(str(gz), "-j", "-"),
        "pipe": dlayer("-j", "-", stdin=gz),
        "oci layout": dlayer(str(archives["oci-dir"]), "-j", "-"),
        "daemon": dlayer(f"docker://{TAG}", "-j", "-", env=daemon),
        "registry, anonymous": dlayer(pushed["anon"], "-j", "-", env=nobody),
        "registry, zstd layers": dlayer(pushed["zstd"], "-j", "-", env=nobody),
        "registry, basic auth": dlayer(pushed["basic"], "-j", "-", env=logged_in),
        "registry, bearer token": dlayer(pushed["private"], "-j", "-", env=logged_in),
        "registry, anonymous token": dlayer(pushed["public"], "-j", "-", env=nobody),
    }
    docs = {way: without_ids(ok(proc)) for way, proc in ways.items()}
    first = docs["archive"]
    assert first["image"]["wastedBytes"] == 505006
    for way, doc in docs.items():
        assert doc == first, way
    assert ok(ways["daemon"]) == ok(ways["archive"])  # the daemon's save is the archive, ids and all


def test_platform_is_chosen_from_the_index(pushed: dict[str, str], nobody: dict[str, str]) -> None:
    ref = pushed["multi"]
    host = ok(dlayer(ref, "-j", "-", env=nobody))
    amd64 = ok(dlayer(ref, "--platform", "linux/amd64", "-j", "-", env=nobody))
    arm64 = dlayer(ref, "--platform", "linux/arm64", env=nobody)
    assert host == amd64  # this machine is linux/amd64: the default is the host's, as docker pull picks
    assert ok(arm64).startswith(f"{ref}  linux/arm64  registry (oci manifest)\n")
    assert "(linux/arm64, 1 layer," in arm64.stderr
    one_line(
        dlayer(ref, "--platform", "linux/s390x", env=nobody),
        2,
        f"{ref} has no linux/s390x image; it has: linux/amd64, linux/arm64",
    )
    zstd = ok(dlayer(pushed["zstd"], "-q", env=nobody))
    assert zstd.count(" zstd to pull") == 4 and " gzip to pull" not in zstd


def test_basic_auth_401_without_credentials_200_with_them(
    pushed: dict[str, str],
    basic_registry: AuthRegistry,
    logged_in: dict[str, str],
    nobody: dict[str, str],
    tmp_path: Path,
) -> None:
    ref, host = pushed["basic"], basic_registry.host
    config = Path(nobody["DOCKER_CONFIG"]) / "config.json"
    one_line(
        dlayer(ref, env=nobody),
        1,
        f"{host} answers 401 unauthorized for app",
        f"no credentials found for {host} in {config}",
    )
    stored = json.loads((Path(logged_in["DOCKER_CONFIG"]) / "config.json").read_text())
    assert base64.b64decode(stored["auths"][host]["auth"]).decode() == f"{USER}:{PASSWORD}"  # as docker login wrote it
    good = dlayer(ref, "-j", "-", env=logged_in)
    assert ok(good) and good.stderr.endswith(f"from the registry at http://{host}, as {USER}\n")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "config.json").write_text(
        json.dumps({"auths": {host: {"auth": base64.b64encode(b"alice:nope").decode()}}})
    )
    one_line(
        dlayer(ref, env={"DOCKER_CONFIG": str(wrong)}),
        1,
        f"{host} answers 401",
        f"the credentials of {wrong / 'config.json'} for {host} were not accepted",
    )


def test_bearer_tokens_per_repository_and_credential_helpers(
    pushed: dict[str, str],
    token_registry: AuthRegistry,
    logged_in: dict[str, str],
    nobody: dict[str, str],
    tmp_path: Path,
) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    host = token_registry.host
    tokens.asked.clear()
    one_line(
        dlayer(pushed["private"], env=nobody),
        1,
        f"{host} answers 401 unauthorized for private/app",
        "no credentials found",
    )
    assert ("", ["repository:private/app:pull"]) in tokens.asked  # asked anonymously, for pull of that repository only
    ok(dlayer(pushed["private"], env=logged_in))
    assert (USER, ["repository:private/app:pull"]) in tokens.asked
    # credHelpers: the secret comes from docker-credential-<name>, not from config.json
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {host: "bi"}}))
    credential_helper(tmp_path, token_registry)
    env = {"DOCKER_CONFIG": str(tmp_path), "PATH": f"{tmp_path}:{os.environ['PATH']}", "DOCKER_HOST": "unix:///x"}
    assert ok(dlayer(pushed["private"], "-j", "-", env=env)) == ok(dlayer(pushed["private"], "-j", "-", env=logged_in))
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "missing-helper"}))
    one_line(
        dlayer(pushed["private"], env=env), 1, "credsStore names docker-credential-missing-helper, which is not on PATH"
    )


def test_unknown_images_and_missing_registries_are_one_line(
    pushed: dict[str, str], registry: Registry, dockerd: Dockerd, nobody: dict[str, str]
) -> None:
    daemon = {"DOCKER_HOST": dockerd.host, "DOCKER_CONFIG": nobody["DOCKER_CONFIG"]}
    one_line(
        dlayer(f"{registry.host}/nope:1", env=daemon),
        1,
        f"{registry.host}/nope:1 is not in the Docker daemon at {dockerd.host}, and ",
        f"registry says 404 for {registry.host}/nope:1\n",
    )
    one_line(
        dlayer(f"registry://{registry.host}/app:nope", env=nobody), 1, f"registry says 404 for {registry.host}/app:nope"
    )
    from tests.system.docker_fixtures import free_port

    gone = f"127.0.0.1:{free_port()}"
    one_line(dlayer(f"registry://{gone}/app:1", env=nobody), 1, f"no registry answers at {gone}", "refused")
    one_line(dlayer("registry://Bad/Name", env=nobody), 2, "must be lower case")


class Flaky:
    """A reverse proxy to a registry that fails the way networks do: the first manifest request gets a 503, and the
    first download of each big blob stops halfway (the connection closes under the client). Records the requests."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, str]] = []  # (path, Range header)
        self.cut: set[str] = set()
        self.failed_manifest = False
        self.ignore_range = False  # as a server without Range support: the whole blob, 200
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                wanted = self.headers.get("Range", "")
                proxy.seen.append((self.path, wanted))
                if "/manifests/" in self.path and not proxy.failed_manifest:
                    proxy.failed_manifest = True
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                forward = ("accept", "authorization") if proxy.ignore_range else ("accept", "range", "authorization")
                headers = {k: v for k, v in self.headers.items() if k.lower() in forward}
                request = urllib.request.Request(proxy.upstream + self.path, headers=headers)
                try:
                    upstream = urllib.request.urlopen(request, timeout=30)
                except urllib.error.HTTPError as e:
                    upstream = e
                with upstream:
                    body = upstream.read()
                    self.send_response(upstream.status)
                    for key, value in upstream.headers.items():
                        if key.lower() not in ("content-length", "connection", "transfer-encoding", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                blob = "/blobs/" in self.path and not wanted and len(body) > 100_000
                if blob and self.path not in proxy.cut:
                    proxy.cut.add(self.path)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_a_broken_download_resumes_where_it_stopped_and_a_503_is_retried(
    pushed: dict[str, str], registry: Registry, nobody: dict[str, str]
) -> None:
    flaky = Flaky(registry.url)
    try:
        direct = ok(dlayer(pushed["anon"], "-j", "-", env=nobody))
        through = dlayer(f"{flaky.host}/app:1", "-j", "-", "-q", env=nobody)
        assert ok(through) == direct.replace(registry.host, flaky.host)
    finally:
        flaky.httpd.shutdown()
        flaky.httpd.server_close()
    assert flaky.failed_manifest and len(flaky.cut) >= 2  # the 1.1 MB and 302 kB layers were both cut
    for path in flaky.cut:
        ranges = [r for p, r in flaky.seen if p == path and r]
        assert len(ranges) == 1 and ranges[0].startswith("bytes=") and ranges[0].endswith("-"), ranges
        assert int(ranges[0][6:-1]) > 0  # resumed from the byte reached, not from the start


def test_a_diff_of_two_tags_fetches_the_shared_layers_once(
    pushed: dict[str, str], registry: Registry, nobody: dict[str, str], archives: dict[str, Path]
) -> None:
    """B's layers whose diff ids A had (all four: the zstd copy of the gzip image) are not fetched again: only their
    first block is, for their compression. The comparison is the one the two archives give."""
    flaky = Flaky(registry.url)
    try:
        got = dlayer("diff", "-q", f"{flaky.host}/app:1", f"{flaky.host}/zstd:1", "-j", "-", env=nobody)
    finally:
        flaky.httpd.shutdown()
        flaky.httpd.server_close()
    doc = json.loads(ok(got))
    want = json.loads(ok(dlayer("diff", "-q", str(archives["oci-gzip"]), str(archives["oci-zstd"]), "-j", "-")))
    assert doc["changes"] == want["changes"] == [] and doc["sharedLayers"] == want["sharedLayers"]
    assert len(doc["sharedLayers"]) == 4
    zstd_blobs = sorted(r for p, r in flaky.seen if p.startswith("/v2/zstd/blobs/"))
    assert zstd_blobs == ["", *["bytes=0-511"] * 4]  # the config, then each layer's first block


def test_a_diff_fetches_only_what_b_changed_and_b_reads_as_it_would_alone(
    pushed: dict[str, str],
    registry: Registry,
    nobody: dict[str, str],
    archives: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B is A's real layers with its third replaced (and its fourth kept above the change): read after A with one
    cache, B equals B read without it, only the new layer is fetched, and the three A had get a first-block request
    each (the cache hands back entries by diff id, at any position: a wrong hit would show)."""
    from dockit.archive import LayerCache
    from dockit.archive.sources import open_image
    from tests.shared.archive_builders import docker_archive, tar_bytes

    with tarfile.open(archives["docker-save"]) as tar:
        names = json.loads(_member(tar, "manifest.json"))[0]["Layers"]
        real = [_member(tar, n) for n in names]
    changed = tar_bytes([("app/data/other.bin", os.urandom(50_000)), ("app/data/small.txt", b"changed\n")])
    b_archive = tmp_path / "b.tar"
    b_archive.write_bytes(docker_archive([real[0], real[1], changed, real[3]]))
    ref = f"{registry.host}/changed:1"
    skopeo = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
    subprocess.run([*skopeo, f"docker-archive:{b_archive}", f"docker://{ref}"], check=True)
    monkeypatch.setenv("DOCKER_CONFIG", nobody["DOCKER_CONFIG"])
    flaky = Flaky(registry.url)
    try:
        flaky.failed_manifest = True  # no 503 here: the requests are what is counted
        cache = LayerCache()
        open_image(f"registry://{flaky.host}/app:1", cache=cache)
        before = len(flaky.seen)
        with_cache = open_image(f"registry://{flaky.host}/changed:1", cache=cache)
        fetched = [r for p, r in flaky.seen[before:] if p.startswith("/v2/changed/blobs/")]
    finally:
        flaky.httpd.shutdown()
        flaky.httpd.server_close()
    alone = open_image(f"registry://{ref}")
    assert with_cache.layers == alone.layers
    assert [e.path for e in with_cache.layers[2].entries] == ["app/data/other.bin", "app/data/small.txt"]
    assert sorted(fetched) == ["", "", *["bytes=0-511"] * 3]  # the config, the new layer; a block of each other
    assert not [p for p in flaky.cut if "/changed/" in p]  # the new layer (under 100 kB) came whole, at once


def test_a_cached_layer_blob_s_first_block_empty_or_answered_whole(
    pushed: dict[str, str], registry: Registry, nobody: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0-byte layer blob (a writer's layer with no changes), held in the cache: a Range request for its first
    block would get 416 from the registry; it is not sent, and the diff reads. A server that ignores the Range
    and answers 200 with the whole blob is read as far as the first block."""
    from dockit.archive import LayerCache
    from dockit.archive.sources import open_image
    from tests.shared.archive_builders import oci_layout, tar_bytes

    layout = oci_layout(tmp_path / "layout", [tar_bytes([("hello", b"hi\n")]), b""])
    ref = f"{registry.host}/empty:1"
    push = ["skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:1"]
    subprocess.run([*push, f"docker://{ref}"], check=True)
    flaky = Flaky(registry.url)
    try:
        flaky.failed_manifest = True
        proxied = f"registry://{flaky.host}/empty:1"
        doc = json.loads(ok(dlayer("diff", "-q", proxied, proxied, "-j", "-", env=nobody)))
    finally:
        flaky.httpd.shutdown()
        flaky.httpd.server_close()
    assert len(doc["sharedLayers"]) == 2 and doc["changes"] == []
    empty = "/v2/empty/blobs/sha256:" + hashlib.sha256(b"").hexdigest()
    assert [r for p, r in flaky.seen if p == empty] == [""]  # fetched (0 bytes) by the first read only
    monkeypatch.setenv("DOCKER_CONFIG", nobody["DOCKER_CONFIG"])
    whole = Flaky(registry.url)
    try:
        whole.failed_manifest = whole.ignore_range = True
        cache = LayerCache()
        open_image(f"registry://{whole.host}/app:1", cache=cache)
        got = open_image(f"registry://{whole.host}/zstd:1", cache=cache)
    finally:
        whole.httpd.shutdown()
        whole.httpd.server_close()
    assert [layer.compression for layer in got.layers] == ["zstd"] * 4  # told from the first block of the 200
    assert got.layers == open_image(f"registry://{pushed['zstd']}").layers


def test_a_diff_names_the_side_each_line_on_stderr_is_about(
    pushed: dict[str, str], registry: Registry, dockerd: Dockerd, archives: dict[str, Path]
) -> None:
    """B from the daemon (a stream, read whole) is read before A from the registry: its line comes first, so each
    line says which side it is about, and B's why it came first."""
    dockerd.load(archives["docker-save"])
    env = {"DOCKER_HOST": dockerd.host, "DOCKER_CONFIG": dockerd.env["DOCKER_CONFIG"]}
    proc = dlayer("diff", f"registry://{pushed['anon']}", f"docker://{TAG}", env=env)
    assert ok(proc)
    assert proc.stderr.splitlines() == [
        f"dlayer: B (read first, as it is read whole): reading {TAG} from the Docker daemon at {dockerd.host}",
        f"dlayer: A: reading {pushed['anon']} (linux/amd64, 4 layers, 0.0 MB to fetch, 4 of them read before) "
        f"from the registry at {registry.url}",
    ]


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    assert f is not None
    return f.read()


def test_https_first_even_on_loopback(
    tls_registry: AuthRegistry, archives: dict[str, Path], nobody: dict[str, str]
) -> None:
    ref = tls_registry.push(f"oci-archive:{archives['oci-gzip']}", "app:1")
    proc = dlayer(ref, "-j", "-", env=nobody)
    assert ok(proc) == ok(dlayer(str(archives["oci-gzip"]), "-j", "-"))
    assert proc.stderr.endswith(f"from the registry at https://{tls_registry.host}\n")  # a loopback registry may be
    # plain HTTP, but HTTPS is tried first (and any certificate taken, as Docker does for insecure registries)


def test_a_platform_the_daemon_lacks_comes_from_the_registry(pushed: dict[str, str], dockerd: Dockerd) -> None:
    ref = pushed["multi"]
    dockerd.docker("pull", "-q", ref)  # the daemon now holds the amd64 image under the same name
    env = {"DOCKER_HOST": dockerd.host}
    local = dlayer(ref, env=env)
    assert ok(local) and local.stderr == f"dlayer: reading {ref} from the Docker daemon at {dockerd.host}\n"
    other = dlayer(ref, "--platform", "linux/arm64", env=env)
    assert ok(other).startswith(f"{ref}  linux/arm64  registry (oci manifest)\n")
    assert "from the registry at http://" in other.stderr
