"""Merge consecutive RUN / ENV / LABEL / COPY / ADD instructions of each stage without changing what the build does.

Everything not merged stays byte for byte. A merged instruction is re-read with the real parser before it is used:
if it does not come back as exactly the intended instruction, the originals are kept.

>>> print(minify("FROM busybox\\nRUN cd /tmp\\nRUN pwd\\n").text, end="")
FROM busybox
RUN (cd /tmp) \\
    && (pwd)
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dockit.dockerfile import Instruction, Stage, is_index, parse
from dockit.edit import logical_line
from dockit.errors import DockerfileError
from dockit.expand import ExpansionError, expand, referenced_names
from dockit.words import blanks_are_quoted, is_plain, legacy_value_word
from minid.shell import Analysis, analyze

LAYER_KEYWORDS = ("RUN", "COPY", "ADD")
MERGEABLE = ("RUN", "ENV", "LABEL", "COPY", "ADD")
DEFAULT_SHELL = ("/bin/sh", "-c")
WINDOWS_SHELL = ("cmd", "/S", "/C")
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh"})
# Variables that make a POSIX shell run code or set options at start-up: with them, one shell for several commands
# is not the same as one shell each.
STARTUP_VARIABLES = frozenset({"BASH_ENV", "SHELLOPTS"})
UNKNOWN_SHELL = ("(a shell with start-up variables)",)  # shell_info() rejects it: RUNs after them stay alone
WIDTH = 100  # a merged ENV/LABEL/COPY longer than this puts one item per line
INDENT = "    "
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^git@")


@dataclass(frozen=True)
class Merge:
    """One merged instruction: the originals it replaces (two or more) and its text (lead included)."""

    keyword: str
    stage: int
    instructions: tuple[Instruction, ...]
    text: str

    @property
    def first_line(self) -> int:
        return self.instructions[0].start_line

    @property
    def last_line(self) -> int:
        return self.instructions[-1].end_line


@dataclass(frozen=True)
class StageStats:
    """Layer-making instructions (RUN, COPY, ADD) of one stage before and after."""

    stage: int
    label: str
    before: int
    after: int


@dataclass
class Result:
    """The rewritten Dockerfile text, the merges made, layers per stage, and the source text as the parser read it."""

    text: str
    merges: list[Merge] = field(default_factory=list)
    stats: list[StageStats] = field(default_factory=list)
    source: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.merges)


def minify(data: bytes | str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None) -> Result:
    """Merge what can be merged in a Dockerfile; raises DockerfileError when it does not parse. ``build_args``
    are the ``--build-arg`` values, for the parse (the merge rules do not depend on them)."""
    df = parse(data, path, build_args=build_args)
    escape = df.escape
    out: list[str] = [df.preamble]
    out.extend(str(inst) for inst in df.global_args)
    merges: list[Merge] = []
    stats: list[StageStats] = []
    final_shells: dict[int, tuple[tuple[str, ...], bool]] = {}
    for stage in df.stages:
        shell, startup = _initial_shell(stage, final_shells)
        out.append(str(stage.from_instruction))
        before = sum(1 for i in stage.instructions if i.keyword in LAYER_KEYWORDS)
        after = before
        groups: list[tuple[list[Instruction], tuple[str, ...]]] = []
        for inst in stage.instructions:
            if inst.keyword == "SHELL" and inst.json and inst.args:
                shell = tuple(inst.args)
            if inst.keyword == "ENV" and any(k in STARTUP_VARIABLES for k in _env_keys(inst)):
                startup = True
            if groups and groups[-1][0][-1].keyword == inst.keyword and inst.keyword in MERGEABLE:
                groups[-1][0].append(inst)
            else:
                groups.append(([inst], shell if not startup else UNKNOWN_SHELL))
        final_shells[stage.index] = (shell, startup)
        for insts, group_shell in groups:
            if len(insts) == 1:
                out.append(str(insts[0]))
                continue
            for part in _plan(insts, group_shell, escape):
                if len(part) == 1:
                    out.append(str(part[0]))
                    continue
                text = _render(part, group_shell, escape)
                if text is None:
                    out.extend(str(i) for i in part)
                    continue
                out.append(text)
                merges.append(Merge(part[0].keyword, stage.index, tuple(part), text))
                if part[0].keyword in LAYER_KEYWORDS:
                    after -= len(part) - 1
        stats.append(StageStats(stage.index, stage.label, before, after))
    out.append(df.trailer)
    return Result("".join(out), merges, stats, df.source)


# --- shells -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShellInfo:
    """A POSIX shell command line (``SHELL [...]``) and whether it turns ``-e`` (errexit) on."""

    errexit: bool


def shell_info(argv: Sequence[str]) -> ShellInfo | None:
    """The POSIX shell ``argv`` runs (it must end with its ``-c`` option), or None for any other kind of shell.

    >>> shell_info(["/bin/bash", "-eo", "pipefail", "-c"])
    ShellInfo(errexit=True)
    >>> shell_info(["powershell", "-command"]) is None
    True
    """
    if not argv:
        return None
    name = posixpath.basename(argv[0])
    rest = list(argv[1:])
    if name == "busybox" and rest and rest[0] in ("sh", "ash"):
        rest = rest[1:]
    elif name not in POSIX_SHELLS:
        return None
    if not rest or not re.fullmatch(r"-[A-Za-z]*c[A-Za-z]*", rest[-1]) or re.search("[il]", rest[-1]):
        return None
    errexit = "e" in rest[-1]
    i = 0
    options = rest[:-1]
    while i < len(options):
        opt = options[i]
        if opt in ("-o", "+o"):
            if i + 1 >= len(options):
                return None
            if options[i + 1] == "errexit":
                errexit = opt == "-o"
            i += 2
            continue
        if re.fullmatch(r"[-+][A-Za-z]+", opt):
            if opt.startswith("-") and ("l" in opt or "i" in opt):
                return None  # a login or interactive shell runs start-up files once per shell, not once per step
            if "e" in opt:
                errexit = opt.startswith("-")
            if "o" in opt:  # -eo pipefail: the o takes the next word
                if i + 1 >= len(options):
                    return None
                if options[i + 1] == "errexit":
                    errexit = opt.startswith("-")
                i += 1
        elif not re.fullmatch(r"--[a-z-]+", opt) or opt in ("--rcfile", "--init-file", "--login"):
            return None
        i += 1
    return ShellInfo(errexit)


def _initial_shell(stage: Stage, final: dict[int, tuple[tuple[str, ...], bool]]) -> tuple[tuple[str, ...], bool]:
    parent = next((r.stage for r in stage.refs if r.kind == "from"), None)
    if parent is not None and parent in final:
        return final[parent]
    base = stage.base.lower()
    windows = (stage.platform or "").lower().startswith("windows") or any(
        w in base for w in ("windows", "nanoserver", "servercore")
    )
    return (WINDOWS_SHELL if windows else DEFAULT_SHELL), False


def _env_keys(inst: Instruction) -> list[str]:
    return [inst.args[i] for i in range(0, len(inst.args) - 1, 2)]


# --- planning: which consecutive instructions merge -------------------------------------------------------------


def _plan(insts: list[Instruction], shell: tuple[str, ...], escape: str) -> list[list[Instruction]]:
    keyword = insts[0].keyword
    if keyword == "RUN":
        info = shell_info(shell)
        return _chain(
            insts,
            lambda a, b: (
                info is not None and _run_ok(a, escape) and _run_ok(b, escape) and _same_flags(a, b, exact=True)
            ),
        )
    if keyword == "ENV":
        return _env_plan(insts, escape)
    if keyword == "LABEL":
        return _chain(insts, lambda a, b: _pairs(a, escape) is not None and _pairs(b, escape) is not None)
    return _copy_plan(insts)


def _chain(insts: list[Instruction], joins: Callable[[Instruction, Instruction], bool]) -> list[list[Instruction]]:
    parts: list[list[Instruction]] = [[insts[0]]]
    for inst in insts[1:]:
        if joins(parts[-1][-1], inst):
            parts[-1].append(inst)
        else:
            parts.append([inst])
    return parts


def _same_flags(a: Instruction, b: Instruction, exact: bool = False) -> bool:
    if exact:
        return a.flag_list == b.flag_list
    return sorted(a.flag_list) == sorted(b.flag_list)


def _run_ok(inst: Instruction, escape: str) -> bool:
    """A RUN that can join others: shell form, no heredoc, and a command the tokenizer can isolate."""
    if inst.json or inst.heredocs or len(inst.args) != 1:
        return False
    return analyze(inst.args[0]).ok


def _pairs(inst: Instruction, escape: str) -> list[tuple[str, str]] | None:
    """ENV/LABEL as ``key=word`` pairs (legacy form converted), or None when one cannot be written safely."""
    if inst.flag_list or inst.heredocs or len(inst.args) % 2:
        return None
    words = logical_line(inst.text, escape)[0].split(None, 2)  # keyword, first word, the rest
    legacy = len(words) < 2 or "=" not in words[1]
    pairs = []
    for i in range(0, len(inst.args), 2):
        key, raw = inst.args[i], inst.args[i + 1]
        if not key or any(ch.isspace() for ch in key) or "=" in key:
            return None
        word = legacy_value_word(raw, escape) if legacy else raw
        if word is None or (any(ch.isspace() for ch in word) and not blanks_are_quoted(word, escape)):
            return None
        if legacy and not _same_value(raw, word, escape):
            return None
        pairs.append((key, word))
    return pairs


def _same_value(raw: str, word: str, escape: str) -> bool:
    """The lexer gives ``raw`` and ``word`` the same value, with every variable they read set to a distinct value."""
    names = set(referenced_names(raw, escape)) | set(referenced_names(word, escape))
    env = {n: f"<{n}>" for n in names}
    try:
        return expand(raw, env, escape).value == expand(word, env, escape).value
    except ExpansionError:
        return False


def _env_plan(insts: list[Instruction], escape: str) -> list[list[Instruction]]:
    """ENVs merge, except where a value reads a variable set earlier in the group: BuildKit expands every value of
    one ENV with the variables as they were before it, so such a pair must stay in a later instruction."""
    parts: list[list[Instruction]] = []
    keys: set[str] = set()
    for inst in insts:
        pairs = _pairs(inst, escape)
        if pairs is None or any("$" in k or escape in k for k, _ in pairs):
            parts.append([inst])
            keys = set()  # nothing may join an ENV kept alone
            parts.append([])
            continue
        reads: set[str] = set()
        for _, word in pairs:
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
            parts.append([inst])
            keys = set()
        keys |= {k for k, _ in pairs}
    return [p for p in parts if p]


def _copy_parts(inst: Instruction) -> tuple[list[str], str] | None:
    if inst.heredocs or len(inst.args) < 2:
        return None
    *sources, dest = inst.args
    if not dest.endswith("/") or any(_URL.match(s) for s in sources):
        return None
    return sources, dest


def _copy_plan(insts: list[Instruction]) -> list[list[Instruction]]:
    def joins(a: Instruction, b: Instruction) -> bool:
        pa, pb = _copy_parts(a), _copy_parts(b)
        return pa is not None and pb is not None and pa[1] == pb[1] and _same_flags(a, b)

    parts = _chain(insts, joins)
    out: list[list[Instruction]] = []
    for part in parts:
        # A JSON element that is not plain can only be written in JSON form, where a shell-form word that is not
        # plain could mean something else: keep the group to what one form can express exactly.
        current: list[Instruction] = []
        for inst in part:
            if current and _copy_form([*current, inst]) is None:
                out.append(current)
                current = []
            current.append(inst)
        out.append(current)
    return out


def _copy_form(insts: Sequence[Instruction]) -> str | None:
    """``shell`` or ``json``: the form that writes every argument of the group exactly, or None."""
    json_plain = all(is_plain(a) for i in insts if i.json for a in i.args)
    shell_plain = all(is_plain(a) for i in insts if not i.json for a in i.args)
    if json_plain:
        return "shell"
    return "json" if shell_plain else None


# --- rendering ----------------------------------------------------------------------------------------------------


def _keyword(inst: Instruction) -> str:
    return inst.text.split(None, 1)[0]


def _lead(part: Sequence[Instruction], extra: str = "") -> str:
    """The first instruction's lead as is, then the comment lines above the others (blank lines dropped)."""
    lead = part[0].lead
    for inst in part[1:]:
        lead += "".join(line + "\n" for line in inst.lead.split("\n") if line.strip())
    return lead + extra


