"""``dlayer diff A B``: what changed between two images, and what it costs.

The layers both images share (the same diff id, from the bottom up) are said once; then every path of the final
filesystems that was added, removed or changed (type, size, mode, owner, link target), biggest change first; then
the totals side by side. Only the final filesystems are compared, path by path: memory grows with the number of
paths, never with their bytes. A file both images hold with the same header, from layers that are not shared, is
"the same" here: its contents are not read (so a rebuild that writes the same files again shows no change), unless
both images were read with digests and ``contents`` is asked for: then a same-header file whose data differs is
changed ("contents").
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass

from dlayer.report import Report
from dlayer.text import cut
from dlayer.units import human
from dockit.archive.model import REGULAR, Entry, Layer

KIND = {"0": "file", "1": "hardlink", "2": "symlink", "3": "char device", "4": "block device", "5": "dir", "6": "fifo"}


@dataclass(frozen=True, slots=True)
class Change:
    """One path that differs: ``added`` (only in B), ``removed`` (only in A) or ``changed``; ``a``/``b`` are its
    entries (None where absent); ``what`` lists the differing fields for a change."""

    path: str
    change: str
    a: Entry | None
    b: Entry | None
    what: tuple[str, ...] = ()

    @property
    def delta(self) -> int:
        """Bytes B has more (negative: fewer) at this path."""
        return (self.b.size if self.b else 0) - (self.a.size if self.a else 0)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two reports and what separates them."""

    a: Report
    b: Report
    shared: list[Layer]  # the bottom layers both have, in order
    changes: list[Change]  # biggest |delta| first, then by path


def _fields(a: Entry, b: Entry) -> tuple[str, ...]:
    what = []
    if a.type != b.type:
        what.append(f"type {KIND.get(a.type, a.type)} -> {KIND.get(b.type, b.type)}")
    if a.size != b.size:
        what.append(f"size {human(a.size)} -> {human(b.size)}")
    if stat.S_IMODE(a.mode) != stat.S_IMODE(b.mode):
        what.append(f"mode {stat.S_IMODE(a.mode):04o} -> {stat.S_IMODE(b.mode):04o}")
    if (a.uid, a.gid) != (b.uid, b.gid):
        what.append(f"owner {a.uid}:{a.gid} -> {b.uid}:{b.gid}")
    if a.link != b.link:
        what.append(f"link {a.link or '-'} -> {b.link or '-'}")
    return tuple(what)


def shared_layers(a: list[Layer], b: list[Layer]) -> list[Layer]:
    """The common bottom of two layer lists: the same diff ids in the same order (a layer is its content *on top
    of* those below it, so sharing stops at the first difference)."""
    common = []
    for la, lb in zip(a, b, strict=False):
        if not la.diff_id or la.diff_id != lb.diff_id:
            break
        common.append(la)
    return common


def compare(a: Report, b: Report, contents: bool = False) -> Comparison:
    """What separates ``a``'s image from ``b``'s (both reports from :func:`dlayer.report.build_report`); with
    ``contents`` (both images read with ``digests=True``) regular files are compared by their data too."""
    shared = shared_layers(a.image.layers, b.image.layers)
    bottom = len(shared)
    final_a, final_b = _final(a), _final(b)
    changes = []
    for path, (la, ea) in final_a.items():
        found = final_b.get(path)
        if found is None:
            changes.append(Change(path, "removed", ea, None))
            continue
        lb, eb = found
        if la < bottom and lb < bottom:
            continue  # the same shared layer shows it in both
        what = _fields(ea, eb)
        if not what and contents and ea.type == REGULAR and ea.digest != eb.digest:
            what = ("contents",)
        if what:
            changes.append(Change(path, "changed", ea, eb, what))
    changes += [Change(path, "added", None, eb) for path, (_, eb) in final_b.items() if path not in final_a]
    changes.sort(key=lambda c: (-abs(c.delta), c.path))
    return Comparison(a, b, shared, changes)


