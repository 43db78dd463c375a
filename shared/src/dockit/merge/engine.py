"""Merge the instructions of each stage that can be one without changing what the build does.

RUNs merge across metadata instructions (moved after the merged RUN) and across ENVs (which stay after it, their
values given to the later commands inside their subshells); consecutive ENV, LABEL, COPY and ADD merge by the rules
of :mod:`dockit.merge.rules`. Everything not merged stays byte for byte. A merged instruction is re-read with the real
parser before it is used: if it does not come back as exactly the intended instruction, the originals are kept.

>>> print(minify("FROM busybox\\nRUN cd /tmp\\nEXPOSE 80\\nRUN pwd\\n").text, end="")
FROM busybox
RUN (cd /tmp) \\
    && (pwd)
EXPOSE 80
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from dockit.dockerfile import Dockerfile, Instruction, SourceEncoding, Stage, parse
from dockit.merge.pragmas import kept_apart
from dockit.merge.rules import BY_KEYWORD, MERGEABLE, Context
from dockit.merge.shells import STARTUP_VARIABLES, UNKNOWN_SHELL, initial_shell

LAYER_KEYWORDS = ("RUN", "COPY", "ADD")
# What a RUN does not depend on: such an instruction between two RUNs can move after the merged RUN.
METADATA = ("LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER")

__all__ = ["LAYER_KEYWORDS", "MERGEABLE", "METADATA", "Merge", "Refusal", "Result", "StageStats", "minify"]
__all__ += ["minify_dockerfile"]


@dataclass(frozen=True)
class Merge:
    """One merged instruction: the originals it replaces (two or more), its text (lead included), and the
    instructions that were between them and now follow it."""

    keyword: str
    stage: int
    instructions: tuple[Instruction, ...]
    text: str
    moved: tuple[Instruction, ...] = ()

    @property
    def first_line(self) -> int:
        return self.instructions[0].start_line

    @property
    def last_line(self) -> int:
        return self.instructions[-1].end_line


@dataclass(frozen=True)
class Refusal:
    """Two consecutive layer-making instructions of a stage left apart, and why."""

    stage: int
    first: Instruction
    second: Instruction
    reason: str


@dataclass(frozen=True)
class StageStats:
    """Layer-making instructions (RUN, COPY, ADD) of one stage before and after."""

    stage: int
    label: str
    before: int
    after: int


@dataclass
class Result:
    """The rewritten text, the merges made, the pairs left apart, layers per stage, and the source as parsed."""

    text: str
    merges: list[Merge] = field(default_factory=list)
    stats: list[StageStats] = field(default_factory=list)
    source: str = ""
    refusals: list[Refusal] = field(default_factory=list)
    encoding: SourceEncoding = field(default_factory=SourceEncoding)
    stages: list[Stage] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        """The rewritten file in the source's encoding (BOM and charset kept)."""
        return self.encoding.encode(self.text)

    @property
    def changed(self) -> bool:
        return bool(self.merges)

    def why_apart(self, first: Instruction, second: Instruction) -> str | None:
        """None when one merge makes ``first`` and the later ``second`` one instruction; else why they stay apart:
        the first reason between them (naming the two it is about, when those are not ``first`` and ``second``).

        ``first`` and ``second`` are instructions of the Dockerfile as :func:`minify_dockerfile` was given it, each
        one that made a layer (RUN, COPY, ADD; WORKDIR on some builders).

        >>> df = parse("FROM a\\nRUN x\\nLABEL a=b\\nRUN y\\nWORKDIR /w\\nRUN z\\n")
        >>> x, _, y, _, z = df.stages[0].instructions
        >>> r = minify_dockerfile(df)
        >>> r.why_apart(x, y) is None, r.why_apart(y, z), r.why_apart(x, z)
        (True, 'WORKDIR at line 5 is between them', 'lines 4 and 6 stay apart: WORKDIR at line 5 is between them')
        """
        if any(_holds(m.instructions, first) and _holds(m.instructions, second) for m in self.merges):
            return None
        stage = next((s for s in self.stages if _holds(s.instructions, first)), None)
        if stage is None or not _holds(stage.instructions, second):
            return "they are in different stages"
        for inst in (first, second):
            if inst.keyword not in LAYER_KEYWORDS:  # a WORKDIR's layer, say
                return f"minid does not merge {inst.keyword} layers"
        for r in self.refusals:
            if (
                r.stage == stage.index
                and r.first.start_line >= first.start_line
                and r.second.end_line <= second.end_line
            ):
                same = r.first is first and r.second is second
                return r.reason if same else f"lines {r.first.line} and {r.second.line} stay apart: {r.reason}"
        return "the merged instruction does not read back exactly"


