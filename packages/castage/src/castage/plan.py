"""Which stages the output builds, in which order, and which of them may run side by side.

Without ``--target`` that is every named stage, the last stage (the image users ship, named or not) and every
unnamed stage one of them needs. ``docker build --target`` takes a name, so an unnamed stage other than the last is
built from a copy of the Dockerfile where it is named ``stage-<index>`` (the name BuildKit shows for it); the last
stage is the default target, built without ``--target`` and tagged with the final tag (``latest``; with a branch, see
:mod:`castage.refs`). File order is always a dependency order: a stage can only refer to earlier ones.

>>> from dockit.dockerfile import parse
>>> df = parse("FROM a AS deps\\nFROM b\\nFROM deps AS build\\nCOPY --from=1 /t /t\\nFROM build\\n")
>>> p = plan_stages(df)
>>> [(s.key, s.target) for s in p.stages]
[('deps', 'deps'), ('stage-1', 'stage-1'), ('build', 'build'), ('latest', None)]
>>> p.level_keys(), p.renames
([['deps', 'stage-1'], ['build'], ['latest']], {1: 'stage-1'})
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockit.dockerfile import Dockerfile
from dockit.edit import free_stage_name
from dockit.errors import DockerfileError, UsageError

DEFAULT_FINAL_TAG = "latest"
MAX_PLANNED_STAGES = 500  # the output names every stage a build needs: it grows with the square of the stages


@dataclass(frozen=True)
class StagePlan:
    """A stage to build.

    ``key`` names it in tags and cache refs: the stage's name, ``stage-<index>`` for an unnamed stage built on its own,
    the final tag for an unnamed last stage. ``target`` is the ``--target`` value (None: the last stage, docker's
    default target). ``needs`` are the keys of the planned stages it builds on, in file order, ``deps`` those it
    refers to itself (FROM, ``--from``); ``level`` its depth in the stage graph (stages of one level do not need each
    other).
    """

    key: str
    index: int
    line: int
    target: str | None
    needs: tuple[str, ...]
    level: int
    renamed: bool = False
    deps: tuple[str, ...] = ()

    def title(self, tag: str) -> str:
        """How comments name the stage, whose image is tagged ``tag``: never a bare user word first (a stage named
        ``shellcheck`` would make a comment that starts with it a shellcheck directive)."""
        if self.renamed:
            return f"Stage {self.index} (line {self.line}, unnamed: built as {self.key})"
        if self.target is None:
            return f"Final stage {self.index} (line {self.line}, unnamed: tagged {tag})"
        return f"Stage {self.key} (line {self.line})"


@dataclass(frozen=True)
class SkippedStage:
    """An unnamed stage, not the last, that no other stage needs: it is not built (noted only without a target)."""

    index: int
    line: int


@dataclass(frozen=True)
class Plan:
    """The stages to build in file order, the unnamed ones left out, and the names given to unnamed ones."""

    stages: tuple[StagePlan, ...]
    skipped: tuple[SkippedStage, ...] = ()
    renames: dict[int, str] = field(default_factory=dict)

    def levels(self) -> list[list[StagePlan]]:
        """The stages grouped by level, lowest first: each group needs only stages of earlier groups."""
        depths = sorted({s.level for s in self.stages})
        return [[s for s in self.stages if s.level == d] for d in depths]

    def level_keys(self) -> list[list[str]]:
        return [[s.key for s in level] for level in self.levels()]

    def cache_keys(self, stage: StagePlan, built: set[str] | None = None) -> list[str]:
        """The stage's own key, then those of the stages it refers to, in file order: a ``mode=max`` cache holds every
        step of a build, so a direct dependency's cache covers what that stage itself needs (which keeps the cache
        flags of a long chain linear, not quadratic). A dependency not in ``built`` (every stage when None) has no
        cache of its own: its dependencies stand in for it.
        """
        by_key = {s.key: s for s in self.stages}
        keys: dict[str, None] = {stage.key: None}
        todo = list(stage.deps)
        while todo:
            key = todo.pop(0)
            if built is None or key in built:
                keys.setdefault(key, None)
            else:
                todo.extend(by_key[key].deps)
        order = {s.key: s.index for s in self.stages}
        return [stage.key, *sorted((k for k in keys if k != stage.key), key=order.__getitem__)]

    @property
    def final(self) -> StagePlan:
        """The stage the others lead to: the target, or the last stage."""
        return self.stages[-1]


def plan_stages(df: Dockerfile, target: str | None = None, final_tag: str = DEFAULT_FINAL_TAG) -> Plan:
    """The plan for ``target`` (a stage name or index) and what it needs, or for the whole file when None.

    DockerfileError for no such target; UsageError when ``final_tag`` is a name a planned stage has already.
    """
    last = df.stages[-1].index
    # Bit sets (Python ints) over stage indexes: a 10,000-stage chain costs milliseconds and 12 MB, where a set per
    # stage holding its whole closure grows with the square of the chain (gigabytes).
    needed: list[int] = []  # stage -> the stages it needs, itself included
    depth: list[int] = []
    for stage in df.stages:  # file order: every dependency is already done
        deps = stage.deps()
        bits = 1 << stage.index
        for d in deps:
            bits |= needed[d]
        needed.append(bits)
        depth.append(1 + max((depth[d] for d in deps), default=-1))
    if target is None:
        roots = [s.index for s in df.stages if s.name is not None or s.index == last]
    else:
        roots = [df.stage(target).index]
    union = 0
    for r in roots:
        union |= needed[r]
    selected = _members(union)
    if len(selected) > MAX_PLANNED_STAGES:
        raise DockerfileError(
            f"{len(selected)} stages to build, more than castage's limit of {MAX_PLANNED_STAGES}",
            path=df.path,
            line=df.stages[selected[MAX_PLANNED_STAGES]].line,
        )

    keys: dict[int, str] = {}
    renames: dict[int, str] = {}
    for i in selected:
        stage = df.stages[i]
        if stage.name is not None:
            keys[i] = stage.name
        elif i == last:
            keys[i] = final_tag
    clash = next((df.stages[i] for i in selected if df.stages[i].name == final_tag and last in selected), None)
    if clash is not None and df.stages[last].name is None:
        raise UsageError(
            f"--final-tag {final_tag}: stage {clash.index} (line {clash.line}) is named {final_tag} already; "
            "choose another final tag"
        )
    for i in selected:
        if i not in keys:
            renames[i] = keys[i] = free_stage_name(df, i, [final_tag, *renames.values()])

    stages = tuple(
        StagePlan(
            key=keys[i],
            index=i,
            line=df.stages[i].line,
            target=None if i == last and df.stages[i].name is None else keys[i],
            needs=tuple(keys[d] for d in _members(needed[i] & ~(1 << i))),
            level=depth[i],
            renamed=i in renames,
            deps=tuple(keys[d] for d in df.stages[i].deps()),
        )
        for i in selected
    )
    skipped = (
        () if target is not None else tuple(SkippedStage(s.index, s.line) for s in df.stages if s.index not in keys)
    )
    return Plan(stages=stages, skipped=skipped, renames=renames)


def _members(bits: int) -> list[int]:
    """The indexes of the set bits, lowest first (a scan per set bit, not per bit).

    >>> _members(0b10110)
    [1, 2, 4]
    """
    digits = bin(bits)[:1:-1]
    out = []
    i = digits.find("1")
    while i >= 0:
        out.append(i)
        i = digits.find("1", i + 1)
    return out
