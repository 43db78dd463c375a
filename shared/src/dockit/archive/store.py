"""Where an archive's members come from: a tar file (seek past data), a stream (one pass), or a directory.

Every format reader asks a store for JSON documents by name and for layer blobs by name. Metadata comes last in
every format, so a streamed archive keeps per-blob results (the scanned entries of each layer-looking blob) and
the small JSON members, and the format joins them to its manifest at the end.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockit.archive.compression import GZIP_MAGIC, ZSTD_MAGIC, sniff
from dockit.archive.contents import DUPLICATES, DigestMode
from dockit.archive.layers import Prefixed, compression_of, scan_layer
from dockit.archive.model import HARDLINK, REGULAR, SYMLINK, Entry, Layer
from dockit.archive.tarstream import BLOCK, ByteSource, FileRegion, Limited, clean_name, walk
from dockit.errors import ArchiveError
from dockit.limits import MAX_JSON_BYTES

MAX_DOC = MAX_JSON_BYTES  # a manifest, index or config bigger than this is not one
MAX_DOCS = 128 << 20  # all JSON members kept together: past this, an archive is hostile, not rich in metadata


@dataclass(slots=True)
class Scanned:
    """A layer blob once read: its entries, compression and size in the archive; with ``digests=DUPLICATES``, a
    plain one's data offsets (see :func:`~dockit.archive.layers.scan_layer`), else None."""

    entries: list[Entry]
    compression: str
    blob_size: int
    offsets: list[int] | None = None


@dataclass(frozen=True, slots=True)
class Cached:
    """A layer in a :class:`LayerCache`: its entries, and what its blob was (compression, size in bytes)."""

    entries: list[Entry]
    compression: str
    blob_size: int

    def fits(self, compression: str, blob_size: int, tail: bytes = b"") -> bool:
        """Whether a blob of this ``compression`` and size can hold this layer, as far as sizes tell: an
        uncompressed blob is the very tar a diff id hashes, so one diff id has one uncompressed size. A gzip blob's
        ``tail`` (its last 4 bytes, given where a pread costs nothing) holds its uncompressed size mod 2**32 (of its
        last member: a blob made of several is refused, and scanned, for nothing worse than the time); other
        compressed sizes say nothing: those are trusted.

        >>> plain = Cached([], "none", 10240)
        >>> plain.fits("none", 10240), plain.fits("none", 20480), plain.fits("zstd", 99)
        (True, False, True)
        >>> plain.fits("gzip", 99, (10240).to_bytes(4, "little")), plain.fits("gzip", 99, (1).to_bytes(4, "little"))
        (True, False)
        """
        if self.compression != "none":
            return True  # its uncompressed size was not counted (the walk stops at the tar's end marker)
        if compression == "none":
            return blob_size == self.blob_size
        if compression == "gzip" and len(tail) == 4:
            return int.from_bytes(tail, "little") == self.blob_size % (1 << 32)
        return True


@dataclass(slots=True)
class LayerCache:
    """Layers already read, by diff id, for reading another image that shares them (``open_image(cache=...)``).

    A diff id is the digest of the layer's uncompressed tar, so its entries are the same in any archive, format or
    compression: a seekable store hands those back instead of scanning the blob again, a registry instead of
    fetching it (see :func:`~dockit.archive.sources.skips_cached`). A stream has read every
    blob by the time its config is known, so it saves nothing there. Entries are kept for one ``digests`` setting:
    read with another, the cache is neither used nor filled. The diff ids are the configs' word, not verified (as
    docker and skopeo trust them: hashing every layer would cost the read this saves); a blob whose size shows it
    cannot be the cached layer (:meth:`Cached.fits`) is scanned.
    """

    digests: bool = False
    entries: dict[str, Cached] = field(default_factory=dict)

    def known(self, diff_ids: Mapping[str, str], digests: DigestMode) -> dict[str, Cached]:
        """Of ``diff_ids`` (blob name -> diff id), the blobs held here, with their layers (none for other
        ``digests``)."""
        if digests != self.digests:
            return {}
        return {name: self.entries[d] for name, d in diff_ids.items() if d in self.entries}

    def keep(self, layers: Iterable[Layer], digests: DigestMode) -> None:
        """Remember layers read with ``digests`` (if that is this cache's setting)."""
        if digests == self.digests:
            for layer in layers:
                if layer.diff_id:
                    self.entries.setdefault(layer.diff_id, Cached(layer.entries, layer.compression, layer.blob_size))