def _final(report: Report) -> dict[str, tuple[int, Entry]]:
    """The final filesystem of a report's image (path -> (layer, entry)): the one the report kept when it was built
    with ``final=True``, as run_diff builds it, else stacked here."""
    if report.stack.final or not report.image.layers:
        return report.stack.final
    from dockit.archive.stacking import stack

    return stack(report.image.layers).final


def _layers(n: int) -> str:
    return f"{n} layer" if n == 1 else f"{n} layers"


def _files(final_size: int, report: Report) -> str:
    return f"{human(final_size)} in {_layers(len(report.layers))}, {human(report.wasted_bytes)} wasted"


def render(cmp: Comparison, width: int = 100, most: int = 50) -> str:
    """The text of a comparison: the two images, the shared layers, the changes, the totals."""
    out = [
        f"A: {cmp.a.image.name or '<untagged>'}  ({_files(cmp.a.size, cmp.a)})",
        f"B: {cmp.b.image.name or '<untagged>'}  ({_files(cmp.b.size, cmp.b)})",
        "",
    ]
    if cmp.shared:
        size = sum(layer.size for layer in cmp.shared)
        out.append(f"Shared layers: {len(cmp.shared)} ({human(size)}), said once:")
        out += [cut(f"  [{layer.index}] {human(layer.size):>8}  {layer.command}", width) for layer in cmp.shared]
    else:
        out.append("Shared layers: none")
    rest_a = cmp.a.image.layers[len(cmp.shared) :]
    rest_b = cmp.b.image.layers[len(cmp.shared) :]
    out.append(
        f"Only in A: {_layers(len(rest_a))} ({human(sum(x.size for x in rest_a))}); "
        f"only in B: {_layers(len(rest_b))} ({human(sum(x.size for x in rest_b))})"
    )
    out += ["", f"Changes ({len(cmp.changes)}, biggest first):" if cmp.changes else "Changes: none"]
    sign = {"added": "+", "removed": "-", "changed": "~"}
    for c in cmp.changes[:most]:
        delta = ("+" if c.delta > 0 else "-" if c.delta < 0 else " ") + human(abs(c.delta))
        line = f"  {sign[c.change]} {delta:>9}  {c.change:<8} /{c.path}"
        if c.what:
            line += "  (" + ", ".join(c.what) + ")"
        out.append(cut(line, width))
    if len(cmp.changes) > most:
        out.append(f"  … {len(cmp.changes) - most} more (--json lists them all)")
    out += ["", f"{'':16}{'A':>12}{'B':>12}{'B - A':>12}"]
    rows: list[tuple[str, int, int, Callable[[int], str]]] = [
        ("size", cmp.a.size, cmp.b.size, human),
        ("layers", len(cmp.a.layers), len(cmp.b.layers), str),
        ("wasted", cmp.a.wasted_bytes, cmp.b.wasted_bytes, human),
    ]
    for label, va, vb, fmt in rows:
        more = vb - va
        shown = ("+" if more > 0 else "-" if more < 0 else "") + fmt(abs(more))
        out.append(f"  {label:<14}{fmt(va):>12}{fmt(vb):>12}{shown:>12}")
    return "\n".join(out) + "\n"


def document(cmp: Comparison) -> dict[str, object]:
    """The comparison as JSON."""

    def entry(e: Entry | None) -> dict[str, object] | None:
        if e is None:
            return None
        return {"type": KIND.get(e.type, e.type), "size": e.size, "mode": stat.S_IMODE(e.mode), "uid": e.uid,
                "gid": e.gid, "link": e.link}  # fmt: skip

    def side(report: Report) -> dict[str, object]:
        return {
            "name": report.image.name,
            "size": report.size,
            "layers": len(report.layers),
            "wastedBytes": report.wasted_bytes,
        }

    return {
        "a": side(cmp.a),
        "b": side(cmp.b),
        "sharedLayers": [
            {"index": x.index, "diffId": x.diff_id, "size": x.size, "command": x.command} for x in cmp.shared
        ],
        "changes": [
            {
                "path": "/" + c.path,
                "change": c.change,
                "delta": c.delta,
                "a": entry(c.a),
                "b": entry(c.b),
                "what": list(c.what),
            }
            for c in cmp.changes
        ],
    }
