"""Cut a Dockerfile down to the stages one target needs, copying every kept byte from the source.

What changes, and only where it must: a ``COPY --from=<index>`` whose stage moved because earlier stages were removed
now names that stage, and an unnamed stage referred to that way gets ``AS stage-<old index>`` (or another name that
clashes with nothing). Comments above a ``FROM`` travel with their stage; a run of blank lines separates the comments
that close the previous stage from those that open this one.

>>> from dockit.dockerfile import parse
>>> df = parse("FROM alpine AS tools\\nFROM busybox\\nRUN echo hi\\n\\nFROM scratch\\nCOPY --from=1 /bin /bin\\n")
>>> print(prune(df).text, end="")
FROM busybox AS stage-1
RUN echo hi
<BLANKLINE>
FROM scratch
COPY --from=stage-1 /bin /bin
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from dockit.dockerfile import PLATFORM_ARGS, Dockerfile, Instruction, Stage, is_index
from dockit.edit import free_stage_name, name_stage, set_flag_value, split_lead


@dataclass
class Pruned:
    """The pruned Dockerfile's text and how it was made.

    ``renames`` maps an unnamed stage's original index to the name it was given; ``rewrites`` lists each
    ``--from`` that was changed as (line, old value, new value); ``warnings`` are one-line notices for stderr.
    """

    text: str
    target: Stage
    closure: list[Stage]
    renames: dict[int, str] = field(default_factory=dict)
    rewrites: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prune(df: Dockerfile, target: str | int | None = None, explicit_args: Collection[str] = ()) -> Pruned:
    """The stages ``target`` (name, index, or None for the last stage) needs, as Dockerfile text.

    ``explicit_args`` are ARG names the user gave a value for outside ``df.build_args`` (the platform built-ins when
    ``--platform`` was given): a FROM that depends on any other ARG not in ``df.build_args`` gets a warning.
    Raises DockerfileError for an unknown target.
    """
    start = df.stages[-1] if target is None else df.stage(target)
    closure = df.closure(start.index)
    kept = {s.index for s in closure}
    new_index = {s.index: i for i, s in enumerate(closure)}
    result = Pruned(text="", target=start, closure=closure)

    edited: dict[int, str] = {}  # id(instruction) -> its new text
    wanted_names: dict[int, str] = {}
    for stage in closure:
        for ref in stage.refs:
            if ref.kind != "copy" or not is_index(ref.ref) or ref.stage is None:
                continue
            if new_index[ref.stage] == ref.stage:
                continue
            name = wanted_names.get(ref.stage) or free_stage_name(df, ref.stage, wanted_names.values())
            wanted_names[ref.stage] = name
            edited[id(ref.instruction)] = set_flag_value(ref.instruction, "from", name, df.escape)
            result.rewrites.append((ref.instruction.line, ref.ref, name))
    for index, name in wanted_names.items():
        stage = df.stages[index]
        if stage.name is None:
            edited[id(stage.from_instruction)] = name_stage(stage.from_instruction, name, df.escape)
            result.renames[index] = name

    result.text = _assemble(df, kept, edited)
    result.warnings = _assumption_warnings(df, closure, explicit_args)
    return result


def _text(inst: Instruction, edited: dict[int, str]) -> str:
    return edited.get(id(inst), inst.text)


def _assemble(df: Dockerfile, kept: set[int], edited: dict[int, str]) -> str:
    """Directives, global ARGs, then each kept stage; where a removed stage was, one blank line."""
    splits = [split_lead(s.from_instruction.lead) for s in df.stages]
    head = df.preamble + "".join(str(a) for a in df.global_args) + splits[0][0]
    out = [head]
    previous_kept = True
    for stage in df.stages:
        i = stage.index
        if i not in kept:
            previous_kept = False
            continue
        _, gap, own = splits[i]
        if previous_kept:
            out.append(gap)
        elif any(out):
            out.append("\n")
        out.append(own + _text(stage.from_instruction, edited))
        out.extend(inst.lead + _text(inst, edited) for inst in stage.instructions)
        out.append(splits[i + 1][0] if i + 1 < len(df.stages) else df.trailer)
        previous_kept = True
    return "".join(out)


def _assumption_warnings(df: Dockerfile, closure: list[Stage], explicit_args: Collection[str]) -> list[str]:
    """One warning per assumed ARG, at the first kept FROM that reads it (the others are listed by line)."""
    uses: dict[tuple[str, str], list[Stage]] = {}
    for stage in closure:
        for name, value in stage.assumed_args.items():
            if name not in explicit_args:
                uses.setdefault((name, value), []).append(stage)
    warnings = []
    for (name, value), stages in uses.items():
        first = stages[0]
        assumed = f"{name}={value}" if value else f"{name} unset"
        given_by = "--platform" if name in PLATFORM_ARGS else "--build-arg"
        also = f"; also line {', '.join(str(s.line) for s in stages[1:])}" if len(stages) > 1 else ""
        warnings.append(f"{df.path}:{first.line}: FROM {first.base_raw}: assumed {assumed} (no {given_by}){also}")
    return warnings
