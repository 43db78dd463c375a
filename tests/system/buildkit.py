"""What a BuildKit build did, read from ``docker build --progress plain``: the stages it ran, each step, and which
steps were answered from the cache (``CACHED``).

BuildKit prints one *vertex* per operation, numbered ``#N``, and may interleave vertices that run in parallel (a
vertex's lines can come in several pieces, each repeating its ``#N [name]`` header). Dockerfile steps are labelled
``[stage i/n] INSTRUCTION`` (``[i/n]`` alone in a one-stage build; unnamed stages are ``stage-N``, names are
lower-cased); everything else (``[internal] load ...``, ``exporting to image``, ``importing cache manifest from ...``)
is bookkeeping. Only instructions that make a filesystem operation are vertices: ENV, LABEL, CMD, USER... are not, and
a FROM that several stages share (the same image) is one vertex shown under one stage's name only.

>>> out = '''#4 [deps 1/2] FROM localhost/busybox:base
... #4 DONE 0.0s
...
... #6 [deps 2/2] RUN sleep 3
... #6 CACHED
...
... #7 [build 2/3] COPY src/ /src/
... #7 DONE 0.1s
... '''
>>> [str(s) for s in parse_steps(out)]
['deps 1/2 FROM localhost/busybox:base (ran)', 'deps 2/2 RUN sleep 3 (CACHED)', 'build 2/3 COPY src/ /src/ (ran)']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from tests.system.images import BuildResult

# "#12 [build 2/3] COPY src/ /src/" (a step's header) and "#12 CACHED" / "#12 DONE 0.1s" / "#12 ERROR: ..." (its end).
_HEADER = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$", re.MULTILINE)
_END = re.compile(r"^#(\d+) (CACHED|DONE|ERROR|CANCELED)\b", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    """One Dockerfile step BuildKit ran or answered from cache: ``stage`` (``""`` in a one-stage build), its
    position ``index``/``total`` in the stage's steps, the ``instruction`` as BuildKit prints it, and how it ended
    (``CACHED``, ``DONE``, ``ERROR``; ``""`` if the output stops before it ended)."""

    stage: str
    index: int
    total: int
    instruction: str
    status: str

    @property
    def cached(self) -> bool:
        return self.status == "CACHED"

    @property
    def executed(self) -> bool:
        """The step did work: not answered from the cache, and not a FROM (which only names the image to start from)."""
        return not self.cached and not self.instruction.startswith("FROM ")

    def __str__(self) -> str:
        stage = f"{self.stage} " if self.stage else ""
        return f"{stage}{self.index}/{self.total} {self.instruction} ({'CACHED' if self.cached else 'ran'})"


def parse_steps(output: str) -> list[Step]:
    """The Dockerfile steps in ``--progress plain`` output, once each, in the order BuildKit started them."""
    ends = {int(m.group(1)): m.group(2) for m in _END.finditer(output)}
    steps: dict[int, Step] = {}
    for m in _HEADER.finditer(output):
        vertex = int(m.group(1))
        if vertex not in steps:
            stage, index, total, instruction = m.group(2) or "", int(m.group(3)), int(m.group(4)), m.group(5)
            steps[vertex] = Step(stage, index, total, instruction, ends.get(vertex, ""))
    return list(steps.values())


@dataclass(frozen=True)
class BuildKitResult(BuildResult):
    """A :class:`BuildResult` of a BuildKit build, with the structured ``build_steps`` parsed from its output.

    ``steps``/``cached`` count Dockerfile steps that are vertices (FROM, RUN, COPY, ADD, WORKDIR; not ENV, LABEL...),
    so they are comparable between BuildKit builds, not with the classic builder's ``Step N/M`` count.
    """

    @cached_property
    def build_steps(self) -> list[Step]:
        """Every Dockerfile step of the build, once each (see :func:`parse_steps`)."""
        return parse_steps(self.output)

    @property
    def steps(self) -> int:
        return len(self.build_steps)

    @property
    def cached(self) -> int:
        return sum(s.cached for s in self.build_steps)

    @property
    def executed(self) -> list[Step]:
        """The steps that did work (neither CACHED nor FROM): empty when the cache answered everything."""
        return [s for s in self.build_steps if s.executed]

    @property
    def stages(self) -> set[str]:
        """Names of the stages BuildKit ran (lower-cased; ``stage-N`` for unnamed ones). A stage that is only a FROM
        of an image another stage also starts from shows under one of their names (BuildKit shares the vertex)."""
        return {s.stage for s in self.build_steps}
