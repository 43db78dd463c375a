"""``dlayer --duplicates``: the same bytes stored more than once, and what storing them once would save.

Every regular file of every layer is a stored copy, whether the final filesystem shows it or a later layer hid it
(the image carries both). Copies with the same digest (and more than zero bytes) are one content; storing it once
saves N-1 copies: a hard link where the copies sit in one layer, a single COPY (or one step that writes the file
once) where they sit in several. Needs the image read with digests (``DUPLICATES`` is enough: it hashes only the
files another file could match, see :mod:`dockit.archive.contents`); hard links are already one copy.

>>> from dockit.archive.model import Entry, Image, Layer
>>> def f(path, digest): return Entry(path, "0", 40, 0o644, 0, 0, "", path, "", digest)
>>> layers = [Layer(0, "", "", [f("a", "d1"), f("b", "d1"), f("c", "d2")]), Layer(1, "", "", [f("d", "d1")])]
>>> [(d.size, d.saved, [(c.layer, c.path) for c in d.copies]) for d in find(Image({}, [], layers, "t"))]
[(40, 80, [(0, 'a'), (0, 'b'), (1, 'd')])]
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from dlayer.units import human
from dockit.archive.model import REGULAR, Entry, Image
from dockit.archive.stacking import Stack


@dataclass(frozen=True, slots=True)
class Copy:
    """One stored copy: its layer and path; ``hidden`` when a later layer deleted or overwrote it."""

    layer: int
    path: str
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Duplicate:
    """One content stored more than once."""

    digest: str
    size: int
    copies: tuple[Copy, ...]  # by layer, then path

    @property
    def saved(self) -> int:
        """The bytes storing it once would save: every copy but one."""
        return self.size * (len(self.copies) - 1)

    @property
    def fix(self) -> str:
        """How to store it once: a hard link within one layer, else one COPY (or one step) for all of them."""
        if len({c.layer for c in self.copies}) == 1:
            return "a hard link"
        if len({c.path for c in self.copies}) == 1:
            return "writing it in one step (a later layer stores the same file again)"
        return "a single COPY (or a hard link made in the step that writes it)"


def find(image: Image, stack: Stack | None = None) -> list[Duplicate]:
    """The contents of ``image`` stored more than once, the biggest saving first (then by first path).

    ``stack`` (the image's :func:`~dockit.archive.stacking.stack`) marks the hidden copies; without it none is.
    """
    groups: dict[tuple[str, int], list[tuple[int, Entry]]] = {}
    for layer in image.layers:
        index = layer.index
        for e in layer.entries:
            if e.digest and e.size > 0 and e.type == REGULAR:
                groups.setdefault((e.digest, e.size), []).append((index, e))
    many = [(key, copies) for key, copies in groups.items() if len(copies) > 1]  # most contents are stored once
    # by layer and entry: a blob listed at two positions hands both the same Entry objects, and only the lower
    # position's copy is hidden
    hidden = {(h.layer, id(h.entry)) for h in stack.hidden} if stack is not None and many else set()
    found = [
        Duplicate(
            digest, size, tuple(sorted((Copy(i, e.path, (i, id(e)) in hidden) for i, e in copies), key=_by_place))
        )
        for (digest, size), copies in many
    ]
    found.sort(key=lambda d: (-d.saved, d.copies[0].path))
    return found


def _by_place(c: Copy) -> tuple[int, str]:
    return c.layer, c.path


def render(found: list[Duplicate], width: int = 100, most: int = 10, paths: int = 5) -> str:
    """The text block: the total, then each content with its copies, biggest saving first."""
    if not found:
        return "Duplicates: none (no content stored twice)\n"
    total = sum(d.saved for d in found)
    noun = "content" if len(found) == 1 else "contents"
    out = [f"Duplicates: {len(found)} {noun} stored more than once; storing each once saves {human(total)}:"]
    for d in found[:most]:
        head = f"  {human(d.saved):>8}  {len(d.copies)} copies of {human(d.size)} (sha256:{d.digest[:12]}): "
        shown = ", ".join(f"[{c.layer}] /{c.path}" + (" (hidden)" if c.hidden else "") for c in d.copies[:paths])
        more = f" and {len(d.copies) - paths} more" if len(d.copies) > paths else ""
        out += textwrap.wrap(head + shown + more, width, subsequent_indent=" " * 12, break_on_hyphens=False)
        out.append(f"{'':12}fix: {d.fix}")
    if len(found) > most:
        out.append(f"  … {len(found) - most} more (-j writes them all)")
    return "\n".join(out) + "\n"


def document(found: list[Duplicate]) -> dict[str, object]:
    """The duplicates as JSON (the ``duplicates`` key of ``-j``): the total saving and every content's copies."""
    return {
        "savedBytes": sum(d.saved for d in found),
        "contents": [
            {
                "digest": f"sha256:{d.digest}",
                "size": d.size,
                "copies": len(d.copies),
                "savedBytes": d.saved,
                "fix": d.fix,
                "paths": [{"layer": c.layer, "path": "/" + c.path, "hidden": c.hidden} for c in d.copies],
            }
            for d in found
        ],
    }