def _looks_json(head: bytes) -> bool:
    return head.lstrip()[:1] in (b"{", b"[")


class Store:
    """Names -> documents and layer blobs, with tar symlinks resolved."""

    label: str
    digests: DigestMode = False  # whether layers are read with their files' digests (dockit.archive.contents)

    def __init__(self, label: str) -> None:
        self.label = label
        self.docs: dict[str, bytes] = {}
        self.doc_bytes = 0
        self.links: dict[str, str] = {}

    def resolve(self, name: str) -> str:
        """Follow member symlinks (buildah's ``<id>/layer.tar -> ../<diffid>.tar``) to the real member."""
        name = self.normalize(name)
        for _ in range(40):
            target = self.links.get(name)
            if target is None:
                return name
            name = self.normalize(posixpath.join(posixpath.dirname(name), target))
        raise ArchiveError(f"symlink loop at {name!r}", path=self.label)

    def normalize(self, name: str) -> str:
        """A member name as the store keys it (``./`` and leading ``/`` dropped)."""
        return clean_name(name, self.label).lstrip("/")

    def note_link(self, name: str, flag: str, link: str) -> bool:
        """Remember a member that is a link (a symlink's target is relative to its directory, a hardlink's to the
        root); False for any other member."""
        if flag == SYMLINK:
            self.links[name] = link
        elif flag == HARDLINK:
            self.links[name] = "/" + link.lstrip("/")
        else:
            return False
        return True

    def keep(self, name: str, data: bytes) -> None:
        """Keep a JSON member, within the total budget."""
        self.doc_bytes += len(data)
        if self.doc_bytes > MAX_DOCS:
            raise ArchiveError(f"more than {MAX_DOCS >> 20} MiB of JSON members: refusing", path=self.label)
        self.docs[name] = data

    def doc(self, name: str) -> bytes | None:
        """The bytes of a small JSON member, or None."""
        return self.docs.get(self.resolve(name))

    def has_blob(self, name: str) -> bool:
        """Whether a member of that name exists (one kept as JSON too: read_image then says it is no layer)."""
        raise NotImplementedError

    def scan(self, names: list[str], known: Mapping[str, Cached] | None = None) -> dict[str, Scanned]:
        """Read the named layer blobs into entries; a blob in ``known`` (name -> its entries, read before) is not
        scanned again, only its first block is read (for its compression)."""
        raise NotImplementedError

    def region(self, name: str) -> FileRegion:
        """A layer blob's bytes, to read again by offset (a seekable store only)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the store holds open (nothing, unless it keeps a file open)."""


class TarFileStore(Store):
    """A seekable tar file: one pass over its headers (data skipped), layers read afterwards, in parallel."""

    def __init__(self, path: str, fd: int | None = None) -> None:
        super().__init__(path)
        try:
            self.fd = os.open(path, os.O_RDONLY) if fd is None else os.dup(fd)
        except FileNotFoundError:
            raise ArchiveError("no such file", path=path) from None
        except IsADirectoryError:
            raise ArchiveError("is a directory", path=path) from None
        except OSError as e:
            raise ArchiveError(e.strerror or str(e), path=path) from None
        # stdin redirected from a file starts where the shell left it (usually 0)
        base = os.lseek(self.fd, 0, os.SEEK_CUR) if fd is not None else 0
        size = os.fstat(self.fd).st_size
        self.blobs: dict[str, tuple[int, int]] = {}  # name -> (absolute offset, size)
        region = FileRegion(self.fd, base, max(size - base, 0), path)

        def visit(member: str, flag: str, size: int, mode: int, uid: int, gid: int, link: str) -> int:
            name = self.normalize(member)
            if self.note_link(name, flag, link):
                return 0
            if flag == REGULAR:
                start = region.pos
                if size <= MAX_DOC:
                    data = Limited(region, size, path)
                    head = data.read(min(size, 64))
                    if _looks_json(head):
                        self.keep(name, head + data.read(size - len(head)))
                        return size
                    region.pos = start
                self.blobs[name] = (base + start, size)
            return 0

        walk(region, path, visit)
        if not self.blobs and not self.docs and not self.links:
            raise ArchiveError("empty archive", path=path)

    def has_blob(self, name: str) -> bool:
        real = self.resolve(name)
        return real in self.blobs or real in self.docs

    def scan(self, names: list[str], known: Mapping[str, Cached] | None = None) -> dict[str, Scanned]:
        jobs: list[tuple[str, int, Job]] = []
        out = {}
        for name in sorted({self.resolve(n) for n in names}):
            start, size = self.blobs[name]
            label = f"{self.label}:{name}"
            cached = known.get(name) if known else None
            if cached is not None:
                compression = compression_of(os.pread(self.fd, min(size, BLOCK), start), label)
                if cached.fits(compression, size, os.pread(self.fd, 4, start + size - 4) if size >= 4 else b""):
                    out[name] = Scanned(cached.entries, compression, size)
                    continue
            jobs.append((name, size, (self.fd, start, size, label, None, self.digests)))
        return out | _scan_all(jobs)

    def region(self, name: str) -> FileRegion:
        start, size = self.blobs[self.resolve(name)]
        return FileRegion(self.fd, start, size, f"{self.label}:{name}")

    def close(self) -> None:
        os.close(self.fd)


