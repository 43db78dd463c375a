"""Where an archive's members come from: a tar file (seek past data), a stream (one pass), or a directory.

Every format reader asks a store for JSON documents by name and for layer blobs by name. Metadata comes last in
every format, so a streamed archive keeps per-blob results (the scanned entries of each layer-looking blob) and
the small JSON members, and the format joins them to its manifest at the end.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockit.archive.compression import sniff
from dockit.archive.layers import Prefixed, scan_layer
from dockit.archive.model import Entry
from dockit.archive.tarstream import BLOCK, FileRegion, StreamSource, clean_name, iter_members
from dockit.errors import ArchiveError

MAX_DOC = 16 << 20  # a manifest, index or config bigger than this is not one


@dataclass(slots=True)
class Scanned:
    """A layer blob once read: its entries, compression and size in the archive."""

    entries: list[Entry]
    compression: str
    blob_size: int


def _looks_json(head: bytes) -> bool:
    return head.lstrip()[:1] in (b"{", b"[")


class Store:
    """Names -> documents and layer blobs, with tar symlinks resolved."""

    label: str

    def __init__(self, label: str) -> None:
        self.label = label
        self.docs: dict[str, bytes] = {}
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

    def doc(self, name: str) -> bytes | None:
        """The bytes of a small JSON member, or None."""
        return self.docs.get(self.resolve(name))

    def has_blob(self, name: str) -> bool:
        """Whether a (non-JSON) member of that name exists."""
        raise NotImplementedError

    def scan(self, names: list[str]) -> dict[str, Scanned]:
        """Read the named layer blobs into entries."""
        raise NotImplementedError


class TarFileStore(Store):
    """A seekable tar file: one pass over its headers (data skipped), layers read afterwards, in parallel."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise ArchiveError("no such file", path=path) from None
        except IsADirectoryError:
            raise ArchiveError("is a directory", path=path) from None
        except OSError as e:
            raise ArchiveError(e.strerror or str(e), path=path) from None
        size = os.fstat(self.fd).st_size
        self.blobs: dict[str, tuple[int, int]] = {}
        region = FileRegion(self.fd, 0, size, path)
        for header, data in iter_members(region, path):
            name = self.normalize(header.name)
            if header.type == "2":
                self.links[name] = header.link
            elif header.type == "1":
                self.links[name] = "/" + header.link.lstrip("/")
            elif header.type == "0":
                start = region.pos
                if header.size <= MAX_DOC:
                    head = data.read(min(header.size, 64))
                    if _looks_json(head):
                        self.docs[name] = head + data.read(header.size - len(head))
                        continue
                self.blobs[name] = (start, header.size)
        if not self.blobs and not self.docs and not self.links:
            raise ArchiveError("empty archive", path=path)

    def has_blob(self, name: str) -> bool:
        return self.resolve(name) in self.blobs

    def scan(self, names: list[str]) -> dict[str, Scanned]:
        def one(name: str) -> tuple[str, Scanned]:
            start, size = self.blobs[name]
            entries, compression = scan_layer(FileRegion(self.fd, start, size, f"{self.label}:{name}"), self.label)
            return name, Scanned(entries, compression, size)

        return _parallel(one, sorted({self.resolve(n) for n in names}, key=lambda n: -self.blobs[n][1]))

    def close(self) -> None:
        os.close(self.fd)


class StreamStore(Store):
    """A non-seekable stream read in one pass: every blob that looks like a layer (by its magic bytes) is read
    as it goes by; JSON members are kept."""

    def __init__(self, raw: IO[bytes], label: str) -> None:
        super().__init__(label)
        self.scanned: dict[str, Scanned] = {}
        src = StreamSource(raw, label)
        for header, data in iter_members(src, label):
            name = self.normalize(header.name)
            if header.type == "2":
                self.links[name] = header.link
            elif header.type == "1":
                self.links[name] = "/" + header.link.lstrip("/")
            elif header.type == "0":
                head = data.read(min(header.size, BLOCK))
                if header.size <= MAX_DOC and _looks_json(head):
                    self.docs[name] = head + data.read(header.size - len(head))
                elif sniff(head) is not None:
                    entries, compression = scan_layer(Prefixed(head, data), f"{label}:{name}")
                    self.scanned[name] = Scanned(entries, compression, header.size)
                else:
                    self.scanned[name] = Scanned([], "not-a-layer", header.size)
        if not self.scanned and not self.docs and not self.links:
            raise ArchiveError("empty input (expected an image archive)", path=label)

    def has_blob(self, name: str) -> bool:
        return self.resolve(name) in self.scanned

    def scan(self, names: list[str]) -> dict[str, Scanned]:
        out = {}
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
        for name in ("index.json", "manifest.json", "oci-layout"):
            f = self.root / name
            if f.is_file():
                self.docs[name] = f.read_bytes()
        blobs = self.root / "blobs"
        if blobs.is_dir():
            for alg in blobs.iterdir():
                for blob in alg.iterdir():
                    if blob.is_file() and blob.stat().st_size <= MAX_DOC:
                        with blob.open("rb") as fh:
                            head = fh.read(64)
                            if _looks_json(head):
                                self.docs[f"blobs/{alg.name}/{blob.name}"] = head + fh.read()
        if "index.json" not in self.docs and "manifest.json" not in self.docs:
            raise ArchiveError("not an OCI image layout (no index.json)", path=path)

    def has_blob(self, name: str) -> bool:
        return (self.root / self.resolve(name)).is_file()

    def scan(self, names: list[str]) -> dict[str, Scanned]:
        def one(name: str) -> tuple[str, Scanned]:
            blob = self.root / name
            fd = os.open(blob, os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                entries, compression = scan_layer(FileRegion(fd, 0, size, str(blob)), str(blob))
            finally:
                os.close(fd)
            return name, Scanned(entries, compression, size)

        return _parallel(one, sorted({self.resolve(n) for n in names}))


def _parallel(
    one: Callable[[str], tuple[str, Scanned]], names: Iterable[str], workers: int | None = None
) -> dict[str, Scanned]:
    """Read layers on a few threads: decompression (ISA-L, zstd) releases the GIL, pread does too."""
    names = list(names)
    if len(names) <= 1:
        return dict(one(n) for n in names)
    workers = workers or min(len(names), os.cpu_count() or 1, 4)
    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(one, names))
