"""Property tests: generated Dockerfiles round-trip byte for byte, and their deps match what the generator meant."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from dockit.dockerfile import parse


@dataclass
class Plan:
    """A Dockerfile as the generator meant it: its text and, per stage, the stages it refers to."""

    text: str
    deps: list[set[int]] = field(default_factory=list)


_names = st.sampled_from(["base", "Build", "deps", "test", "runtime", "tools", "x.y", "a-b_c"])
_filler = st.sampled_from(
    [
        "RUN echo hi\n",
        "RUN set -e; \\\n    echo one \\\n    # inner comment\n    && echo two\n",
        "RUN <<EOF\nFROM scratch AS fake\nCOPY --from=9 / /\nEOF\n",
        "RUN <<-'EOT' sh\n\techo $HOME\n\tEOT\n",
        "ENV A=1 B='two words'\n",
        "# a comment\n",
        "\n",
        "WORKDIR /src\n",
        "COPY . /src\n",
        'LABEL org.example="x y"\n',
        "RUN echo crlf\r\n",
        "RUN a \\\n\n  b\n",
    ]
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n = draw(st.integers(1, 6))
    names: list[str | None] = []
    for _ in range(n):
        name = draw(st.none() | _names)
        names.append(None if name is None or name.lower() in {m.lower() for m in names if m} else name)
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append("# syntax=docker/dockerfile:1\n")
    parts.append("ARG TAG=3.20\n" if draw(st.booleans()) else "")
    plan = Plan(text="")
    for i, name in enumerate(names):
        deps: set[int] = set()
        named_before = [j for j in range(i) if names[j] is not None]
        if named_before and draw(st.booleans()):
            j = draw(st.sampled_from(named_before))
            base = str(names[j]).upper() if draw(st.booleans()) else str(names[j])
            deps.add(j)
        else:
            base = draw(st.sampled_from(["alpine:${TAG}", "busybox", "scratch", "golang:1.22"]))
        parts.append(f"FROM {base}" + (f" AS {name}" if name else "") + "\n")
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["filler", "copy-index", "copy-name", "copy-image", "mount"]))
            earlier = list(range(i))
            if kind == "copy-index" and earlier:
                j = draw(st.sampled_from(earlier))
                parts.append(f"COPY --from={j} /out /in\n")
                deps.add(j)
            elif kind == "copy-name" and named_before:
                j = draw(st.sampled_from(named_before))
                parts.append(f"COPY --chown=1:1 --from={names[j]} /out /in\n")
                deps.add(j)
            elif kind == "copy-image":
                parts.append("COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n")
            elif kind == "mount" and named_before:
                j = draw(st.sampled_from(named_before))
                parts.append(f"RUN --mount=type=bind,from={names[j]},target=/m \\\n    ls /m\n")
                deps.add(j)
            else:
                parts.append(draw(_filler))
        plan.deps.append(deps)
    if draw(st.booleans()):
        parts.append("# the end\n")
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    plan.text = text
    return plan


def _reference_closure(deps: list[set[int]], target: int) -> list[int]:
    seen = {target}
    frontier = [target]
    while frontier:
        frontier = [d for i in frontier for d in deps[i] if d not in seen]
        seen.update(frontier)
    return sorted(seen)


@settings(max_examples=300, deadline=None)
@given(plans())
def test_round_trip_and_deps_match_the_plan(plan: Plan) -> None:
    df = parse(plan.text)
    assert str(df) == plan.text
    assert len(df.stages) == len(plan.deps)
    for stage, expected in zip(df.stages, plan.deps, strict=True):
        assert set(stage.deps()) == expected, stage
        assert df.closure(stage.index) == [df.stages[i] for i in _reference_closure(plan.deps, stage.index)]
