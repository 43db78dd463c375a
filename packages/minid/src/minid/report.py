"""What minid says about files it checked, for people (``--check``, ``--explain``) and machines (JSON, SARIF).

Every report is a pure function of :class:`dockit.merge.Result` values, one per file, each with the name to show.

>>> from dockit.merge import minify
>>> r = minify("FROM a\\nRUN x\\nRUN y\\nWORKDIR /w\\nRUN z\\n")
>>> print(explain_report(r, "Dockerfile"), end="")
Dockerfile:3-5: RUN (line 3) and RUN (line 5) stay apart: WORKDIR at line 4 is between them
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from dockit.merge import Result

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_ID = "minid-merge"
INFO_URI = "https://github.com/better-image/better-image/tree/main/packages/minid"


def check_report(result: Result, path: str) -> str:
    """One line per merge ``--check`` would make, ``path:line: what``."""
    lines = []
    for m in result.merges:
        moved = f", moving {len(m.moved)} instruction(s) after it" if m.moved else ""
        lines.append(
            f"{path}:{m.first_line}: {len(m.instructions)} {m.keyword} instructions "
            f"(lines {m.first_line}-{m.last_line}) can be one{moved}"
        )
    return "".join(line + "\n" for line in lines)


def explain_report(result: Result, path: str) -> str:
    """One line per pair of consecutive layer-making instructions left apart, with the reason."""
    return "".join(
        f"{path}:{r.first.line}-{r.second.line}: {r.first.keyword} (line {r.first.line}) and "
        f"{r.second.keyword} (line {r.second.line}) stay apart: {r.reason}\n"
        for r in result.refusals
    )


def stats_report(result: Result) -> str:
    """Layer-making instructions per stage, before -> after."""
    return "".join(
        f"stage {s.label}: {s.before} -> {s.after} layers\n"
        if s.label == str(s.stage)
        else f"stage {s.stage} ({s.label}): {s.before} -> {s.after} layers\n"
        for s in result.stats
    )


def file_document(result: Result, path: str) -> dict[str, Any]:
    """One file as JSON: stages with layers before/after, merges with line ranges, refusals with reasons."""
    return {
        "path": path,
        "layers_before": sum(s.before for s in result.stats),
        "layers_after": sum(s.after for s in result.stats),
        "stages": [
            {"index": s.stage, "name": None if s.label == str(s.stage) else s.label, "layers_before": s.before}
            | {"layers_after": s.after}
            for s in result.stats
        ],
        "merges": [
            {
                "keyword": m.keyword,
                "stage": m.stage,
                "lines": [m.first_line, m.last_line],
                "instructions": [i.line for i in m.instructions],
                "moved_after": [i.line for i in m.moved],
            }
            for m in result.merges
        ],
        "refusals": [
            {"stage": r.stage, "lines": [r.first.line, r.second.line], "keywords": [r.first.keyword, r.second.keyword]}
            | {"reason": r.reason}
            for r in result.refusals
        ],
    }


def json_report(files: Sequence[tuple[str, Result]], errors: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Every file checked, and those that could not be read (path, message)."""
    return {
        "files": [file_document(result, path) for path, result in files],
        "errors": [{"path": path, "message": message} for path, message in errors],
    }


def sarif_report(
    files: Sequence[tuple[str, Result]], version: str, errors: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """SARIF 2.1.0: one result per merge minid would make, located on the instructions it would merge."""
    results = []
    for path, result in files:
        for m in result.merges:
            where = [_location(path, i.start_line, i.end_line) for i in m.instructions]
            results.append(
                {
                    "ruleId": RULE_ID,
                    "level": "warning",
                    "message": {
                        "text": f"{len(m.instructions)} {m.keyword} instructions (lines {m.first_line}-"
                        f"{m.last_line}) can be one without changing the build (run `minid` to merge them)"
                    },
                    "locations": [where[0]],
                    "relatedLocations": [loc | {"id": n} for n, loc in enumerate(where[1:], 1)],
                }
            )
    notifications = [
        {"level": "error", "message": {"text": message}, "locations": [_location(path, None, None)]}
        for path, message in errors
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "minid",
                        "version": version,
                        "informationUri": INFO_URI,
                        "rules": [
                            {
                                "id": RULE_ID,
                                "name": "MergeableInstructions",
                                "shortDescription": {"text": "Instructions that can be one layer"},
                                "fullDescription": {
                                    "text": "Consecutive RUN, ENV, LABEL, COPY or ADD instructions (RUNs also "
                                    "across metadata and ENV) that minid merges without changing what the build does."
                                },
                                "defaultConfiguration": {"level": "warning"},
                            }
                        ],
                    }
                },
                "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }


def _location(path: str, start: int | None, end: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": urllib.parse.quote(path)}}
    if start is not None:
        physical["region"] = {"startLine": start, "endLine": end or start}
    return {"physicalLocation": physical}