@dataclass(frozen=True)
class _Merged:
    text: str


def minify(data: bytes | str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None) -> Result:
    """Merge what can be merged in a Dockerfile; raises DockerfileError when it does not parse.

    ``build_args`` resolve ``FROM ${BASE}`` (only to know a stage's shell); a base that stays unknown is no error.
    """
    return minify_dockerfile(parse(data, path, build_args=build_args, strict_base=False))


def minify_dockerfile(df: Dockerfile) -> Result:
    """:func:`minify` of a Dockerfile already parsed (with ``strict_base=False``): the result's merges and refusals
    hold its instructions, so a caller can ask about them (:meth:`Result.why_apart`)."""
    pinned = kept_apart(df.instructions())
    out: list[str] = [df.preamble]
    out.extend(str(inst) for inst in df.global_args)
    result = Result("", source=df.source, encoding=df.encoding, stages=df.stages)
    final_shells: dict[int, tuple[tuple[str, ...], bool]] = {}
    for stage in df.stages:
        out.append(str(stage.from_instruction))
        shells = _shells(stage, final_shells)
        walk = _StageWalk(stage, shells, pinned, df.escape, result)
        items = walk.others(walk.runs(stage.instructions))
        out.extend(item.text if isinstance(item, _Merged) else str(item) for item in items)
        before = sum(1 for i in stage.instructions if i.keyword in LAYER_KEYWORDS)
        removed = sum(
            len(m.instructions) - 1 for m in result.merges if m.stage == stage.index and m.keyword in LAYER_KEYWORDS
        )
        result.stats.append(StageStats(stage.index, stage.label, before, before - removed))
        walk.explain()
    out.append(df.trailer)
    result.text = "".join(out)
    return result


def _holds(instructions: Sequence[Instruction], inst: Instruction) -> bool:
    return any(i is inst for i in instructions)


def _shells(stage: Stage, final: dict[int, tuple[tuple[str, ...], bool]]) -> dict[int, tuple[str, ...]]:
    """The shell each instruction of the stage runs under (by ``id``), and the stage's last one into ``final``."""
    shell, startup = initial_shell(stage, final)
    shells: dict[int, tuple[str, ...]] = {}
    for inst in stage.instructions:
        if inst.keyword == "SHELL" and inst.json and inst.args:
            shell = tuple(inst.args)
        if _sets_startup_variable(inst):
            startup = True
        shells[id(inst)] = shell if not startup else UNKNOWN_SHELL
    final[stage.index] = (shell, startup)
    return shells


def _sets_startup_variable(inst: Instruction) -> bool:
    return inst.keyword == "ENV" and any(k in STARTUP_VARIABLES for k, _ in inst.pairs())


