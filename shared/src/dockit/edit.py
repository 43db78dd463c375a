"""Surgical edits to an instruction's verbatim text: change one flag's value, name an unnamed stage.

An edit touches only the characters it must, so everything else the user wrote (line continuations, inner comments,
quoting, spacing, heredoc bodies) stays byte for byte. Positions are found the way BuildKit's parser reads the
instruction: its first logical line is the physical lines joined at the escape character, with comment and empty
lines inside the continuation dropped; flags are the leading ``--`` words of that line, with quotes and backslashes.

>>> from dockit.dockerfile import parse
>>> copy = parse("FROM a\\nFROM b\\nCOPY --chown=1 \\\\\\n  --from=0 /x /y\\n").stages[1].instructions[0]
>>> set_flag_value(copy, "from", "builder")
'COPY --chown=1 \\\\\\n  --from=builder /x /y\\n'
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from dockit.dockerfile import Dockerfile, Instruction
from dockit.errors import DockerfileError


@dataclass(frozen=True)
class FlagSpan:
    """A flag word of an instruction: its decoded name and value, and where the value sits in ``Instruction.text``.

    ``value_start``/``value_end`` delimit the value's characters as written (inside any quotes); for an empty value
    both are the position just after the ``=`` (or after the name for a bare flag).
    """

    name: str
    value: str
    value_start: int
    value_end: int


def logical_line(text: str, escape: str = "\\") -> tuple[str, list[int]]:
    """The first logical line of an instruction's text as BuildKit joins it, and each character's offset in ``text``.

    Leading whitespace of the first line is dropped; a trailing escape character (plus spaces or tabs) continues the
    line; comment lines and empty lines inside a continuation are skipped.

    >>> logical_line("RUN a \\\\\\n  # note\\n  b\\n")
    ('RUN a   b', [0, 1, 2, 3, 4, 5, 17, 18, 19])
    """
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    chars: list[str] = []
    where: list[int] = []
    pos = 0
    first = True
    while pos <= len(text):
        newline = text.find("\n", pos)
        end = len(text) if newline < 0 else newline
        line = text[pos:end]
        if line.endswith("\r"):
            line = line[:-1]
        start = 0
        if first:
            start = len(line) - len(line.lstrip())
        else:
            stripped = line.lstrip()
            if not stripped or stripped.startswith("#"):
                if newline < 0:
                    break
                pos = newline + 1
                continue
        m = continuation.search(line)
        stop = m.start() if m else len(line)
        for i in range(start, stop):
            chars.append(line[i])
            where.append(pos + i)
        if m is None or newline < 0:
            break
        first = False
        pos = newline + 1
    return "".join(chars), where


def flag_spans(inst: Instruction, escape: str = "\\") -> list[FlagSpan]:
    """The instruction's flags in order, decoded as BuildKit's ``extractBuilderFlags`` does, with their positions.

    >>> from dockit.dockerfile import parse
    >>> inst = parse('FROM a AS b\\nFROM c\\nCOPY --from="b" x y\\n').stages[1].instructions[0]
    >>> [(f.name, f.value, inst.text[f.value_start:f.value_end]) for f in flag_spans(inst)]
    [('from', 'b', 'b')]
    """
    line, where = logical_line(inst.text, escape)
    m = re.match(r"\s*\S+\s*", line)
    pos = m.end() if m else len(line)
    spans: list[FlagSpan] = []
    while pos < len(line):
        if not line.startswith("--", pos):
            break
        word: list[tuple[str, int]] = []  # decoded characters with their positions in the logical line
        quote = ""
        while pos < len(line):
            ch = line[pos]
            if not quote and ch.isspace():
                break
            if not quote and ch in "'\"":
                quote = ch
            elif quote and ch == quote:
                quote = ""
            else:
                if ch == "\\":
                    if pos + 1 == len(line):
                        break  # a backslash ending the line is dropped
                    pos += 1
                    ch = line[pos]
                word.append((ch, pos))
            pos += 1
        decoded = "".join(c for c, _ in word)
        if decoded == "--":
            break
        name, eq, value = decoded[2:].partition("=")
        value_chars = word[len(name) + 2 + len(eq) :]
        if value_chars:
            start, end = where[value_chars[0][1]], where[value_chars[-1][1]] + 1
        else:
            start = end = where[word[-1][1]] + 1
        spans.append(FlagSpan(name.lower(), value, start, end))
        while pos < len(line) and line[pos].isspace():
            pos += 1
    return spans


def set_flag_value(inst: Instruction, name: str, value: str, escape: str = "\\") -> str:
    """The instruction's text with the value of its flag ``name`` (the last one, as BuildKit reads it) replaced.

    Only the value's characters change; quotes around it stay. Raises DockerfileError when there is no such flag.
    """
    found = [f for f in flag_spans(inst, escape) if f.name == name.lower()]
    if not found:
        raise DockerfileError(f"{inst.keyword} has no --{name} flag to rewrite", line=inst.line)
    flag = found[-1]
    return inst.text[: flag.value_start] + value + inst.text[flag.value_end :]


def name_stage(inst: Instruction, name: str, escape: str = "\\") -> str:
    """The text of an unnamed ``FROM image`` with `` AS name`` added after the image (``as`` for a lower-case from).

    >>> from dockit.dockerfile import parse
    >>> name_stage(parse("from alpine:3.20\\n").stages[0].from_instruction, "stage-0")
    'from alpine:3.20 as stage-0\\n'
    """
    if inst.keyword != "FROM":
        raise DockerfileError(f"cannot name a stage on a {inst.keyword} line", line=inst.line)
    if len(inst.args) != 1:
        raise DockerfileError("this stage already has a name", line=inst.line)
    line, where = logical_line(inst.text, escape)
    last = len(line.rstrip()) - 1
    keyword = line.split(None, 1)[0]
    word = "as" if keyword.islower() else "AS"
    cut = where[last] + 1
    return f"{inst.text[:cut]} {word} {name}{inst.text[cut:]}"


def set_base(inst: Instruction, word: str, escape: str = "\\") -> str | None:
    """The text of a ``FROM`` with its image reference replaced by ``word``; None when that reference is not written
    on one physical line (a continuation inside it).

    >>> from dockit.dockerfile import parse
    >>> set_base(parse("FROM --platform=$P base-${ARCH} AS x\\n").stages[0].from_instruction, "base-arm64")
    'FROM --platform=$P base-arm64 AS x\\n'
    """
    line, where = logical_line(inst.text, escape)
    spans = flag_spans(inst, escape)
    m = re.match(r"\s*\S+\s*", line)
    pos = m.end() if m else 0
    if spans:  # after the last flag word and the blanks that follow it
        last = max(i for i, at in enumerate(where) if at < spans[-1].value_end) + 1
        pos = last
        while pos < len(line) and not line[pos].isspace():
            pos += 1
        while pos < len(line) and line[pos].isspace():
            pos += 1
    end = pos
    while end < len(line) and not line[end].isspace():
        end += 1
    if end <= pos or line[pos:end] != inst.args[0] or where[end - 1] - where[pos] != end - 1 - pos:
        return None
    return inst.text[: where[pos]] + word + inst.text[where[end - 1] + 1 :]


def free_stage_name(df: Dockerfile, index: int, taken: Collection[str] = ()) -> str:
    """The stage's own name as written, or for an unnamed stage ``stage-<index>`` (the name BuildKit shows for it)
    or, when that would capture something, ``stage-<index>-2``, ``-3``...

    A new name must capture nothing: no stage has it, no FROM or ``--from`` names it as an external image, and it is
    not in ``taken`` (names given to other stages, or words the caller reserves).

    >>> from dockit.dockerfile import parse
    >>> df = parse("FROM alpine\\nFROM stage-0\\nFROM alpine AS App\\n")
    >>> free_stage_name(df, 0), free_stage_name(df, 1), free_stage_name(df, 2)
    ('stage-0-2', 'stage-1', 'App')
    """
    stage = df.stages[index]
    if stage.name is not None:
        return stage.from_instruction.args[2]
    used = df.names_in_use
    candidate, n = f"stage-{index}", 1
    while candidate in used or candidate in taken:
        n += 1
        candidate = f"stage-{index}-{n}"
    return candidate


def with_stage_names(df: Dockerfile, names: Mapping[int, str]) -> str:
    """The whole Dockerfile's text with each unnamed stage ``index`` in ``names`` named ``AS names[index]``.

    Nothing else changes: ``--from=<index>`` still finds the stage (naming it does not move it), and an image built
    from the copy is the one built from the original (a stage's name is not part of any layer or cache key).

    >>> from dockit.dockerfile import parse
    >>> print(with_stage_names(parse("FROM alpine\\nRUN true\\nFROM busybox\\nCOPY --from=0 / /\\n"), {0: "stage-0"}))
    FROM alpine AS stage-0
    RUN true
    FROM busybox
    COPY --from=0 / /
    <BLANKLINE>
    """
    edited = {}
    for index, name in names.items():
        inst = df.stages[index].from_instruction
        edited[id(inst)] = name_stage(inst, name, df.escape)
    body = "".join(inst.lead + edited.get(id(inst), inst.text) for inst in df.instructions())
    return df.preamble + body + df.trailer


def split_lead(lead: str) -> tuple[str, str, str]:
    """Split the comment/blank lines above an instruction into (tail, gap, own).

    ``own`` is the comment block right above the instruction (it describes it), ``gap`` the last run of blank lines
    before that block, and ``tail`` whatever comes before the gap (comments that close the previous part of the
    file). With no blank line, everything is ``own``.

    >>> split_lead("# end of build\\n\\n# the runtime\\n")
    ('# end of build\\n', '\\n', '# the runtime\\n')
    """
    lines = lead.splitlines(keepends=True)
    blank = [i for i, line in enumerate(lines) if not line.strip()]
    if not blank:
        return "", "", lead
    last = blank[-1]
    first = last
    while first > 0 and not lines[first - 1].strip():
        first -= 1
    return "".join(lines[:first]), "".join(lines[first : last + 1]), "".join(lines[last + 1 :])
