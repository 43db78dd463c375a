"""Stacking layers as overlayfs does: whiteouts (``.wh.NAME``) delete, opaque markers (``.wh..wh..opq``) hide a
directory's lower contents, a later entry at the same path overwrites, a non-directory replaces a whole subtree.

The answer is, for each entry of each layer, whether the final filesystem still shows it, and if not which layer
hid it and how. Bytes hidden that way are wasted: the image carries them, nobody can see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dockit.archive.model import DIRECTORY, HARDLINK, Entry, Layer

How = Literal["overwritten", "deleted"]


@dataclass(frozen=True, slots=True)
class Hidden:
    """An entry the final filesystem no longer shows: ``by`` is the index of the layer that hid it."""

    layer: int
    entry: Entry
    by: int
    how: How
    wasted: int = 0  # the entry's bytes, unless a hardlink the final filesystem still shows keeps them


@dataclass(slots=True)
class Stack:
    """The result of stacking an image's layers."""

    hidden: list[Hidden] = field(default_factory=list)
    final: dict[str, tuple[int, Entry]] = field(default_factory=dict)

    @property
    def wasted_bytes(self) -> int:
        """Bytes in layers that the final filesystem does not show (overwritten or deleted later)."""
        return sum(h.wasted for h in self.hidden)

    def hidden_in(self, layer: int) -> list[Hidden]:
        """Entries of ``layer`` that later layers hid."""
        return [h for h in self.hidden if h.layer == layer]

    def deleted_by(self, layer: int) -> list[Hidden]:
        """Entries of earlier layers that ``layer``'s whiteouts delete."""
        return [h for h in self.hidden if h.by == layer and h.how == "deleted"]

    def wasted_paths(self) -> list[tuple[str, int, int]]:
        """``(path, bytes, copies)`` of hidden regular files, grouped by path, biggest first."""
        by_path: dict[str, list[int]] = {}
        for h in self.hidden:
            if h.wasted:
                slot = by_path.setdefault(h.entry.path, [0, 0])
                slot[0] += h.wasted
                slot[1] += 1
        return sorted(((p, s, n) for p, (s, n) in by_path.items()), key=lambda t: (-t[1], t[0]))


def stack(layers: list[Layer], final: bool = True) -> Stack:
    """Stack ``layers`` (base first) and record what each later layer hides (and, unless ``final`` is False,
    what the final filesystem shows: a path -> (layer, entry) map as big as the image).

    Walks from the top layer down, so each entry needs one lookup for itself and one per ancestor directory.
    """
    result = Stack()
    exact: dict[str, tuple[int, How]] = {}  # path -> the topmost later layer with an entry (or whiteout) there
    subtree: dict[str, tuple[int, How]] = {}  # dir -> a later layer deleted/replaced/opaqued what lies below it
    for layer in reversed(layers):
        entries = layer.entries
        last_parent: str | None = None  # tar order groups a directory's entries: walk its ancestors once
        parent_hit: tuple[int, How] | None = None
        here: set[str] = set()
        lost: list[tuple[Entry, int, How]] = []
        # last entry first: a path written twice in one layer keeps its last copy, the first is overwritten
        for entry in reversed(entries):
            path = entry.path
            if ".wh." in path and entry.is_whiteout:
                continue
            if path in here:
                lost.append((entry, layer.index, "overwritten"))
                continue
            here.add(path)
            hit = exact.get(path)
            if hit is None and subtree:
                cut = path.rfind("/")
                if cut > 0:
                    parent = path[:cut]
                    if parent != last_parent:
                        last_parent = parent
                        parent_hit = None
                        while cut > 0:
                            parent_hit = subtree.get(path[:cut])
                            if parent_hit is not None:
                                break
                            cut = path.rfind("/", 0, cut)
                    hit = parent_hit
                if hit is None:
                    hit = subtree.get("")  # an opaque marker at the root hides every lower entry
            if hit is not None:
                lost.append((entry, hit[0], hit[1]))
            elif final:
                result.final.setdefault(path, (layer.index, entry))
        # a file hidden here whose hardlink (same layer) stays visible has not lost its bytes
        hidden_paths = {e.path for e, _, _ in lost}
        kept = {
            e.link.lstrip("/").removeprefix("./") for e in entries if e.type == HARDLINK and e.path not in hidden_paths
        }
        for e, by, how in lost:
            result.hidden.append(Hidden(layer.index, e, by, how, 0 if e.path in kept else e.size))
        mine: dict[str, tuple[int, How]] = {}
        mine_sub: dict[str, tuple[int, How]] = {}
        for entry in entries:
            path = entry.path
            if ".wh." in path and entry.is_whiteout:
                gone = entry.deleted_path
                if entry.is_opaque:
                    mine_sub[gone] = (layer.index, "deleted")
                else:
                    mine[gone] = mine_sub[gone] = (layer.index, "deleted")
                continue
            mine[path] = (layer.index, "overwritten")
            if entry.type != DIRECTORY:
                mine_sub[path] = (layer.index, "overwritten")
        # walking down, the lowest layer that hides a path is the one that hid it first
        exact.update(mine)
        subtree.update(mine_sub)
    shown = result.final
    result.final = {k: shown[k] for k in sorted(shown)}
    return result