class StreamStore(Store):
    """A non-seekable stream read in one pass: every blob that looks like a layer (by its magic bytes) is read
    as it goes by; JSON members are kept."""

    def __init__(self, src: ByteSource, label: str, digests: DigestMode = False) -> None:
        super().__init__(label)
        self.digests = digests
        self.scanned: dict[str, Scanned] = {}

        def visit(member: str, flag: str, size: int, mode: int, uid: int, gid: int, link: str) -> int:
            name = self.normalize(member)
            if self.note_link(name, flag, link):
                return 0
            if flag == REGULAR:
                data = Limited(src, size, label)
                head = data.read(min(size, BLOCK))
                if size <= MAX_DOC and _looks_json(head):
                    self.keep(name, head + data.read(size - len(head)))
                elif sniff(head) is not None:
                    entries, compression = scan_layer(Prefixed(head, data), f"{label}:{name}", bool(digests))
                    self.scanned[name] = Scanned(entries, compression, size)
                else:
                    self.scanned[name] = Scanned([], "not-a-layer", size)
                return size - data.remaining
            return 0

        walk(src, label, visit)
        if not self.scanned and not self.docs and not self.links:
            raise ArchiveError("empty input (expected an image archive)", path=label)

    def has_blob(self, name: str) -> bool:
        real = self.resolve(name)
        return real in self.scanned or real in self.docs

    def scan(self, names: list[str], known: Mapping[str, Cached] | None = None) -> dict[str, Scanned]:
        out = {}  # every blob was scanned as it went by: nothing is left to save
        for name in names:
            real = self.resolve(name)
            got = self.scanned[real]
            if got.compression == "not-a-layer":
                raise ArchiveError("layer is not a tar (nor a gzip or zstd one)", path=f"{self.label}:{real}")
            out[real] = got
        return out


