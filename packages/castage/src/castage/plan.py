"""Which stages the script builds, in which order, and which of them may run side by side.

Only named stages can be built on their own (``--target`` takes a name); an unnamed stage is built inside every
named stage that needs it. File order is always a dependency order: a stage can only refer to earlier ones.

>>> from dockit.dockerfile import parse
>>> df = parse("FROM a AS deps\\nFROM b AS tools\\nFROM deps AS build\\nCOPY --from=tools /t /t\\n")
>>> p = plan_stages(df)
>>> [s.name for s in p.stages], p.level_names()
(['deps', 'tools', 'build'], [['deps', 'tools'], ['build']])
"""

from __future__ import annotations

from dataclasses import dataclass

from dockit.dockerfile import Dockerfile
from dockit.errors import DockerfileError


@dataclass(frozen=True)
class StagePlan:
    """A named stage to build: ``needs`` are the named stages it builds on (through unnamed ones too), in file order.

    ``level`` is its depth in the stage graph: stages of one level do not need each other.
    """

    name: str
    index: int
    line: int
    needs: tuple[str, ...]
    level: int


@dataclass(frozen=True)
class UnnamedStage:
    """An unnamed stage in the selection, and the named stages whose build includes it (empty: none does)."""

    index: int
    line: int
    built_by: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The named stages to build in file order, and the unnamed stages that come with them."""

    stages: tuple[StagePlan, ...]
    unnamed: tuple[UnnamedStage, ...]

    def levels(self) -> list[list[StagePlan]]:
        """The stages grouped by level, lowest first: each group needs only stages of earlier groups."""
        depths = sorted({s.level for s in self.stages})
        return [[s for s in self.stages if s.level == d] for d in depths]

    def level_names(self) -> list[list[str]]:
        return [[s.name for s in level] for level in self.levels()]


def plan_stages(df: Dockerfile, target: str | None = None) -> Plan:
    """The plan for ``target`` (a stage name or index) and what it needs, or for every named stage when None.

    DockerfileError when there is no named stage, no such target, or the target is unnamed.
    """
    if target is None:
        selected = list(df.stages)
    else:
        wanted = df.stage(target)
        if wanted.name is None:
            raise DockerfileError(
                f"stage {wanted.index} (line {wanted.line}) has no name, and docker build --target needs one: "
                "name it with FROM ... AS NAME",
                path=df.path,
            )
        selected = df.closure(wanted.index)
    named = [s for s in selected if s.name is not None]
    if not named:
        raise DockerfileError("no named stage (FROM ... AS NAME) to build and cache", path=df.path)

    depth: dict[int, int] = {}
    needed: dict[int, set[int]] = {}  # stage -> the stages it needs, itself included
    for stage in df.stages:  # file order: every dependency is already done
        depth[stage.index] = 1 + max((depth[d] for d in stage.deps()), default=-1)
        needed[stage.index] = {stage.index}.union(*(needed[d] for d in stage.deps()))
    names = {s.index: s.name for s in named if s.name is not None}
    stages = tuple(
        StagePlan(
            name=s.name,
            index=s.index,
            line=s.line,
            needs=tuple(names[i] for i in sorted(needed[s.index] - {s.index}) if i in names),
            level=depth[s.index],
        )
        for s in named
        if s.name is not None
    )
    unnamed = tuple(
        UnnamedStage(index=s.index, line=s.line, built_by=tuple(n.name for n in stages if s.index in needed[n.index]))
        for s in selected
        if s.name is None
    )
    return Plan(stages=stages, unnamed=unnamed)