def _eol(part: Sequence[Instruction]) -> str:
    """The file's line ending, as the instructions being merged use it."""
    return "\r\n" if "\r\n" in part[0].text else "\n"


def _newline(part: Sequence[Instruction]) -> str:
    return _eol(part) if part[-1].text.endswith("\n") else ""


def _finish(part: Sequence[Instruction], text: str, extra_lead: str = "") -> str:
    """The merged instruction with its lead, in the file's line endings."""
    eol = _eol(part)
    return _lead(part, extra_lead.replace("\n", eol)) + text.replace("\n", eol) + _newline(part)


def _render(part: list[Instruction], shell: tuple[str, ...], escape: str) -> str | None:
    keyword = part[0].keyword
    if keyword == "RUN":
        info = shell_info(shell)
        assert info is not None
        return _render_run(part, info, escape)
    if keyword in ("ENV", "LABEL"):
        return _render_pairs(part, escape)
    return _render_copy(part, escape)


def _reparse(text: str, part: Sequence[Instruction], escape: str) -> Instruction | None:
    """The merged text read back by the parser, alone in a stage placed after any stage it copies from by index."""
    head = "# escape=`\n" if escape == "`" else ""
    indexes = [int(v) for i in part for v in i.flags.get("from", []) if is_index(v)]
    stages = "FROM scratch\n" * (max(indexes, default=-1) + 2)
    try:
        df = parse(f"{head}{stages}{text}")
    except DockerfileError:
        return None
    insts = df.stages[-1].instructions
    return insts[0] if len(insts) == 1 else None


