"""The registry source: an image read straight from a registry, no daemon, nothing stored.

The OCI distribution API: ``/v2/<name>/manifests/<tag>`` (an index or manifest list picks the platform asked for,
else this host's, as ``docker pull`` does), the config blob, then every layer blob fetched in parallel, each
streamed through its decompressor into the tar header reader as it arrives, its digest checked at the end. A
connection that breaks resumes where it stopped (``Range``); 408/425/429/5xx are retried with backoff, as rget
does. HTTPS always, plain HTTP only for loopback registries (as Docker allows) or with ``insecure``; both of those
try HTTPS first and accept any certificate, like Docker's insecure registries. Auth: see
:mod:`dockit.archive.sources.registry_auth`.

requests (not http.client as for the daemon) because a registry is the open internet: proxies from the
environment, redirects to blob storage that must drop our Authorization header, connection pools per host.

>>> ref = parse_target("nginx")
>>> ref.host, ref.repository, ref.reference, str(ref)
('docker.io', 'library/nginx', 'latest', 'docker.io/library/nginx:latest')
"""

from __future__ import annotations

import hashlib
import ipaddress
import platform as host_platform
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockit.archive.candidate import platform_of
from dockit.archive.documents import config_history, config_layers, expect, load
from dockit.archive.layers import compression_of, scan_layer
from dockit.archive.model import Entry, HistoryEntry, Image, Layer, Platform
from dockit.archive.sources import NotFound, Request, Unreachable
from dockit.archive.sources.registry_auth import DOCKER_HUB, Credentials, config_dir, find_credentials, parse_challenge
from dockit.archive.store import Cached
from dockit.archive.tarstream import BLOCK, CHUNK, BufferedSource
from dockit.errors import ArchiveError, DockitError, UsageError
from dockit.reference import parse_reference

