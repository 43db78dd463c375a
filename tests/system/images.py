"""What a built image is, for comparing builds: its final filesystem, its config, its layers and history.

Read from a docker-archive (``docker save`` or ``buildah push ... docker-archive:``) with tarfile and json only, so the
tests never depend on the code under test to tell what an image holds. Whiteouts (``.wh.NAME``) and opaque directories
(``.wh..wh..opq``) are applied layer by layer, exactly as a container runtime stacks them.

>>> a = dockerd.export("app:original")  # doctest: +SKIP
>>> b = dockerd.export("app:merged")  # doctest: +SKIP
>>> assert a == b, a.diff(b)  # doctest: +SKIP  (filesystem + config; layer count and history are not compared)
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


@dataclass(frozen=True)
class FileEntry:
    """One path of an image's final filesystem. ``sha256`` is set for files and hardlinks (the content they share).

    ``link`` is a symlink's target as written, or for a hardlink the path it links to (absolute, no leading ``/``
    stripped: ``/app/big.bin``).
    """

    path: str
    type: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    sha256: str | None = None
    link: str = ""

    def __str__(self) -> str:
        extra = f" -> {self.link}" if self.link else ""
        digest = f" sha256:{self.sha256[:12]}" if self.sha256 else ""
        return f"{self.type} {self.mode:04o} {self.uid}:{self.gid} {self.size}B{digest} {self.path}{extra}"


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config a Dockerfile sets (``Config`` in the image JSON)."""

    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    workdir: str = ""
    user: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, config: dict[str, Any]) -> ImageConfig:
        """Build from an image config JSON document (the whole document, with its ``config`` key)."""
        c = config.get("config") or config.get("Config") or {}

        def argv(value: list[str] | None) -> tuple[str, ...] | None:
            return None if value is None else tuple(value)

        return cls(
            env=tuple(c.get("Env") or ()),
            cmd=argv(c.get("Cmd")),
            entrypoint=argv(c.get("Entrypoint")),
            workdir=c.get("WorkingDir") or "",
            user=c.get("User") or "",
            labels=dict(c.get("Labels") or {}),
            exposed_ports=tuple(sorted(c.get("ExposedPorts") or {})),
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One history entry of the image config; ``empty_layer`` entries made no layer."""

    created_by: str
    empty_layer: bool = False


@dataclass(frozen=True, eq=False)
class ImageExport:
    """An image's final filesystem (path -> :class:`FileEntry`) and config, plus its layer count and history.

    ``==`` compares the filesystem and the config only: two builds that do the same thing in a different number of
    layers are equal. Compare ``layers`` / ``history`` explicitly when they matter. ``diff`` says what differs, one
    line per difference, for assertion messages (pytest shows it by itself for ``assert a == b``).
    """

    files: dict[str, FileEntry]
    config: ImageConfig
    layers: int
    history: tuple[HistoryEntry, ...] = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageExport):
            return NotImplemented
        return self.files == other.files and self.config == other.config

    def __hash__(self) -> int:
        return hash(tuple(self.files))

    @property
    def created_by(self) -> list[str]:
        """The ``created_by`` of every history entry, in order (empty-layer entries included)."""
        return [h.created_by for h in self.history]

    def size(self) -> int:
        """Total bytes of file content in the final filesystem (hardlinks counted once)."""
        return sum(e.size for e in self.files.values() if e.type == "file")

    def diff(self, other: ImageExport) -> str:
        """Differences from ``self`` (``-``) to ``other`` (``+``), one per line; empty when equal."""
        lines: list[str] = []
        for path in sorted(self.files.keys() | other.files.keys()):
            mine, theirs = self.files.get(path), other.files.get(path)
            if mine == theirs:
                continue
            if mine is not None:
                lines.append(f"- {mine}")
            if theirs is not None:
                lines.append(f"+ {theirs}")
        for f in fields(ImageConfig):
            mine_v, theirs_v = getattr(self.config, f.name), getattr(other.config, f.name)
            if mine_v != theirs_v:
                lines.append(f"- config.{f.name} = {mine_v!r}")
                lines.append(f"+ config.{f.name} = {theirs_v!r}")
        return "\n".join(lines)

    def summary(self) -> str:
        """The whole export, one line per path then the config: handy to print while writing a test."""
        body = [str(e) for _, e in sorted(self.files.items())]
        body += [f"config.{f.name} = {getattr(self.config, f.name)!r}" for f in fields(ImageConfig)]
        body.append(f"layers = {self.layers}")
        return "\n".join(body)


def _clean(name: str) -> str:
    """A tar member name as an image path: ``./a/b/`` and ``/a/b`` both become ``a/b``; the root is ``""``."""
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def _sha256(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        h.update(chunk)
    return h.hexdigest()


def _drop_tree(fs: dict[str, FileEntry], path: str) -> None:
    """Remove ``path`` and everything below it."""
    fs.pop(path, None)
    prefix = path + "/" if path else ""
    for key in [k for k in fs if k.startswith(prefix)]:
        del fs[key]


def apply_layer(fs: dict[str, FileEntry], layer: tarfile.TarFile) -> None:
    """Stack one layer tar onto ``fs`` (keys are paths without a leading ``/``).

    A layer's whiteouts apply to the layers below it only, so they are applied before the layer's own entries.
    """
    deletions: list[str] = []
    opaque: list[str] = []
    added: list[FileEntry] = []
    for member in layer:
        path = _clean(member.name)
        base = posixpath.basename(path)
        if base == OPAQUE:
            opaque.append(posixpath.dirname(path))
            continue
        if base.startswith(WHITEOUT):
            deletions.append(posixpath.join(posixpath.dirname(path), base[len(WHITEOUT) :]))
            continue
        if not path:
            continue  # the root directory itself: every builder writes it differently, it carries nothing
        kind = _TYPES.get(member.type, f"type-{member.type!r}")
        size, digest, link = member.size, None, ""
        if kind == "file":
            stream = layer.extractfile(member)
            assert stream is not None
            digest = _sha256(stream)
        elif kind == "symlink":
            link = member.linkname
        elif kind == "hardlink":
            link = "/" + _clean(member.linkname)
            target = next((e for e in reversed(added) if e.path == link), None) or fs.get(link)
            if target is not None:
                size, digest = target.size, target.sha256
        added.append(FileEntry("/" + path, kind, member.mode & 0o7777, member.uid, member.gid, size, digest, link))
    for path in deletions:
        _drop_tree(fs, "/" + path if path else "")
    for path in opaque:
        keep = fs.get("/" + path) if path else None
        _drop_tree(fs, "/" + path if path else "")
        if keep is not None:
            fs["/" + path] = keep
    for entry in added:
        old = fs.get(entry.path)
        if old is not None and old.type == "dir" and entry.type != "dir":
            _drop_tree(fs, entry.path)
        fs[entry.path] = entry


def read_docker_archive(path: Path, image: int = 0) -> ImageExport:
    """Export the ``image``-th image of a docker-archive (``manifest.json`` format) as an :class:`ImageExport`.

    Works on what ``docker save`` (20.10: ``<id>/layer.tar``) and ``buildah push docker-archive:`` (``<diffid>.tar``)
    write; layer tars may be compressed.
    """
    with tarfile.open(path) as archive:
        manifest = json.loads(_member_bytes(archive, "manifest.json"))
        entry = manifest[image]
        config = json.loads(_member_bytes(archive, entry["Config"]))
        fs: dict[str, FileEntry] = {}
        for layer_name in entry["Layers"]:
            stream = archive.extractfile(_find(archive, layer_name))
            assert stream is not None
            with tarfile.open(fileobj=stream, mode="r:*") as layer:
                apply_layer(fs, layer)
    return ImageExport(fs, ImageConfig.from_json(config), len(entry["Layers"]), tuple(history_of(config)))


def history_of(config: dict[str, Any]) -> Iterator[HistoryEntry]:
    """The history entries of an image config JSON document."""
    for h in config.get("history") or ():
        yield HistoryEntry(h.get("created_by", ""), bool(h.get("empty_layer", False)))


def _find(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    wanted = _clean(name)
    for member in archive.getmembers():
        if _clean(member.name) == wanted:
            return member
    raise KeyError(f"{name}: no such member in the archive")


def _member_bytes(archive: tarfile.TarFile, name: str) -> bytes:
    stream = archive.extractfile(_find(archive, name))
    assert stream is not None
    return stream.read()


# Both builders print one line per instruction and one per cache hit; the classic builder says "Step 2/5 : RUN",
# buildah "STEP 2/5: RUN" (prefixed by "[1/2] " in multi-stage builds).
_STEP = re.compile(r"^(?:\[\d+/\d+\] )?(?:Step|STEP) \d+/\d+ ?:", re.MULTILINE)
_CACHED = re.compile(r"^\s*-{2,3}> Using cache\b", re.MULTILINE)


@dataclass(frozen=True)
class BuildResult:
    """What a build did: ``steps`` instructions run (FROM included), ``cached`` of them answered from the cache.

    ``image_id`` is the ``sha256:...`` id of the built image, ``tag`` the tag given (or None); ``output`` is the
    builder's whole stdout+stderr; ``returncode`` is 0 unless ``check=False`` was passed and the build failed.
    """

    image_id: str
    tag: str | None
    output: str
    returncode: int = 0

    @property
    def steps(self) -> int:
        """Instructions the builder ran (``Step N/M`` lines), FROM included."""
        return len(_STEP.findall(self.output))

    @property
    def cached(self) -> int:
        """Steps answered from the build cache (``Using cache`` lines)."""
        return len(_CACHED.findall(self.output))

    @property
    def ref(self) -> str:
        """The tag when one was given, else the image id: what to pass to export/run."""
        return self.tag or self.image_id