@dataclass
class _Command:
    analysis: Analysis
    body: list[str] | None  # the command's physical lines as written, when they can be reused


def _body_lines(inst: Instruction, escape: str) -> list[str] | None:
    """The command's physical lines (after keyword and flags), kept as the user wrapped them."""
    if "\r" in inst.text:
        return None
    line, where = logical_line(inst.text, escape)
    command = inst.args[0]
    stripped = line.rstrip()
    if not command or not stripped.endswith(command):
        return None
    start = where[len(stripped) - len(command)]
    lines = inst.text[start:].rstrip("\n").split("\n")
    lines[-1] = lines[-1].rstrip(" \t")
    return lines


def _render_run(part: list[Instruction], info: ShellInfo, escape: str) -> str | None:
    commands = []
    for inst in part:
        a = analyze(inst.args[0])
        body = _body_lines(inst, escape) if a.comment is None else None
        commands.append(_Command(a, body))
    if info.errexit:
        # under -e, only a list that runs no other code (no `.`, eval, trap...) can sit where sh ignores -e
        form = "and" if all(c.analysis.simple and not c.analysis.errexit for c in commands) else "statements"
    else:
        form = "errexit" if any(c.analysis.errexit for c in commands) else "and"
    for verbatim in (True, False):
        text = _run_text(part, commands, form, escape, verbatim)
        if text is not None:
            return text
    return None


