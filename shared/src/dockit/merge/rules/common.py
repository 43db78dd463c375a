"""What every merge rule shares: joining a chain, writing the merged text in the file's style, reading it back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dockit.dockerfile import Instruction, is_index, parse, stage_index
from dockit.errors import DockerfileError
from dockit.merge.shell import Analysis

WIDTH = 100  # a merged ENV/LABEL/COPY longer than this puts one item per line
INDENT = "    "

# A join test: None when the two instructions may become one, else the reason they may not.
Joins = Callable[[Instruction, Instruction], str | None]


@dataclass
class Context:
    """What a rule knows beyond the instructions: the stage's shell, the file's escape character, the ENVs a RUN
    would have to carry (``carried[id(run)]``: the ENVs between it and the RUN before it), where it records why
    two neighbours stay apart, and each RUN's shell analysis (``analyses[id(run)]``, None when no shell command
    stands for it): planning asks about every RUN twice, as the right and the left neighbour, and rendering once
    more, and the scan is most of minid's time."""

    shell: tuple[str, ...]
    escape: str
    carried: dict[int, list[Instruction]] = field(default_factory=dict)
    refusals: list[tuple[Instruction, Instruction, str]] = field(default_factory=list)
    analyses: dict[int, Analysis | None] = field(default_factory=dict)


def chain(insts: list[Instruction], joins: Joins, ctx: Context) -> list[list[Instruction]]:
    """Split ``insts`` where two neighbours do not join; each refusal is recorded with its reason."""
    parts: list[list[Instruction]] = [[insts[0]]]
    for inst in insts[1:]:
        reason = joins(parts[-1][-1], inst)
        if reason is None:
            parts[-1].append(inst)
        else:
            ctx.refusals.append((parts[-1][-1], inst, reason))
            parts.append([inst])
    return parts


def same_flags(a: Instruction, b: Instruction, exact: bool = False) -> bool:
    if exact:
        return a.flag_list == b.flag_list
    return sorted(a.flag_list) == sorted(b.flag_list)


def keyword(inst: Instruction) -> str:
    """The keyword as the user spelled it."""
    return inst.text.split(None, 1)[0]


def lead(part: Sequence[Instruction], extra: str = "") -> str:
    """The first instruction's lead as is, then the comment lines above the others (blank lines dropped)."""
    out = part[0].lead
    for inst in part[1:]:
        out += "".join(line + "\n" for line in inst.lead.split("\n") if line.strip())
    return out + extra


def eol(part: Sequence[Instruction]) -> str:
    """The file's line ending, as the instructions being merged use it."""
    return "\r\n" if "\r\n" in part[0].text else "\n"


def finish(part: Sequence[Instruction], text: str, extra_lead: str = "") -> str:
    """The merged instruction with its lead, in the file's line endings."""
    end = eol(part)
    newline = end if part[-1].text.endswith("\n") else ""
    return lead(part, extra_lead.replace("\n", end)) + text.replace("\n", end) + newline


def reparse(text: str, part: Sequence[Instruction], escape: str) -> Instruction | None:
    """The merged text read back by the parser, alone in a stage placed after any stage it copies from by index."""
    head = "# escape=`\n" if escape == "`" else ""
    indexes = [n for i in part for v in i.flags.get("from", []) if is_index(v) and (n := stage_index(v)) is not None]
    stages = "FROM scratch\n" * (max(indexes, default=-1) + 2)
    try:
        df = parse(f"{head}{stages}{text}")
    except DockerfileError:
        return None
    insts = df.stages[-1].instructions
    return insts[0] if len(insts) == 1 else None


def items_text(word: str, items: list[str], escape: str) -> str:
    one = " ".join([word, *items])
    if len(one) <= WIDTH:
        return one
    return f"{word} {items[0]} {escape}\n" + f" {escape}\n".join(INDENT + i for i in items[1:])
