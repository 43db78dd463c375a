"""The report dlayer prints: per layer its size, command and biggest paths; then what the image wastes.

Pure functions over dockit's model; the text, JSON and interactive front ends only format a :class:`Report`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from dlayer.dive import DiveFigures, analyze
from dockit.archive.model import DIRECTORY, Entry, Image, Layer
from dockit.archive.stacking import Stack, stack


@dataclass(slots=True)
class PathSize:
    """A path (aggregated to the report's depth) and the bytes under it in one layer."""

    path: str
    size: int
    files: int
    entry: Entry | None = None  # the entry itself when the path is a single file, for -a


@dataclass(slots=True)
class LayerReport:
    """One layer: its size, command, the bytes it deletes from below, and its biggest paths."""

    layer: Layer
    size: int
    top: list[PathSize]
    paths: int
    deleted_bytes: int
    wasted_bytes: int


@dataclass(slots=True)
class Report:
    """Everything dlayer shows about an image."""

    image: Image
    layers: list[LayerReport]
    stack: Stack
    figures: DiveFigures | None = None  # dive's (see build_report)

    @property
    def dive(self) -> DiveFigures:
        """dive's figures for the image (efficiency, its wasted bytes, references), made now if they were not."""
        if self.figures is None:
            self.figures = analyze(self.image)
        return self.figures

    @property
    def size(self) -> int:
        """Total bytes of all layers."""
        return sum(layer.size for layer in self.layers)

    @property
    def wasted_bytes(self) -> int:
        """Bytes in layers that the final filesystem no longer shows (overwritten or deleted)."""
        return self.stack.wasted_bytes


def aggregate(entries: list[Entry], depth: int, top: int | None = None) -> tuple[list[PathSize], int]:
    """Sizes of the entries summed per path cut to ``depth`` components, biggest first: the ``top`` ones (all
    when None), and how many paths there are.

    >>> e = lambda p, s: Entry(p, "0", s, 0o644, 0, 0, "", p)
    >>> paths, count = aggregate([e("a/b/c", 5), e("a/b/d", 7), e("x", 1)], 2, top=1)
    >>> [(x.path, x.size, x.files) for x in paths], count
    ([('a/b', 12, 2)], 2)
    """
    sums: dict[str, list[int]] = {}
    single: dict[str, Entry] = {}
    for e in entries:
        path = e.path
        if e.type == DIRECTORY or (".wh." in path and e.is_whiteout):
            continue
        key = "/".join(path.split("/", depth)[:depth]) if path.count("/") >= depth else path
        slot = sums.get(key)
        if slot is None:
            sums[key] = [e.size, 1]
            single[key] = e
        else:
            slot[0] += e.size
            slot[1] += 1

    def rank(k: str) -> tuple[int, str]:
        return -sums[k][0], k

    ranked = sorted(sums, key=rank) if top is None or top >= len(sums) else heapq.nsmallest(top, sums, key=rank)
    out = []
    for k in ranked:
        size, files = sums[k]
        out.append(PathSize(k, size, files, single[k] if files == 1 and single[k].path == k else None))
    return out, len(sums)


def build_report(image: Image, top: int = 100, depth: int = 8, final: bool = False, dive: bool = True) -> Report:
    """Compute the report for ``image``: ``top`` paths per layer, paths aggregated to ``depth`` components;
    ``final`` also keeps the final filesystem in ``report.stack.final`` (``dlayer diff`` compares it); without
    ``dive``, dive's figures are left until asked for (``dlayer diff`` never asks)."""
    stacked = stack(image.layers, final=final)
    deleted: dict[int, int] = {}
    wasted: dict[int, int] = {}
    for h in stacked.hidden:
        wasted[h.layer] = wasted.get(h.layer, 0) + h.wasted
        if h.how == "deleted":
            deleted[h.by] = deleted.get(h.by, 0) + h.wasted
    layers = []
    for layer in image.layers:
        paths, count = aggregate(layer.entries, max(depth, 1), max(top, 0))
        layers.append(
            LayerReport(
                layer=layer,
                size=layer.size,
                top=paths,
                paths=count,
                deleted_bytes=deleted.get(layer.index, 0),
                wasted_bytes=wasted.get(layer.index, 0),
            )
        )
    return Report(image=image, layers=layers, stack=stacked, figures=analyze(image) if dive else None)