def _run_text(part: list[Instruction], commands: list[_Command], form: str, escape: str, verbatim: bool) -> str | None:
    head = f"{_keyword(part[0])} " + "".join(f + " " for f in part[0].flag_list)
    cont = f" {escape}"
    lines: list[str] = []
    expected: list[str] = []
    extra_lead = ""
    live = [c for c in commands if c.analysis.code]
    if form == "errexit":
        lines.append(head + "set -e;")
        expected.append("set -e; ")
    for n, cmd in enumerate(live):
        last = n == len(live) - 1
        first_line = not lines
        if form == "and":
            prefix = "(" if first_line else f"{INDENT}&& ("
            suffix = ")"
        elif form == "errexit":
            keeps = cmd.analysis.simple and not cmd.analysis.errexit  # -e changes nothing in such a list
            prefix = f"{INDENT}(" if keeps else f"{INDENT}(set +e; "
            suffix = ")" if last else ");"
        else:
            prefix = "(" if first_line else f"{INDENT}("
            suffix = ")" if last else ");"
        if prefix.endswith("(") and cmd.analysis.code.startswith("("):
            prefix += " "  # `((` would start an arithmetic command in bash
        for comment in [cmd.analysis.comment] if cmd.analysis.comment is not None else []:
            if first_line:
                extra_lead += f"#{comment}\n"
            else:
                lines.append(f"{INDENT}#{comment}")
        body = cmd.body if verbatim and cmd.body else [cmd.analysis.code]
        chunk = [prefix + body[0], *body[1:]]
        chunk[-1] += suffix
        if first_line:
            chunk[0] = head + chunk[0]
        if not last:
            chunk[-1] += cont
        lines.extend(chunk)
        expected.append(prefix + cmd.analysis.code + suffix + ("" if last else " "))
    for c in commands:  # comments of commands that were nothing but a comment
        if not c.analysis.code and c.analysis.comment is not None:
            extra_lead += f"#{c.analysis.comment}\n"
    if not live:
        lines, expected = [head + ":"], [":"]
    elif form == "errexit":
        lines[0] += cont
    text = "\n".join(lines)
    check = _reparse(text + "\n", part, escape)
    if (
        check is None
        or check.keyword != "RUN"
        or check.json
        or check.heredocs
        or check.flag_list != part[0].flag_list
        or check.args != ["".join(expected)]
    ):
        return None
    return _finish(part, text, extra_lead)