class _StageWalk:
    """One stage: RUN chains first (they reorder metadata and ENVs), then the other rules over the result."""

    def __init__(
        self, stage: Stage, shells: dict[int, tuple[str, ...]], pinned: dict[int, str], escape: str, result: Result
    ) -> None:
        self.stage = stage
        self.shells = shells
        self.pinned = pinned
        self.escape = escape
        self.result = result
        self.reasons: dict[tuple[int, int], str] = {}
        self.joined: set[tuple[int, int]] = set()

    def _record(self, ctx: Context) -> None:
        for a, b, reason in ctx.refusals:
            self.reasons.setdefault((id(a), id(b)), reason)

    def _merged(self, keyword: str, part: list[Instruction], text: str, moved: list[Instruction]) -> _Merged:
        self.result.merges.append(Merge(keyword, self.stage.index, tuple(part), text, tuple(moved)))
        self.joined.update((id(a), id(b)) for a, b in pairwise(part))
        return _Merged(text)

    def _transparent(self, inst: Instruction) -> bool:
        if id(inst) in self.pinned:
            return False
        return inst.keyword in METADATA or (inst.keyword == "ENV" and not _sets_startup_variable(inst))

    def runs(self, insts: list[Instruction]) -> list[Instruction | _Merged]:
        """RUNs with only metadata and ENVs between them, merged where the RUN rule allows."""
        items: list[Instruction | _Merged] = []
        rule = BY_KEYWORD["RUN"]
        i = 0
        while i < len(insts):
            first = insts[i]
            if first.keyword != "RUN" or id(first) in self.pinned:
                items.append(first)
                i += 1
                continue
            runs = [first]
            between: dict[int, list[Instruction]] = {}
            pending: list[Instruction] = []
            j = i + 1
            while j < len(insts):
                inst = insts[j]
                if (
                    inst.keyword == "RUN"
                    and id(inst) not in self.pinned
                    and self.shells[id(inst)] == self.shells[id(first)]
                ):
                    between[id(inst)], pending = pending, []
                    runs.append(inst)
                elif not self._transparent(inst):
                    break
                else:
                    pending.append(inst)
                j += 1
            j -= len(pending)  # what follows the last RUN stays where it is
            carried = {k: [x for x in v if x.keyword == "ENV"] for k, v in between.items()}
            ctx = Context(self.shells[id(first)], self.escape, carried=carried)
            parts = rule.plan(runs, ctx) if len(runs) > 1 else [runs]
            self._record(ctx)
            for part in parts:
                items.extend(between.get(id(part[0]), []))
                text = rule.render(part, ctx) if len(part) > 1 else None
                if text is None:
                    if len(part) > 1:
                        self.reasons.setdefault((id(part[0]), id(part[1])), "the merged RUN does not read back exactly")
                    for n, inst in enumerate(part):
                        items.extend(between[id(inst)] if n else [])
                        items.append(inst)
                    continue
                moved = [x for inst in part[1:] for x in between[id(inst)]]
                if moved and not text.endswith("\n"):
                    text += "\r\n" if "\r\n" in part[0].text else "\n"
                items.append(self._merged("RUN", part, text, moved))
                items.extend(moved)
            i = j
        return items

    def others(self, items: list[Instruction | _Merged]) -> list[Instruction | _Merged]:
        """Consecutive ENV, LABEL, COPY or ADD (same keyword), merged by their rules."""
        out: list[Instruction | _Merged] = []
        group: list[Instruction] = []

        def flush() -> None:
            if len(group) < 2:
                out.extend(group)
            else:
                rule = BY_KEYWORD[group[0].keyword]
                ctx = Context(self.shells[id(group[0])], self.escape)
                for part in rule.plan(list(group), ctx):
                    text = rule.render(part, ctx) if len(part) > 1 else None
                    if text is None:
                        if len(part) > 1:
                            self.reasons.setdefault((id(part[0]), id(part[1])), "the merged text does not read back")
                        out.extend(part)
                    else:
                        out.append(self._merged(part[0].keyword, part, text, []))
                self._record(ctx)
            group.clear()

        for item in items:
            joinable = (
                isinstance(item, Instruction)
                and item.keyword in MERGEABLE
                and item.keyword != "RUN"
                and id(item) not in self.pinned
            )
            if joinable and group and group[-1].keyword == item.keyword:  # type: ignore[union-attr]
                group.append(item)  # type: ignore[arg-type]
                continue
            flush()
            if joinable:
                group.append(item)  # type: ignore[arg-type]
            else:
                out.append(item)
        flush()
        return out

    def explain(self) -> None:
        """Why each pair of consecutive layer-making instructions stayed apart."""
        insts = self.stage.instructions
        layers = [n for n, i in enumerate(insts) if i.keyword in LAYER_KEYWORDS]
        for x, y in pairwise(layers):
            a, b = insts[x], insts[y]
            if (id(a), id(b)) in self.joined:
                continue
            self.result.refusals.append(Refusal(self.stage.index, a, b, self._why(a, b, insts[x + 1 : y])))

    def _why(self, a: Instruction, b: Instruction, between: list[Instruction]) -> str:
        for inst in (a, b, *between):
            if id(inst) in self.pinned:
                return f"a pragma keeps line {inst.line} apart ({self.pinned[id(inst)]})"
        if (id(a), id(b)) in self.reasons:
            return self.reasons[(id(a), id(b))]
        if a.keyword != b.keyword:
            return f"a {a.keyword} and a {b.keyword} do not merge"
        for inst in between:
            if a.keyword != "RUN" or not self._transparent(inst):
                return f"{inst.keyword} at line {inst.line} is between them"
        if self.shells[id(a)] != self.shells[id(b)]:
            return "they run under different shells"
        return "the merged instruction does not read back exactly"
