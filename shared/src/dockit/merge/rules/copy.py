"""COPY and ADD: sources of consecutive instructions into the same directory, with the same flags, in one."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dockit.dockerfile import Instruction, is_remote_source
from dockit.merge.rules.common import Context, chain, finish, items_text, keyword, reparse, same_flags
from dockit.words import is_plain


def sources_dest(inst: Instruction) -> tuple[list[str], str] | None:
    """The sources and a directory destination of a COPY/ADD that can join others, or None."""
    found = inst.sources_dest()
    if found is None or not found[1].endswith("/") or any(is_remote_source(s) for s in found[0]):
        return None
    return found


def _why_apart(a: Instruction, b: Instruction) -> str | None:
    pa, pb = sources_dest(a), sources_dest(b)
    if pa is None or pb is None:
        return "a heredoc, a URL source or a destination that is not a directory (ending in /)"
    if pa[1] != pb[1]:
        return "different destinations"
    if not same_flags(a, b):
        return "different flags"
    return None


def plan(insts: list[Instruction], ctx: Context) -> list[list[Instruction]]:
    out: list[list[Instruction]] = []
    for part in chain(insts, _why_apart, ctx):
        # A JSON element that is not plain can only be written in JSON form, where a shell-form word that is not
        # plain could mean something else: keep the group to what one form can express exactly.
        current: list[Instruction] = []
        for inst in part:
            if current and _form([*current, inst]) is None:
                ctx.refusals.append((current[-1], inst, "no one form (shell or JSON) writes both exactly"))
                out.append(current)
                current = []
            current.append(inst)
        out.append(current)
    return out


def _form(insts: Sequence[Instruction]) -> str | None:
    """``shell`` or ``json``: the form that writes every argument of the group exactly, or None."""
    json_plain = all(is_plain(a) for i in insts if i.json for a in i.args)
    shell_plain = all(is_plain(a) for i in insts if not i.json for a in i.args)
    if json_plain:
        return "shell"
    return "json" if shell_plain else None


def render(part: list[Instruction], ctx: Context) -> str | None:
    form = _form(part)
    found = [sources_dest(i) for i in part]
    sources = [s for p in found if p is not None for s in p[0]]
    dest = found[0][1] if found[0] is not None else ""
    args = [*sources, dest]
    flags = "".join(" " + f for f in part[0].flag_list)
    if form == "json":
        text = f"{keyword(part[0])}{flags} [" + ", ".join(json.dumps(a) for a in args) + "]"
    else:
        text = items_text(f"{keyword(part[0])}{flags}", args, ctx.escape)
    check = reparse(text + "\n", part, ctx.escape)
    if check is None or check.keyword != part[0].keyword or check.args != args or check.heredocs:
        return None
    if sorted(check.flag_list) != sorted(part[0].flag_list):
        return None
    return finish(part, text)
