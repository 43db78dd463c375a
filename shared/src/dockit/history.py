"""Which Dockerfile instruction made each layer of an image built from it.

An image's history says what made each layer in the builder's words (``/bin/sh -c #(nop) COPY file:ab12 in /x``
from the classic builder and buildah, ``COPY . /x # buildkit`` or ``RUN /bin/sh -c make # buildkit`` from
BuildKit), never the file and line. The layers a Dockerfile adds are its target stage's layer-making instructions,
those of the stages it is built ``FROM`` before them; everything below is the base image. Matching from the top
layer down by kind (RUN, COPY, ADD, WORKDIR) pairs them, and stops at the first disagreement, so a layer is only
ever named after an instruction of the same kind in the right order.

>>> from dockit.dockerfile import parse
>>> from dockit.archive.model import HistoryEntry, Layer
>>> df = parse("FROM alpine AS base\\nRUN apk add gcc\\nFROM base\\nCOPY . /src\\nRUN make\\n")
>>> made = [HistoryEntry(c) for c in ("ADD file:a in /", "RUN /bin/sh -c apk add gcc # buildkit",
...         "COPY . /src # buildkit", "RUN /bin/sh -c make # buildkit")]
>>> layers = [Layer(i, f"d{i}", "", [], history=h) for i, h in enumerate(made)]
>>> mapping = map_layers(df, layers)
>>> mapping.base_layers, {i: inst.line for i, inst in mapping.instructions.items()}
(1, {1: 2, 2: 4, 3: 5})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockit.archive.model import Layer
from dockit.dockerfile import Dockerfile, Instruction, Stage

# Instructions that can make a layer. WORKDIR does on some builders (when it creates the directory), not others.
LAYER_MAKING = ("RUN", "COPY", "ADD", "WORKDIR")
_MAYBE_EMPTY = {"WORKDIR"}
_SHELL_PREFIX = re.compile(r"^(?:\|\d+ (?:\S+=\S* )*)?(?:/bin/sh -c |cmd /S /C )?(?:#\(nop\)\s*)?")


def layer_kind(created_by: str) -> str:
    """The instruction keyword a history entry's ``created_by`` names (RUN when it names none).

    >>> [layer_kind(c) for c in ("/bin/sh -c #(nop) COPY file:1 in /x ", "|1 A=b /bin/sh -c make",
    ...                          "WORKDIR /app", "ADD x.tar / # buildkit", "/bin/sh -c apk add x")]
    ['COPY', 'RUN', 'WORKDIR', 'ADD', 'RUN']
    """
    text = _SHELL_PREFIX.sub("", created_by.strip(), count=1)
    word = text.split(maxsplit=1)[0].upper() if text else ""
    return word if word in LAYER_MAKING else "RUN"


@dataclass(frozen=True, slots=True)
class LayerMap:
    """``instructions``: layer index -> the instruction that made it; ``base_layers``: how many layers at the bottom
    came from the base image (or could not be matched, which is the same as far as anyone can tell)."""

    instructions: dict[int, Instruction] = field(default_factory=dict)
    base_layers: int = 0


def build_chain(dockerfile: Dockerfile, target: str | int | None = None) -> list[Stage]:
    """The stages whose instructions end up as layers of ``target`` (default: the last stage), bottom first: the
    target and the stages it is built ``FROM``, following ``FROM <stage>`` down to an outside image."""
    stage = dockerfile.stage(target) if target is not None else dockerfile.stages[-1]
    chain = [stage]
    while (below := dockerfile.find_stage(stage.base)) is not None and below.index < stage.index:
        stage = below
        chain.append(stage)
    return chain[::-1]


def map_layers(dockerfile: Dockerfile, layers: list[Layer], target: str | int | None = None) -> LayerMap:
    """Pair the image's layers with the Dockerfile's layer-making instructions, from the top down."""
    made = [i for stage in build_chain(dockerfile, target) for i in stage.instructions if i.keyword in LAYER_MAKING]
    pairs: dict[int, Instruction] = {}
    li, ii = len(layers) - 1, len(made) - 1
    while li >= 0 and ii >= 0:
        history = layers[li].history
        kind = layer_kind(history.created_by) if history is not None else ""
        if kind == made[ii].keyword:
            pairs[layers[li].index] = made[ii]
            li -= 1
        elif made[ii].keyword not in _MAYBE_EMPTY:
            break
        ii -= 1
    return LayerMap(dict(sorted(pairs.items())), base_layers=li + 1)
