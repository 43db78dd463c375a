"""Comments that tell minid to leave instructions apart: users split RUNs on purpose (cache boundaries, monitoring).

- ``# minid: keep`` just above an instruction: it is merged with neither neighbour.
- ``# hadolint ignore=DL3059`` (hadolint's "multiple consecutive RUN"): the same.
- ``# minid: off`` ... ``# minid: on``: every instruction in between is kept as it is.

>>> from dockit.dockerfile import parse
>>> df = parse("FROM a\\nRUN x\\n# minid: keep\\nRUN y\\n# minid: off\\nRUN z\\n# minid: on\\nRUN w\\n")
>>> kept = kept_apart(df.instructions())
>>> [(i.line, kept[id(i)]) for i in df.stages[0].instructions if id(i) in kept]
[(4, '# minid: keep at line 3'), (6, '# minid: off at line 5')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dockit.dockerfile import Instruction

_PRAGMA = re.compile(r"#\s*minid\s*:\s*(keep|off|on)\s*$", re.IGNORECASE)
_HADOLINT = re.compile(r"#\s*hadolint\s+ignore\s*=\s*([A-Za-z0-9, ]+)$", re.IGNORECASE)


def kept_apart(insts: Iterable[Instruction]) -> dict[int, str]:
    """The instructions (by ``id``) a pragma keeps apart, each with the pragma and its line; ``insts`` in file order."""
    found: dict[int, str] = {}
    region: int | None = None
    for inst in insts:
        keep: str | None = None
        for n, line in enumerate(inst.lead.split("\n")):
            text = line.strip().rstrip("\r").strip()
            number = inst.lead_start + n
            m = _PRAGMA.fullmatch(text)
            if m:
                word = m.group(1).lower()
                if word == "off":
                    region = number
                elif word == "on":
                    region = None
                else:
                    keep = f"# minid: keep at line {number}"
                continue
            m = _HADOLINT.fullmatch(text)
            if m and "DL3059" in {r.strip().upper() for r in m.group(1).split(",")}:
                keep = f"# hadolint ignore=DL3059 at line {number}"
        if region is not None:
            found[id(inst)] = f"# minid: off at line {region}"
        elif keep is not None:
            found[id(inst)] = keep
    return found
