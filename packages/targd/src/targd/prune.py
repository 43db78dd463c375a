"""Cut a Dockerfile down to the stages one target needs, copying every kept byte from the source.

What changes, and only where it must: a ``COPY --from=<index>`` whose stage moved because earlier stages were removed
now names that stage, and an unnamed stage referred to that way gets ``AS stage-<old index>`` (or another name that
clashes with nothing). Where an ARG's value chose the stage a FROM builds on (``FROM base-${FLAVOR}``) and that value
would not be the one a build without ``--build-arg`` gets, the output says so itself: the value becomes the global
ARG's default, under a comment saying targd set it and from what; a stage chosen by a platform ARG
(``FROM base-${TARGETARCH}``) is named in the FROM. So the output builds the same image with or without the
argument. Comments above a ``FROM`` travel with their stage; a run of blank lines separates the comments
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
from dataclasses import dataclass, field, replace

from dockit.dockerfile import PLATFORM_ARGS, Dockerfile, Instruction, Stage, host_platform, is_index
from dockit.edit import free_stage_name, name_stage, set_base, set_flag_value, split_lead
from dockit.expand import referenced_names
from dockit.words import literal_word


@dataclass(frozen=True)
class Choice:
    """A FROM whose variables chose the stage it builds on: ``names`` its image reference read."""

    stage: Stage
    chosen: Stage
    names: tuple[str, ...]


def stage_choices(df: Dockerfile, closure: list[Stage]) -> list[Choice]:
    """The kept FROMs whose image reference reads variables and names a stage."""
    out = []
    for stage in closure:
        ref = stage.refs[0]  # the FROM's
        names = tuple(dict.fromkeys(referenced_names(stage.base_raw, df.escape)))
        if ref.stage is not None and names:
            out.append(Choice(stage, df.stages[ref.stage], names))
    return out


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


def prune(
    df: Dockerfile,
    target: str | int | None = None,
    explicit_args: Collection[str] = (),
    plain_platform: str | None = None,
) -> Pruned:
    """The stages ``target`` (name, index, or None for the last stage) needs, as Dockerfile text.

    ``explicit_args`` are ARG names the user gave a value for outside ``df.build_args`` (the platform built-ins when
    ``--platform`` was given): a FROM whose stage an ARG not among them chose gets a warning. ``plain_platform`` is
    what a build without ``--platform`` builds for (default: this machine's): a value that chose a stage and that
    such a build without ``--build-arg`` would not get is written into the output. Raises DockerfileError for an
    unknown target.
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

    choices = stage_choices(df, closure)
    _pin_choices(df, choices, edited, plain_platform or host_platform())
    result.text = _assemble(df, kept, edited)
    result.warnings = _choice_warnings(df, choices, explicit_args)
    return result


def _pin_choices(df: Dockerfile, choices: list[Choice], edited: dict[int, str], plain_platform: str) -> None:
    """Write each chosen value that a plain build (no arguments) would not get where that build reads it: the
    ARG's default, or, for a platform built-in, the FROM itself."""
    env = df.base_env()
    plain = replace(df, build_args={}, platform=plain_platform).base_env()
    done: set[str] = set()
    for choice in choices:
        for name in choice.names:
            if env.get(name) == plain.get(name):
                continue
            declared = [a for a in df.global_args if any(n == name for n, _ in a.arg_items())]
            if not declared:
                if name in PLATFORM_ARGS:  # a built-in: its value is the build's, not something to default
                    from_inst = choice.stage.from_instruction
                    current = replace(from_inst, text=edited.get(id(from_inst), from_inst.text))  # named, maybe
                    pinned = set_base(current, choice.chosen.label, df.escape)
                    if pinned is not None:
                        note = f"# set by targd: FROM {choice.stage.base_raw} with {name}={env.get(name, '')}{df.eol}"
                        edited[id(choice.stage.from_instruction)] = note + pinned
                continue
            inst = declared[-1]
            default = dict(inst.arg_items())[name]
            value = env.get(name)
            if value is None or name in done:
                continue
            done.add(name)
            given = name in df.build_args
            if given:
                was = "no default" if default is None else f"the default was {default}"
                source = f"from --build-arg {name}={value}; {was}"
            else:
                source = f"the default {default} on {df.platform}"
            note = f"# set by targd: {name}={value} ({source}) chose stage {choice.chosen.label}{df.eol}"
            edited[id(inst)] = note + _arg_text(inst, name, literal_word(value, df.escape))


def _arg_text(inst: Instruction, name: str, word: str) -> str:
    """The ARG instruction with ``name``'s default set to ``word``, its other items as written."""
    keyword = inst.text.split(None, 1)[0]
    items = [f"{name}={word}" if item.partition("=")[0] == name else item for item in inst.args]
    ending = "\r\n" if inst.text.endswith("\r\n") else "\n" if inst.text.endswith("\n") else ""
    return f"{keyword} {' '.join(items)}{ending}"


def _text(inst: Instruction, edited: dict[int, str]) -> str:
    return edited.get(id(inst), inst.text)


def _assemble(df: Dockerfile, kept: set[int], edited: dict[int, str]) -> str:
    """Directives, global ARGs, then each kept stage; where a removed stage was, one blank line."""
    splits = [split_lead(s.from_instruction.lead) for s in df.stages]
    head = df.preamble + "".join(a.lead + _text(a, edited) for a in df.global_args) + splits[0][0]
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
            out.append(df.eol)
        out.append(own + _text(stage.from_instruction, edited))
        out.extend(inst.lead + _text(inst, edited) for inst in stage.instructions)
        out.append(splits[i + 1][0] if i + 1 < len(df.stages) else df.trailer)
        previous_kept = True
    return "".join(out)


def _choice_warnings(df: Dockerfile, choices: list[Choice], explicit_args: Collection[str]) -> list[str]:
    """One warning per ARG whose assumed value chose a stage, naming it, at the first kept FROM it chose for (the
    others listed by line). An ARG that only fills in an image's name or tag says nothing."""
    uses: dict[tuple[str, str], list[Choice]] = {}
    for choice in choices:
        for name, value in choice.stage.assumed_args.items():
            if name not in explicit_args:
                uses.setdefault((name, value), []).append(choice)
    warnings = []
    for (name, value), found in uses.items():
        first = found[0]
        assumed = f"{name}={value}" if value else f"{name} unset"
        given_by = "--platform" if name in PLATFORM_ARGS else "--build-arg"
        also = f"; also line {', '.join(str(c.stage.line) for c in found[1:])}" if len(found) > 1 else ""
        warnings.append(
            f"{df.path}:{first.stage.line}: FROM {first.stage.base_raw}: {assumed} (no {given_by}) chose stage "
            f"{first.chosen.label}{also}"
        )
    return warnings
