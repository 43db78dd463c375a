"""What a Dockerfile's stages need, for people (a table), for Graphviz (DOT) and for programs (JSON)."""

from __future__ import annotations

import json
from typing import Any

from dockit.dockerfile import Dockerfile, Stage


def _needs(df: Dockerfile, stage: Stage) -> list[str]:
    return [df.stages[i].label for i in stage.deps()]


def stage_table(df: Dockerfile, target: Stage, closure: list[Stage]) -> str:
    """One line per stage: index, name, base, the stages it needs, and whether the target needs it.

    >>> from dockit.dockerfile import parse
    >>> df = parse("FROM alpine AS a\\nFROM busybox AS b\\nFROM a\\n")
    >>> print(stage_table(df, df.stages[2], df.closure(2)), end="")
    #  NAME  BASE     NEEDS  TARGET
    0  a     alpine   -      needed
    1  b     busybox  -      -
    2  -     a        a      target
    """
    needed = {s.index for s in closure}
    rows = [("#", "NAME", "BASE", "NEEDS", "TARGET")]
    for s in df.stages:
        status = "target" if s.index == target.index else "needed" if s.index in needed else "-"
        rows.append((str(s.index), s.name or "-", s.base, ", ".join(_needs(df, s)) or "-", status))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    return "".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) + f"  {r[-1]}\n" for r in rows)


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stage_graph(df: Dockerfile, target: Stage, closure: list[Stage]) -> str:
    """The stage graph in Graphviz DOT: an edge from each stage or external image to the stages that use it.

    Stages the target needs are filled, the target has a double border, external images are dashed ellipses.
    """
    needed = {s.index for s in closure}
    lines = ["digraph stages {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    externals: dict[str, str] = {}
    edges: dict[str, None] = {}  # insertion-ordered set: a list's `in` made 10,000 stages take seconds
    for s in df.stages:
        title = f"{s.name} ({s.index})" if s.name else str(s.index)
        attrs = [f"label={_dot_id(title)[:-1]}\\n{_dot_id(s.base)[1:]}"]
        if s.index in needed:
            attrs.append('style=filled, fillcolor="#cfe8ff"')
        if s.index == target.index:
            attrs.append("peripheries=2")
        lines.append(f"  s{s.index} [{', '.join(attrs)}];")
        for ref in s.refs:
            source = f"s{ref.stage}" if ref.stage is not None else externals.setdefault(ref.ref, f"x{len(externals)}")
            edge = f"  {source} -> s{s.index} [label={_dot_id(ref.kind)}];"
            edges[edge] = None
    for ref_name, node in externals.items():
        lines.append(f"  {node} [label={_dot_id(ref_name)}, shape=ellipse, style=dashed];")
    return "\n".join([*lines, *edges, "}"]) + "\n"


def stage_json(df: Dockerfile, target: Stage, closure: list[Stage], renames: dict[int, str]) -> str:
    """The target, its closure (stage indexes in file order) and every stage with its references, as JSON."""
    needed = {s.index for s in closure}
    doc: dict[str, Any] = {
        "file": df.path,
        "target": target.index,
        "closure": [s.index for s in closure],
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "line": s.line,
                "base": s.base,
                "base_raw": s.base_raw,
                "platform": s.platform,
                "needs": s.deps(),
                "needed": s.index in needed,
                "renamed": renames.get(s.index),
                "assumed_args": s.assumed_args,
                "refs": [{"kind": r.kind, "ref": r.ref, "stage": r.stage, "line": r.instruction.line} for r in s.refs],
            }
            for s in df.stages
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
