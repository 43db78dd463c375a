"""Open an image archive of any supported format and read the chosen image into the model."""

from __future__ import annotations

import os
import stat
import sys
from collections import Counter
from functools import partial
from pathlib import Path
from typing import IO

from dockit.archive import docker_save, oci_layout
from dockit.archive.candidate import Candidate
from dockit.archive.compression import Decompressed, sniff_whole
from dockit.archive.contents import DUPLICATES, DigestMode, Pending, hash_duplicates
from dockit.archive.documents import config_history, config_layers
from dockit.archive.model import HistoryEntry, Image, ImageRef, Layer
from dockit.archive.store import DirStore, LayerCache, Store, StreamStore, TarFileStore
from dockit.archive.tarstream import BufferedSource, FdSource, FileRegion, StreamSource
from dockit.errors import ArchiveError, UsageError

STDIN = "-"


def open_store(source: str | os.PathLike[str] | IO[bytes], digests: DigestMode = False) -> Store:
    """A store over a path (tar file or OCI layout directory), ``-`` for stdin, or an open binary stream.

    A regular file is read by seeking; stdin, pipes and streams in one pass. An archive compressed as a whole
    (gzip, zstd, xz: told by its first bytes) is read in one pass through its decompressor, from a file or a pipe.
    With ``digests`` its layers are read with their files' digests (:func:`~dockit.archive.layers.scan_layer`).
    """
    store = _open_store(source, digests)
    store.digests = digests
    return store


def _open_store(source: str | os.PathLike[str] | IO[bytes], digests: DigestMode) -> Store:
    if not isinstance(source, (str, os.PathLike)):
        label = str(getattr(source, "name", "<stream>"))
        return _stream_store(StreamSource(source, label), label, digests)
    path = str(source)
    if not path:  # Path("") is the current directory: never what an empty argument meant
        raise UsageError("empty archive path (give a file, a directory or - for stdin)")
    if path == STDIN:
        return _fd_store(sys.stdin.fileno(), "<stdin>", digests)
    p = Path(path)
    if p.is_dir():
        return DirStore(path)
    try:
        fd = os.open(path, os.O_RDONLY)  # a FIFO or a device is streamed like stdin
    except FileNotFoundError:
        raise ArchiveError("no such file", path=path) from None
    except OSError as e:  # a socket, or no permission
        raise ArchiveError(e.strerror or str(e), path=path) from None
    try:
        return _fd_store(fd, path, digests)
    finally:
        os.close(fd)


def _fd_store(fd: int, label: str, digests: DigestMode) -> Store:
    """A regular file (stdin redirected from one too) is seeked in, unless compressed as a whole; a pipe is read in
    one pass, its data spliced away."""
    if stat.S_ISREG(os.fstat(fd).st_mode):
        start = os.lseek(fd, 0, os.SEEK_CUR)  # stdin redirected from a file starts where the shell left it
        whole = sniff_whole(os.pread(fd, 8, start))
        if whole is None:
            return TarFileStore(label, fd=fd)
        region = FileRegion(fd, start, max(os.fstat(fd).st_size - start, 0), label)
        return StreamStore(Decompressed(region, whole, label, "archive"), label, digests)
    src = FdSource(fd, label)
    try:
        return _stream_store(src, label, digests)
    finally:
        src.close()


def _stream_store(src: BufferedSource | StreamSource, label: str, digests: DigestMode) -> StreamStore:
    """A one-pass store over a stream, through a decompressor when the archive is compressed as a whole."""
    if isinstance(src, StreamSource):
        src = _Buffered(src)
    whole = sniff_whole(src.peek(8))
    return StreamStore(Decompressed(src, whole, label, "archive") if whole else src, label, digests)


class _Buffered(BufferedSource):
    """A buffered view of a file-like stream, so its first bytes can be peeked at."""

    def __init__(self, src: StreamSource) -> None:
        super().__init__()
        self.src = src
        self.label = src.label

    def _pull(self, n: int) -> bytes:
        return self.src.read(n)


def candidates(store: Store) -> list[Candidate]:
    """The images the archive's metadata lists (``manifest.json`` wins over ``index.json`` when both exist);
    the same image listed under several names is one candidate with all its tags."""
    if "manifest.json" in store.docs:
        return _merge(docker_save.candidates(store))
    if "index.json" in store.docs:
        return _merge(oci_layout.candidates(store))
    # (an empty archive never gets here: every store refuses one as it opens)
    raise ArchiveError("not an image archive: no manifest.json or index.json", path=store.label)