if TYPE_CHECKING:
    import requests

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})  # what rget retries
RETRIES = 5
MAX_MANIFEST = 4 << 20  # distribution itself refuses manifests over 4 MiB
TIMEOUT = (10.0, 120.0)  # connect, and between two reads
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm/v7"}
_ARCH |= {"armv6l": "arm/v6", "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}


@dataclass(frozen=True, slots=True)
class Target:
    """A registry, a repository in it, and a tag or digest; ``str()`` is the full name docker would show."""

    host: str
    repository: str
    reference: str

    def __str__(self) -> str:
        sep = "@" if ":" in self.reference else ":"
        return f"{self.host}/{self.repository}{sep}{self.reference}"


def parse_target(text: str) -> Target:
    """An image reference, normalized as docker does: Docker Hub by default, ``library/`` for its official images,
    ``latest`` without tag or digest."""
    try:
        ref = parse_reference(text)
    except DockitError as e:
        raise UsageError(e.message) from None
    host = ref.domain or DOCKER_HUB
    path = ref.path
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return Target(host, path, ref.digest or ref.tag or "latest")


def default_platform() -> str:
    """This host's platform as ``docker pull`` picks it from an index (``linux/amd64``, ``linux/arm/v7``)."""
    return "linux/" + _ARCH.get(host_platform.machine().lower(), host_platform.machine().lower())


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``name[:port]``) is on this machine: Docker talks plain HTTP to those.

    >>> is_loopback("127.0.0.1:5000"), is_loopback("localhost"), is_loopback("[::1]:80"), is_loopback("ghcr.io")
    (True, True, True, False)
    """
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """About ``base * 2**(attempt-1)`` seconds, between half and all of it (jitter), capped."""
    delay = min(cap, base * float(2 ** max(attempt - 1, 0)))
    return delay / 2 + random.random() * delay / 2


class Client:
    """One repository of one registry: the scheme chosen, the auth negotiated, requests retried."""

    def __init__(self, target: Target, insecure: bool, pool: int) -> None:
        import requests
        import requests.adapters

        self.target = target
        self.api_host = "registry-1.docker.io" if target.host == DOCKER_HUB else target.host
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(pool, 1) + 2)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.lenient = insecure or is_loopback(target.host)
        # passed on every request: a session-wide verify=False loses to REQUESTS_CA_BUNDLE in the environment
        self.verify = not self.lenient
        if self.lenient:  # any certificate is the rule here, not a mistake to warn about on every request
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.base = ""
        self.credentials: Credentials | None = None
        self.looked_for_credentials = False
        self.authorization: str | None = None
        self.lock = threading.Lock()

    # -- connection and auth

    def connect(self) -> None:
        """Choose the scheme (HTTPS, or HTTP where allowed and HTTPS does not answer) with a ``GET /v2/``."""
        import requests

        schemes = ["https", "http"] if self.lenient else ["https"]
        last: Exception | None = None
        for scheme in schemes:
            try:
                response = self._send(f"{scheme}://{self.api_host}/v2/", {}, stream=False)
            except requests.exceptions.SSLError as e:
                last = e
                continue
            except requests.exceptions.ConnectionError as e:
                last = e
                continue
            self.base = f"{scheme}://{self.api_host}"
            if response.status_code == 401:
                self.authenticate(response)
            return
        raise Unreachable(f"no registry answers at {self.api_host} ({_why(last)})")

    def _send(self, url: str, headers: dict[str, str], stream: bool) -> requests.Response:
        """One GET, retried on broken connections and on the statuses rget retries."""
        import requests

        for attempt in range(RETRIES + 1):
            try:
                response = self.session.get(url, headers=headers, stream=stream, timeout=TIMEOUT, verify=self.verify)
            except requests.exceptions.SSLError:
                raise
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                refused = "refused" in str(e).lower()
                if attempt == RETRIES or (refused and not self.base):
                    raise  # nobody listens: say so now (while choosing the scheme), not after 6 tries
                time.sleep(backoff(attempt + 1))
                continue
            if response.status_code in RETRY_STATUS and attempt < RETRIES:
                wait = response.headers.get("Retry-After", "")
                response.close()
                time.sleep(min(float(wait), 30.0) if wait.isdigit() else backoff(attempt + 1))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_credentials(self) -> Credentials | None:
        if not self.looked_for_credentials:
            self.credentials = find_credentials(self.target.host)
            self.looked_for_credentials = True
        return self.credentials

    def authenticate(self, response: requests.Response) -> None:
        """Answer a 401's challenge: Basic with the stored credentials, or a Bearer token from the realm."""
        header = response.headers.get("WWW-Authenticate", "")
        response.close()
        scheme, params = parse_challenge(header)
        creds = self._find_credentials()
        if scheme == "basic":
            if creds is None:
                raise self.refused(401, "")
            self.authorization = creds.basic()
        elif scheme == "bearer" and params.get("realm"):
            self.authorization = "Bearer " + self._token(params, creds)
        else:
            raise ArchiveError(f"{self.target.host} asks for authentication this client does not speak: {header!r}")

    def _token(self, params: dict[str, str], creds: Credentials | None) -> str:
        import requests

        query = {"scope": f"repository:{self.target.repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        headers = {"Authorization": creds.basic()} if creds else {}
        try:
            reply = self.session.get(
                params["realm"], params=query, headers=headers, timeout=TIMEOUT, verify=self.verify
            )
        except requests.exceptions.RequestException as e:
            raise ArchiveError(f"token server {params['realm']} of {self.target.host}: {_why(e)}") from None
        if reply.status_code in (401, 403):
            raise self.refused(reply.status_code, f" by its token server {params['realm']}")
        if reply.status_code != 200:
            raise ArchiveError(f"token server {params['realm']} of {self.target.host} answers {reply.status_code}")
        try:
            doc = reply.json()
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise ArchiveError(f"token server {params['realm']} of {self.target.host} sent no token")
        return token

    def refused(self, status: int, where: str) -> ArchiveError:
        """The one-line error for a 401/403: which registry, and whether credentials were found (and where)."""
        creds = self._find_credentials()
        if creds is None:
            found = f"no credentials found for {self.target.host} in {config_dir() / 'config.json'}"
        else:
            found = f"the credentials of {creds.origin} for {self.target.host} were not accepted"
        what = "unauthorized" if status == 401 else "forbidden"
        return ArchiveError(f"{self.target.host} answers {status} {what}{where} for {self.target.repository} ({found})")

    # -- requests

    def get(self, path: str, accept: str | None = None, extra: dict[str, str] | None = None) -> requests.Response:
        """``GET /v2/<repository>/<path>`` (streamed), authenticated, a 401 answered once by a new challenge."""
        url = f"{self.base}/v2/{self.target.repository}/{path}"
        for retry_auth in (True, False):
            headers = dict(extra or {})
            if accept:
                headers["Accept"] = accept
            if self.authorization:
                headers["Authorization"] = self.authorization
            response = self._send(url, headers, stream=True)
            if response.status_code == 401 and retry_auth:
                with self.lock:  # a token that expired mid-pull: one thread renews it for all
                    if self.authorization == headers.get("Authorization"):
                        self.authenticate(response)
                continue
            if response.status_code in (401, 403):
                response.close()
                raise self.refused(response.status_code, "")
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def document(self, path: str, what: str, accept: str | None = None, digest: str | None = None) -> tuple[bytes, str]:
        """A small JSON document (manifest, index, config): its bytes (digest checked when known) and media type."""
        response = self.get(path, accept)
        with response:
            if response.status_code == 404:
                raise NotFound(f"registry says 404 for {self.target}" + ("" if what == "manifest" else f" ({what})"))
            if response.status_code != 200:
                raise ArchiveError(f"{self.target.host} answers {response.status_code} for the {what} of {self.target}")
            body = response.raw.read(MAX_MANIFEST + 1, decode_content=True)
        if len(body) > MAX_MANIFEST:
            raise ArchiveError(f"the {what} of {self.target} is over {MAX_MANIFEST >> 20} MiB: refusing")
        if digest is not None:
            check_digest(body, digest, f"the {what} of {self.target}")
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        return body, media


def check_digest(data: bytes, digest: str, what: str) -> None:
    """Raise unless ``data`` hashes to ``digest`` (``sha256:...``/``sha512:...``)."""
    alg, _, want = digest.partition(":")
    if alg not in ("sha256", "sha384", "sha512"):
        raise ArchiveError(f"{what}: unsupported digest {digest!r}")
    if hashlib.new(alg, data).hexdigest() != want:
        raise ArchiveError(f"{what}: content does not match its digest {digest}")


def _why(e: BaseException | None) -> str:
    text = str(e) if e is not None else "no answer"
    for marker in ("Connection refused", "Name or service not known", "timed out", "certificate verify failed"):
        if marker in text:
            return marker
    return text[-200:]


def _json(body: bytes, what: str) -> dict[str, Any]:
    doc: dict[str, Any] = expect(load(body, what, ""), dict, what, "", "the document")
    return doc


class BlobStream(BufferedSource):
    """One blob's bytes as they arrive, hashed on the way; a broken connection resumes at the offset reached."""

    def __init__(self, client: Client, digest: str, size: int, label: str) -> None:
        super().__init__()
        self.client = client
        self.digest = digest
        self.size = size
        self.label = label
        alg = digest.partition(":")[0]
        if alg not in ("sha256", "sha384", "sha512"):
            raise ArchiveError(f"unsupported digest {digest!r}", path=label)
        self.hash = hashlib.new(alg)
        self.offset = 0
        self.failures = 0
        self.response = self._open()

    def _open(self) -> requests.Response:
        extra = {"Range": f"bytes={self.offset}-"} if self.offset else {}
        response = open_blob(self.client, self.digest, self.label, extra)
        if self.offset and response.status_code == 200:  # the server ignored Range: skip what we already have
            left = self.offset
            while left:
                got = response.raw.read(min(left, CHUNK))
                if not got:
                    break
                left -= len(got)
        return response

    def _pull(self, n: int) -> bytes:
        import requests
        import urllib3.exceptions

        while True:
            error: BaseException | None = None
            try:
                data: bytes = self.response.raw.read(n)
            except (OSError, urllib3.exceptions.HTTPError, requests.exceptions.RequestException) as e:
                data, error = b"", e
            if data:
                self.hash.update(data)
                self.offset += len(data)
                if self.offset > self.size:
                    raise ArchiveError(f"more bytes than the manifest says ({self.size})", path=self.label)
                return data
            if self.offset >= self.size:
                return b""
            self.failures += 1
            if self.failures > RETRIES:
                why = _why(error) if error else f"ended at byte {self.offset} of {self.size}"
                raise ArchiveError(f"download broke off: {why}", path=self.label)
            self.response.close()
            time.sleep(backoff(self.failures))
            self.response = self._open()

    def finish(self) -> None:
        """Read what the layer reader left (tar padding, a compressed trailer), then check size and digest."""
        while self.skip_rest():
            pass
        self.response.close()
        if self.offset != self.size:
            raise ArchiveError(f"got {self.offset} bytes, the manifest says {self.size}", path=self.label)
        if self.hash.hexdigest() != self.digest.partition(":")[2]:
            raise ArchiveError(f"content does not match its digest {self.digest}", path=self.label)

    def skip_rest(self) -> bool:
        """Drop buffered bytes and pull the next chunk; False at the end."""
        self._buf, self._off = b"", 0
        return bool(self._pull(CHUNK))


def open_blob(client: Client, digest: str, label: str, extra: dict[str, str]) -> requests.Response:
    """A layer blob's response (streamed; 200, or 206 to a Range), else an ArchiveError naming the status."""
    return _blob_answer(client.get(f"blobs/{digest}", extra=extra), label)


def first_block(client: Client, digest: str, size: int, label: str) -> bytes:
    """A layer blob's first :data:`BLOCK` bytes (fewer if it is shorter), by one Range request: none for a blob
    of 0 bytes (a Range on it is a 416). A 416 means nothing lies at offset 0: no bytes; a registry that ignores
    the Range (200) is read that far and the rest left unread."""
    if size == 0:
        return b""
    response = client.get(f"blobs/{digest}", extra={"Range": f"bytes=0-{BLOCK - 1}"})
    if response.status_code == 416:
        response.close()
        return b""
    response = _blob_answer(response, label)
    try:
        return bytes(response.raw.read(BLOCK))
    finally:
        response.close()


def _blob_answer(response: requests.Response, label: str) -> requests.Response:
    if response.status_code == 404:
        response.close()
        raise ArchiveError("registry says 404 for this layer blob", path=label)
    if response.status_code not in (200, 206):
        response.close()
        raise ArchiveError(f"registry answers {response.status_code} for this layer blob", path=label)
    return response


def choose_manifest(index: dict[str, Any], wanted: str, target: Target) -> dict[str, Any]:
    """The descriptor of an index that matches the platform ``wanted``; else an error listing those it has."""
    entries = [d for d in index.get("manifests") or [] if isinstance(d, dict) and isinstance(d.get("digest"), str)]
    found = [d for d in entries if platform_of({}, d).matches(wanted)]
    if found:
        return found[0]
    have = sorted({str(platform_of({}, d)) for d in entries if (d.get("platform") or {}).get("os") != "unknown"})
    raise UsageError(f"{target} has no {wanted} image; it has: {', '.join(have) or 'none'} (choose with --platform)")


def read(request: Request) -> Image:
    """The image ``request.target`` names, read from its registry."""
    target = parse_target(request.target)
    client = Client(target, request.insecure, request.parallel)
    client.connect()
    body, media = client.document(f"manifests/{target.reference}", "manifest", ACCEPT)
    if ":" in target.reference:
        check_digest(body, target.reference, f"the manifest of {target}")
    doc = _json(body, f"the manifest of {target}")
    wanted = request.platform or default_platform()
    descriptor: dict[str, Any] | None = None
    if media in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
        descriptor = choose_manifest(doc, wanted, target)
        digest = str(descriptor["digest"])
        body, media = client.document(f"manifests/{digest}", "manifest", ACCEPT, digest=digest)
        doc = _json(body, f"the {wanted} manifest of {target}")
    if doc.get("schemaVersion") == 1 or not isinstance(doc.get("config"), dict):
        raise ArchiveError(f"{target}: a schema 1 manifest (or no config): only OCI and Docker v2 images are read")
    config_digest = str(doc["config"].get("digest") or "")
    raw_config, _ = client.document(f"blobs/{config_digest}", "image config", digest=config_digest)
    config = _json(raw_config, f"the image config of {target}")
    chosen = platform_of(config, descriptor)
    if descriptor is None and request.platform and not chosen.matches(request.platform):
        raise UsageError(f"{target} is a {chosen} image only (no index): --platform {request.platform} does not match")
    layers_desc = [d for d in doc.get("layers") or [] if isinstance(d, dict)]
    diff_ids = config_layers(config, f"the image config of {target}", str(target))
    by_digest = {str(d.get("digest") or ""): str(i) for d, i in zip(layers_desc, diff_ids, strict=False)}
    known = request.cache.known(by_digest, request.digests) if request.cache is not None else {}
    total = sum(int(d.get("size") or 0) for d in layers_desc if str(d.get("digest") or "") not in known)
    already = f", {len(known)} of them read before" if known else ""
    who = f", as {client.credentials.username or 'token'}" if client.authorization and client.credentials else ""
    request.announce(
        f"reading {target} ({chosen}, {len(layers_desc)} layer{'' if len(layers_desc) == 1 else 's'}, "
        f"{total / 1e6:.1f} MB to fetch{already}) "
        f"from the registry at {client.base}{who}"
    )
    kind = "oci" if doc.get("mediaType", media) == MANIFEST_TYPES[0] else "docker v2"
    image = _assemble(
        client, target, config, config_digest, chosen, layers_desc, request.parallel, bool(request.digests), known
    )
    image.format = f"registry ({kind} manifest)"
    if request.cache is not None:  # every blob is fetched anyway: what is read is kept for an archive read next
        request.cache.keep(image.layers, request.digests)
    return image


def _fetch_layer(
    client: Client, desc: dict[str, Any], label: str, digests: bool, known: Cached | None = None
) -> tuple[list[Entry], str]:
    digest, size = str(desc.get("digest") or ""), int(desc.get("size") or 0)
    if known is not None:  # read before (a LayerCache): only its first block, for its compression
        compression = compression_of(first_block(client, digest, size, label), label)
        if known.fits(compression, size):
            return known.entries, compression
    stream = BlobStream(client, digest, size, label)
    try:
        entries, compression = scan_layer(stream, label, digests)
        stream.finish()
    finally:
        stream.response.close()
    return entries, compression


def _assemble(
    client: Client,
    target: Target,
    config: dict[str, Any],
    config_digest: str,
    chosen: Platform,
    layers_desc: list[dict[str, Any]],
    parallel: int,
    digests: bool = False,
    known: dict[str, Cached] | None = None,
) -> Image:
    labels = [f"{target}:{d.get('digest')}" for d in layers_desc]
    known = known or {}
    order = sorted(range(len(layers_desc)), key=lambda i: -int(layers_desc[i].get("size") or 0))
    with ThreadPoolExecutor(max(1, min(parallel, len(layers_desc) or 1))) as pool:
        futures = {
            i: pool.submit(
                _fetch_layer, client, layers_desc[i], labels[i], digests, known.get(str(layers_desc[i].get("digest")))
            )
            for i in order
        }
        results = {i: f.result() for i, f in futures.items()}
    what = f"the image config of {target}"
    history = [HistoryEntry.from_config(h) for h in config_history(config, what, str(target))]
    with_layer = iter([h for h in history if not h.empty_layer])
    diff_ids = config_layers(config, what, str(target))
    layers = []
    for i, desc in enumerate(layers_desc):
        entries, compression = results[i]
        digest = str(desc.get("digest") or "")
        diff_id = str(diff_ids[i]) if i < len(diff_ids) else ""
        source = "blobs/" + digest.replace(":", "/", 1)
        size = int(desc.get("size") or 0)
        layers.append(Layer(i, diff_id, digest, entries, next(with_layer, None), compression, size, source))
    return Image(
        config=config,
        history=history,
        layers=layers,
        format="registry",
        tags=[str(target)],
        config_digest=config_digest,
        platform=chosen,
        origin="registry",
    )
