"""The text report: per layer a size bar, the command (shell-wrapped when long) and its largest paths; then the
summary (total, wasted, dive's efficiency) and the top wasted paths."""

from __future__ import annotations

import math
import re
import stat
import textwrap

from dlayer.findings import Finding, Step
from dlayer.report import LayerReport, PathSize, Report
from dlayer.units import human

_SPLIT = re.compile(r"\s+(&&|\|\||;)\s+")


def wrap_command(command: str, width: int) -> list[str]:
    """Lines of a shell command no wider than ``width``: cut at ``&&``, ``||`` and ``;`` first, then at spaces.

    >>> wrap_command("apt-get update && apt-get install -y curl", 32)
    ['apt-get update \\\\', '    && apt-get install -y curl']
    """
    command = " ".join(command.split())
    if len(command) <= width:
        return [command]
    pieces = _SPLIT.split(command)
    clauses = [pieces[0]] + [f"{pieces[i]} {pieces[i + 1]}" for i in range(1, len(pieces) - 1, 2)]
    lines: list[str] = []
    for n, clause in enumerate(clauses):
        indent = "" if n == 0 else "    "
        lines += textwrap.wrap(
            clause, width=max(width - 2, 10), initial_indent=indent, subsequent_indent="    ", break_on_hyphens=False
        ) or [indent]
    return [line + " \\" for line in lines[:-1]] + [lines[-1]]


def _bar(size: int, biggest: int, width: int) -> str:
    if biggest <= 0 or width <= 0:
        return ""
    filled = round(width * size / biggest)
    if size and not filled:
        filled = 1
    return "█" * filled + "░" * (width - filled)


def _attrs(p: PathSize) -> str:
    e = p.entry
    if e is None:
        return f"{'':10} {'':>11}"
    kind = {"5": "d", "2": "l", "1": "h", "3": "c", "4": "b", "6": "p"}.get(e.type, "-")
    return f"{kind}{stat.filemode(e.mode)[1:]} {f'{e.uid}:{e.gid}':>11}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _percent(share: float) -> str:
    """Rounded down: an image that wastes anything never shows 100.00%."""
    return f"{math.floor(share * 10000) / 100:.2f}%"


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_layer(lr: LayerReport, biggest: int, width: int, attrs: bool, pulled: bool = False) -> list[str]:
    """The lines of one layer's block (``pulled``: the layer came from a registry, say what fetching it cost)."""
    layer = lr.layer
    bar_width = max(10, width // 4)
    head = f"[{layer.index}] {human(lr.size):>8}  {_bar(lr.size, biggest, bar_width)}"
    extras = [f"{human(layer.blob_size)} {layer.compression} to pull"] if pulled else []
    if lr.deleted_bytes:
        extras.append(f"deletes {human(lr.deleted_bytes)} below")
    if lr.wasted_bytes:
        extras.append(f"{human(lr.wasted_bytes)} hidden above")
    if extras:
        head += "  (" + ", ".join(extras) + ")"
    lines = [cut(head, width)]
    lines += ["    " + line for line in wrap_command(layer.command, max(width - 4, 20))]
    for p in lr.top:
        prefix = f"      {human(p.size):>8}  "
        if attrs:
            prefix += _attrs(p) + "  "
        name = "/" + p.path + ("/" if p.entry is None else "")
        lines.append(prefix + _fit(name, max(width - len(prefix), 10)))
    hidden = lr.paths - len(lr.top)
    if hidden > 0:
        lines.append(f"      … {hidden} more")
    return lines


def render(report: Report, width: int = 100, attrs: bool = False, top_wasted: int = 10, layers: bool = True) -> str:
    """The whole text report (``layers=False``: the title and summary only)."""
    image = report.image
    biggest = max((lr.size for lr in report.layers), default=0)
    title = f"{image.name or '<untagged>'}  {image.platform}  {image.format}"
    out = [_fit(title, width), ""]
    for lr in report.layers if layers else []:
        out += render_layer(lr, biggest, width, attrs, pulled=image.origin == "registry")
        out.append("")
    dive = report.dive
    out.append(cut(f"Total size:         {human(report.size)} in {len(report.layers)} layers", width))
    share = f" ({report.wasted_bytes / report.size:.1%})" if report.size else ""
    out.append(cut(f"Wasted:             {human(report.wasted_bytes)}{share} overwritten or deleted later", width))
    efficiency = f"Efficiency (dive):  {_percent(dive.efficiency)}, inefficient bytes {human(dive.inefficient_bytes)}"
    out.append(cut(efficiency, width))
    wasted = report.stack.wasted_paths()
    if wasted:
        out.append("Top wasted paths:")
        for path, size, copies in wasted[:top_wasted]:
            out.append(_fit(f"  {human(size):>8}  {copies}x  /{path}", width))
    return "\n".join(out) + "\n"


def _step(layer: int, at: Step | None, command: str, width: int) -> str:
    """How a finding names a step: ``Dockerfile:14 `RUN pip install ...``` when mapped, else the layer and its
    command."""
    if at is not None:
        return f"{at.path}:{at.line} `{cut(at.text, width)}`"
    return f"layer {layer} `{cut(' '.join(command.split()), width)}`"


def render_findings(findings: list[Finding], report: Report, width: int = 100, most: int = 10) -> str:
    """The findings block: one entry per pair of steps, biggest first, with the paths and the fix."""
    if not findings:
        return ""
    command = {layer.index: layer.command for layer in report.image.layers}
    out = ["Findings:"]
    room = max(width // 3, 20)
    for f in findings[:most]:
        added = _step(f.added_by, f.added_at, command.get(f.added_by, ""), room)
        if f.how == "kept":
            what = f"{added} leaves a build toolchain in the final image"
        else:
            hidden = _step(f.hidden_by, f.hidden_at, command.get(f.hidden_by, ""), room)
            verb = "deletes" if f.how == "deleted" else "overwrites"
            what = f"{hidden} {verb} what {added} added"
        out += textwrap.wrap(f"  {human(f.bytes):>8}  {what}", width, subsequent_indent=" " * 12,
                             break_on_hyphens=False)  # fmt: skip
        shown = ", ".join(f"/{path}" for path, _ in f.paths[:3])
        more = f" and {f.files - 3} more" if f.files > 3 else ""
        noun = "file" if f.files == 1 else "files"
        out += textwrap.wrap(f"{f.files} {noun}: {shown}{more}", width, initial_indent=" " * 12,
                             subsequent_indent=" " * 14, break_on_hyphens=False)  # fmt: skip
        advice = f"{f.remedy}: {f.advice}" if f.remedy else f.advice
        if f.remedy and f.how == "deleted":
            advice += "; or do both in one RUN"
        out += textwrap.wrap("fix: " + advice, width, initial_indent=" " * 12, subsequent_indent=" " * 17)
        if f.merging is not None and f.added_at is not None:
            sentence = f.merging.sentence(f.added_at.path)
            out += textwrap.wrap(sentence, width, initial_indent=" " * 12, subsequent_indent=" " * 14,
                                 break_on_hyphens=False)  # fmt: skip
    if len(findings) > most:
        out.append(f"  … {len(findings) - most} more (-j writes them all)")
    return "\n".join(out) + "\n"