def _merge(found: list[Candidate]) -> list[Candidate]:
    merged: dict[tuple[str, tuple[str, ...], str], Candidate] = {}
    for c in found:
        key = (c.ref.config_digest, tuple(c.layer_names), str(c.ref.platform))
        seen = merged.get(key)
        if seen is None:
            merged[key] = c
        else:
            tags = seen.ref.tags + tuple(t for t in c.ref.tags if t not in seen.ref.tags)
            seen.ref = ImageRef(tags, seen.ref.platform, seen.ref.config_digest)
    return list(merged.values())


def list_images(source: str | os.PathLike[str] | IO[bytes]) -> list[ImageRef]:
    """The images an archive holds (tags, platform, config digest), without reading layers."""
    store = open_store(source)
    try:
        return [c.ref for c in candidates(store)]
    finally:
        store.close()


def choose(found: list[Candidate], tag: str | None, platform: str | None, label: str) -> Candidate:
    """Pick one image by tag and platform; ambiguity or no match is a UsageError that lists the images."""
    chosen = found
    if tag:
        chosen = [c for c in chosen if any(_tag_matches(t, tag) for t in c.ref.tags)]
    if platform:
        chosen = [c for c in chosen if c.ref.platform.matches(platform)]
    listing = "; ".join(c.ref.describe() for c in found)
    if not chosen:
        raise UsageError(f"no image matches {_wanted(tag, platform)}; the archive holds: {listing}", path=label)
    if len(chosen) > 1:
        raise UsageError(f"{len(chosen)} images; choose with --tag/--arch: {listing}", path=label)
    return chosen[0]


def _wanted(tag: str | None, platform: str | None) -> str:
    return " and ".join(x for x in (f"tag {tag}" if tag else "", f"platform {platform}" if platform else "") if x)


def _tag_matches(have: str, want: str) -> bool:
    if have == want:
        return True
    # "busybox" means "busybox:latest"; "docker.io/library/x:1" and "localhost/x:1" answer to "x:1"
    want_full = want if ":" in want.rsplit("/", 1)[-1] else f"{want}:latest"
    return have == want_full or have.endswith("/" + want_full)


def read_image(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    tag: str | None = None,
    platform: str | None = None,
    digests: DigestMode = False,
    cache: LayerCache | None = None,
) -> Image:
    """Read one image from an archive: config, history, and every layer's entries (with ``digests``, each regular
    file's sha256 too: that reads every file's data; with ``DUPLICATES``, only what finding duplicates needs:
    see :mod:`dockit.archive.contents`).

    With ``cache`` (for the same ``digests``), a layer whose diff id it holds is taken from it, not scanned (see
    :class:`~dockit.archive.store.LayerCache`), and the layers scanned are added to it.

    >>> img = read_image("image.tar")  # doctest: +SKIP
    >>> [(layer.command, layer.size) for layer in img.layers]  # doctest: +SKIP
    """
    store = open_store(source, digests)
    try:
        chosen = choose(candidates(store), tag, platform, store.label)
        for name in chosen.layer_names:
            if name in store.docs:
                raise ArchiveError("layer is not a tar (nor a gzip or zstd one)", path=f"{store.label}:{name}")
        config = chosen.config
        what = f"image config {chosen.ref.config_digest}"
        diff_ids = [str(d) for d in config_layers(config, what, store.label)]
        by_name = dict(zip(chosen.layer_names, diff_ids, strict=False))  # a config may list fewer: those are ""
        known = cache.known(by_name, digests) if cache is not None else {}
        scanned = store.scan(chosen.layer_names, known)
        if digests == DUPLICATES:
            count = Counter(store.resolve(n) for n in chosen.layer_names)
            pending = [
                Pending(s.entries, s.offsets, partial(store.region, n), count[n])
                for n, s in scanned.items()
                if s.offsets
            ]
            hash_duplicates(pending, [s.entries for s in scanned.values() if not s.offsets])
    finally:
        store.close()
    history = [HistoryEntry.from_config(h) for h in config_history(config, what, store.label)]
    with_layer = iter([h for h in history if not h.empty_layer])
    layers = []
    for i, name in enumerate(chosen.layer_names):
        s = scanned[name]
        diff_id = diff_ids[i] if i < len(diff_ids) else ""
        digest = chosen.layer_digests[i] or diff_id
        source = chosen.layer_sources[i]
        layers.append(Layer(i, diff_id, digest, s.entries, next(with_layer, None), s.compression, s.blob_size, source))
    if cache is not None:
        cache.keep(layers, digests)
    return Image(
        config=config,
        history=history,
        layers=layers,
        format=chosen.format,
        tags=list(chosen.ref.tags),
        config_digest=chosen.ref.config_digest,
        platform=chosen.ref.platform,
    )