class DirStore(Store):
    """An OCI image layout directory on disk (skopeo's ``oci:`` destination)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.root = Path(path)
        self.fds: list[int] = []
        try:
            self._read_docs()
        except OSError as e:
            raise ArchiveError(e.strerror or str(e), path=str(e.filename or path)) from None
        if "index.json" not in self.docs and "manifest.json" not in self.docs:
            raise ArchiveError("not an OCI image layout (no index.json)", path=path)

    def _read_docs(self) -> None:
        for name in ("index.json", "manifest.json", "oci-layout"):
            f = self.root / name
            if f.is_file():
                self.docs[name] = f.read_bytes()
        blobs = self.root / "blobs"
        if not blobs.is_dir():
            return
        for alg in blobs.iterdir():
            if not alg.is_dir():
                continue  # a stray file beside the algorithm directories (a README, .DS_Store) holds no blob
            for blob in alg.iterdir():
                if blob.is_file() and blob.stat().st_size <= MAX_DOC:
                    with blob.open("rb") as fh:
                        head = fh.read(64)
                        if _looks_json(head):
                            self.docs[f"blobs/{alg.name}/{blob.name}"] = head + fh.read()

    def has_blob(self, name: str) -> bool:
        return (self.root / self.resolve(name)).is_file()

    def scan(self, names: list[str], known: Mapping[str, Cached] | None = None) -> dict[str, Scanned]:
        jobs: list[tuple[str, int, Job]] = []
        out = {}
        for name in sorted({self.resolve(n) for n in names}):
            blob = self.root / name
            size = blob.stat().st_size
            cached = known.get(name) if known else None
            if cached is not None:
                with blob.open("rb") as f:
                    compression = compression_of(f.read(BLOCK), str(blob))
                    tail = os.pread(f.fileno(), 4, size - 4) if size >= 4 else b""
                if cached.fits(compression, size, tail):
                    out[name] = Scanned(cached.entries, compression, size)
                    continue
            jobs.append((name, size, (-1, 0, size, str(blob), str(blob), self.digests)))
        return out | _scan_all(jobs)

    def region(self, name: str) -> FileRegion:
        blob = self.root / self.resolve(name)
        fd = os.open(blob, os.O_RDONLY)
        self.fds.append(fd)
        return FileRegion(fd, 0, os.fstat(fd).st_size, str(blob))

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


# A layer scan job: (fd, start, size, label, path, digests). With a path the worker opens the file itself; without,
# it reads the inherited fd with pread (safe to share: no file position involved).
Job = tuple[int, int, int, str, str | None, DigestMode]
PARALLEL_BYTES = 32 << 20  # below this, forking costs more than it saves


def _scan_job(job: Job) -> tuple[list[Entry], str, list[int] | None] | tuple[None, str, None]:
    """Run in a worker: the scanned layer (with its data offsets, if it left hashing for later), or ``(None,
    message, None)`` (exceptions with a path do not pickle whole)."""
    fd, start, size, label, path, digests = job
    own = path is not None
    offsets: list[int] | None = [] if digests == DUPLICATES else None
    try:
        if path is not None:
            fd = os.open(path, os.O_RDONLY)
        try:
            entries, compression = scan_layer(FileRegion(fd, start, size, label), label, bool(digests), offsets)
            return entries, compression, offsets or None
        finally:
            if own:
                os.close(fd)
    except ArchiveError as e:
        return None, str(e), None
    except OSError as e:
        return None, str(ArchiveError(e.strerror or str(e), path=label)), None


def _compressed(job: Job) -> bool:
    fd, start, _, _, path, _ = job
    try:
        if path is not None:
            with open(path, "rb") as f:
                head = f.read(4)
        else:
            head = os.pread(fd, 4, start)
    except OSError:
        return False
    return head.startswith((GZIP_MAGIC, ZSTD_MAGIC))


def _scan_all(jobs: list[tuple[str, int, Job]]) -> dict[str, Scanned]:
    """Scan layers, biggest first, in worker processes when there is enough to share between cores.

    Processes, not threads: tar headers are parsed in Python, which holds the GIL (and so do the decompressors'
    Python wrappers); a forked worker inherits the open archive, and sends back only the entries. Only compressed
    layers are worth it: a plain layer in a file is read by seeking, and sending its entries back costs about as
    much as parsing them (measured: 0.44 s with workers against 0.35 s without on the 1 GB bench docker-archive).
    """
    jobs = sorted(jobs, key=lambda j: -j[1])  # the biggest first: a worker does not finish long after the others
    workers = min(len(jobs), os.cpu_count() or 1)
    # hashing contents (job[5]) is CPU work like decompressing: then plain layers are worth sharing out too (not
    # with DUPLICATES: their data is read later, and only in part)
    if workers > 1 and sum(size for _, size, job in jobs if job[5] is True or _compressed(job)) >= PARALLEL_BYTES:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_scan_job, [job for _, _, job in jobs]))
    else:
        results = [_scan_job(job) for _, _, job in jobs]
    out = {}
    for (name, size, _), (entries, compression, offsets) in zip(jobs, results, strict=True):
        if entries is None:
            raise ArchiveError(compression)
        out[name] = Scanned(entries, compression, size, offsets)
    return out
