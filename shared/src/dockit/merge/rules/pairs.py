"""ENV and LABEL: ``key=value`` pairs of consecutive instructions in one instruction."""

from __future__ import annotations

from dockit.dockerfile import Instruction
from dockit.edit import logical_line
from dockit.expand import ExpansionError, expand, referenced_names
from dockit.merge.rules.common import Context, chain, finish, items_text, keyword, reparse
from dockit.words import blanks_are_quoted, legacy_value_word


def pairs(inst: Instruction, escape: str) -> list[tuple[str, str]] | None:
    """ENV/LABEL as ``key=word`` pairs (legacy form converted), or None when one cannot be written safely."""
    if inst.flag_list or inst.heredocs or len(inst.args) % 2:
        return None
    words = logical_line(inst.text, escape)[0].split(None, 2)  # keyword, first word, the rest
    legacy = len(words) < 2 or "=" not in words[1]
    out = []
    for key, raw in inst.pairs():
        if not key or any(ch.isspace() for ch in key) or "=" in key:
            return None
        word = legacy_value_word(raw, escape) if legacy else raw
        if word is None or (any(ch.isspace() for ch in word) and not blanks_are_quoted(word, escape)):
            return None
        if legacy and not _same_value(raw, word, escape):
            return None
        out.append((key, word))
    return out


def _same_value(raw: str, word: str, escape: str) -> bool:
    """The lexer gives ``raw`` and ``word`` the same value, with every variable they read set to a distinct value."""
    names = set(referenced_names(raw, escape)) | set(referenced_names(word, escape))
    env = {n: f"<{n}>" for n in names}
    try:
        return expand(raw, env, escape).value == expand(word, env, escape).value
    except ExpansionError:
        return False


def plan_env(insts: list[Instruction], ctx: Context) -> list[list[Instruction]]:
    """ENVs merge, except where a value reads a variable set earlier in the group: BuildKit expands every value of
    one ENV with the variables as they were before it, so such a pair must stay in a later instruction."""
    escape = ctx.escape
    parts: list[list[Instruction]] = []
    keys: set[str] = set()
    for inst in insts:
        found = pairs(inst, escape)
        if found is None or any("$" in k or escape in k for k, _ in found):
            if parts and parts[-1]:
                ctx.refusals.append((parts[-1][-1], inst, "an ENV that cannot be written as key=value pairs"))
            parts.append([inst])
            keys = set()  # nothing may join an ENV kept alone
            parts.append([])
            continue
        reads: set[str] = set()
        for _, word in found:
            try:
                used = expand(word, {}, escape).used
            except ExpansionError:
                used = []
            reads |= set(used)
            if "$" in word and not used:
                reads |= {k for k in keys if k in word}
        if parts and parts[-1] and not (reads & keys):
            parts[-1].append(inst)
        else:
            if parts and parts[-1]:
                ctx.refusals.append((parts[-1][-1], inst, f"it reads {sorted(reads & keys)[0]}, set just before"))
            parts.append([inst])
            keys = set()
        keys |= {k for k, _ in found}
    return [p for p in parts if p]


def plan_label(insts: list[Instruction], ctx: Context) -> list[list[Instruction]]:
    def joins(a: Instruction, b: Instruction) -> str | None:
        if pairs(a, ctx.escape) is None or pairs(b, ctx.escape) is None:
            return "a LABEL that cannot be written as key=value pairs"
        return None

    return chain(insts, joins, ctx)


def render(part: list[Instruction], ctx: Context) -> str | None:
    found = [p for inst in part for p in (pairs(inst, ctx.escape) or [])]
    items = [f"{k}={v}" for k, v in found]
    text = items_text(keyword(part[0]), items, ctx.escape)
    check = reparse(text + "\n", part, ctx.escape)
    if check is None or check.keyword != part[0].keyword or check.args != [x for p in found for x in p]:
        return None
    return finish(part, text)
