"""The merge rules, one module each; adding a rule is one module and one row of :data:`RULES`.

A rule splits a run of instructions of its keywords into parts that may each become one instruction (``plan``) and
writes a part as that one instruction (``render``, None when the parser does not read it back exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockit.dockerfile import Instruction
from dockit.merge.rules import copy, pairs, run
from dockit.merge.rules.common import Context


@dataclass(frozen=True)
class Rule:
    keywords: tuple[str, ...]
    plan: Callable[[list[Instruction], Context], list[list[Instruction]]]
    render: Callable[[list[Instruction], Context], str | None]


RULES = (
    Rule(("RUN",), run.plan, run.render),
    Rule(("ENV",), pairs.plan_env, pairs.render),
    Rule(("LABEL",), pairs.plan_label, pairs.render),
    Rule(("COPY", "ADD"), copy.plan, copy.render),
)
MERGEABLE = tuple(k for rule in RULES for k in rule.keywords)
BY_KEYWORD = {k: rule for rule in RULES for k in rule.keywords}

__all__ = ["BY_KEYWORD", "MERGEABLE", "RULES", "Context", "Rule"]