def _render_pairs(part: list[Instruction], escape: str) -> str | None:
    pairs = [p for inst in part for p in (_pairs(inst, escape) or [])]
    items = [f"{k}={v}" for k, v in pairs]
    text = _items_text(_keyword(part[0]), items, escape)
    check = _reparse(text + "\n", part, escape)
    if check is None or check.keyword != part[0].keyword or check.args != [x for p in pairs for x in p]:
        return None
    return _finish(part, text)


def _items_text(keyword: str, items: list[str], escape: str) -> str:
    one = " ".join([keyword, *items])
    if len(one) <= WIDTH:
        return one
    return f"{keyword} {items[0]} {escape}\n" + f" {escape}\n".join(INDENT + i for i in items[1:])


def _render_copy(part: list[Instruction], escape: str) -> str | None:
    form = _copy_form(part)
    parts = [_copy_parts(i) for i in part]
    sources = [s for p in parts if p is not None for s in p[0]]
    dest = parts[0][1] if parts[0] is not None else ""
    args = [*sources, dest]
    flags = "".join(" " + f for f in part[0].flag_list)
    if form == "json":
        text = f"{_keyword(part[0])}{flags} [" + ", ".join(json.dumps(a) for a in args) + "]"
    else:
        text = _items_text(f"{_keyword(part[0])}{flags}", args, escape)
    check = _reparse(text + "\n", part, escape)
    if check is None or check.keyword != part[0].keyword or check.args != args or check.heredocs:
        return None
    if sorted(check.flag_list) != sorted(part[0].flag_list):
        return None
    return _finish(part, text)
