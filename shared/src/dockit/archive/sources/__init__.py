"""Where an image lives: an archive, the Docker daemon, podman, a registry. Each source is one module and one row of
:data:`SOURCES`; every one of them ends in the same :class:`~dockit.archive.model.Image`.

``auto`` (the default) reads an existing path (or ``-``) as an archive; otherwise the Docker daemon if it has the
image; otherwise the registry. A prefix (``docker://``, ``registry://``...) names the source outright. Modules are
imported only when chosen: the registry's HTTP stack costs nothing to a run that reads a file.

>>> from dockit.archive.sources import split_spec
>>> split_spec("docker://nginx:latest", "auto")
('docker', 'nginx:latest')
>>> split_spec("oci-archive://img.tar", "auto")
('archive', 'img.tar')
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from dockit.archive.model import Image
from dockit.errors import ArchiveError, UsageError

if TYPE_CHECKING:
    from dockit.archive.contents import DigestMode
    from dockit.archive.store import LayerCache

AUTO = "auto"
STDIN = "-"


@dataclass(frozen=True, slots=True)
class Request:
    """What to read and how: the reference or path (its prefix removed) and the options every source takes."""

    target: str
    tag: str | None = None
    platform: str | None = None
    parallel: int = 4
    insecure: bool = False
    announce: Callable[[str], None] = field(default=lambda _: None)
    digests: DigestMode = False  # regular files' sha256 into Entry.digest (dockit.archive.contents: costs reads)
    cache: LayerCache | None = None  # layers read before, by diff id: see skips_cached(); every source adds its own


class SourceModule(Protocol):
    """What a source module provides."""

    def read(self, request: Request) -> Image:
        """The image, read where it lives; :class:`NotFound` when the source answers that it has no such image."""
        ...


class NotFound(ArchiveError):
    """The source answered, and it has no such image (``auto`` then asks the next source)."""


class Unreachable(ArchiveError):
    """The source could not be asked (no daemon at the socket): ``auto`` asks the next source."""


@dataclass(frozen=True, slots=True)
class Source:
    """One row of the table: dive's name for it, the prefixes that name it, the module that reads it."""

    name: str
    prefixes: tuple[str, ...]
    module: str
    summary: str

    def load(self) -> SourceModule:
        """The source's module, imported now."""
        module: SourceModule = importlib.import_module(self.module)
        return module


SOURCES = (
    Source(
        "archive",
        ("docker-archive://", "oci-archive://"),
        "dockit.archive.sources.archive",
        "a docker save / OCI archive (a file, compressed or not), an OCI layout directory, or - for stdin",
    ),
    Source("docker", ("docker://",), "dockit.archive.sources.docker", "the Docker daemon at DOCKER_HOST (Engine API)"),
    Source("podman", ("podman://",), "dockit.archive.sources.podman", "podman (its API socket, else podman save)"),
    Source("registry", ("registry://",), "dockit.archive.sources.registry", "a registry, no daemon (OCI distribution)"),
)
BY_NAME = {s.name: s for s in SOURCES}
NAMES = (AUTO, *BY_NAME)
# What auto asks, in order, for something that is not a path
AUTO_ORDER = ("docker", "registry")
_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".gz", ".zst", ".xz", ".oci")


def split_spec(spec: str, source: str = AUTO) -> tuple[str, str]:
    """``(source name, target)`` from a SOURCE argument and ``--source``: a prefix names the source (and must agree
    with ``--source`` when both are given); else ``--source``; else ``auto``."""
    if source not in NAMES:
        raise UsageError(f"--source {source!r}: expected one of {', '.join(NAMES)}")
    for s in SOURCES:
        for prefix in s.prefixes:
            if spec.startswith(prefix):
                if source not in (AUTO, s.name):
                    raise UsageError(f"{spec}: the {prefix} prefix says {s.name}, --source says {source}")
                target = spec[len(prefix) :]
                if not target:
                    raise UsageError(f"{spec}: nothing after the prefix")
                return s.name, target
    return source, spec


def looks_like_path(target: str) -> bool:
    """Whether a missing ``target`` was meant as a file (``./x``, ``/x``, ``x.tar.gz``), not an image reference."""
    return target.startswith(("/", "./", "../", "~")) or target.lower().endswith(_ARCHIVE_SUFFIXES)


def skips_cached(spec: str, source: str = AUTO) -> bool:
    """Whether reading ``spec`` skips the layers a :class:`~dockit.archive.store.LayerCache` holds: an archive
    read by seeking (a plain tar file, a layout directory) does not scan them, a registry does not fetch them.
    A stream (stdin, a pipe, an archive compressed whole, the daemon's or podman's save) reads every layer whatever
    the cache holds, so it is best read first: ``dlayer diff`` does. A reference left to ``auto`` counts as a
    stream (the daemon is asked first).

    >>> skips_cached("-"), skips_cached("docker://nginx"), skips_cached("registry://nginx")
    (False, False, True)
    """
    name, target = split_spec(spec, source)
    if name == "registry":
        return True
    if name not in (AUTO, "archive") or target == STDIN:
        return False
    path = Path(target)
    if path.is_dir():
        return True
    if not path.is_file():
        return False
    from dockit.archive.compression import sniff_whole

    try:
        with path.open("rb") as f:
            return sniff_whole(f.read(8)) is None
    except OSError:
        return False  # the read itself will say why


def open_image(
    spec: str | os.PathLike[str] | IO[bytes],
    *,
    source: str = AUTO,
    tag: str | None = None,
    platform: str | None = None,
    parallel: int = 4,
    insecure: bool = False,
    announce: Callable[[str], None] | None = None,
    digests: DigestMode = False,
    cache: LayerCache | None = None,
) -> Image:
    """Read the image ``spec`` names, wherever it lives (see the module docstring for ``auto``).

    ``tag`` and ``platform`` choose within an archive or an index (a registry's default platform is this host's);
    ``parallel`` is how many layers a registry read fetches at once; ``insecure`` allows plain HTTP to a registry
    that is not on a loopback address; ``announce`` is told, in one line, which source is being read; ``digests``
    hashes every regular file's data as it is read (``Entry.digest``; off by default: it costs the read;
    ``DUPLICATES`` hashes only what finding duplicates needs, see :mod:`dockit.archive.contents`); ``cache``
    holds layers already read, by diff id: a layer of this image found there is not scanned again (an archive file
    or directory; a stream, the daemon's or podman's, is read whole anyway), and those read are added (see
    :class:`~dockit.archive.store.LayerCache`; a registry fetches only the first block of a blob it holds).

    >>> image = open_image("app.tar.gz")  # doctest: +SKIP
    >>> image = open_image("registry://127.0.0.1:5000/app:1", platform="linux/arm64")  # doctest: +SKIP
    """
    if not isinstance(spec, (str, os.PathLike)):
        from dockit.archive.reader import read_image

        return read_image(spec, tag=tag, platform=platform, digests=digests, cache=cache)
    name, target = split_spec(str(spec), source)
    say = announce or (lambda _: None)
    request = Request(target, tag, platform, max(parallel, 1), insecure, say, digests, cache)
    if name != AUTO:
        return BY_NAME[name].load().read(request)
    if target == STDIN or Path(target).exists() or looks_like_path(target):
        return BY_NAME["archive"].load().read(request)
    misses: list[str] = []
    for candidate in AUTO_ORDER:
        try:
            return BY_NAME[candidate].load().read(request)
        except (NotFound, Unreachable) as e:
            misses.append(e.message)
    raise NotFound(", and ".join(misses))
