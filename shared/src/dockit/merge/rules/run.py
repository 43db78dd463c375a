"""RUN: consecutive shell-form RUNs (and exec-form ones a shell runs the same) as one, each original command in its
own subshell, so no shell state leaks from one into the next and a failure still fails the build.

ENVs between two RUNs move after the merged RUN; the later commands get them inside their subshell
(:mod:`dockit.merge.environment`), so every command sees exactly the environment it saw before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockit.dockerfile import Instruction
from dockit.edit import logical_line
from dockit.merge.environment import exports
from dockit.merge.rules.common import INDENT, Context, chain, finish, keyword, reparse
from dockit.merge.shell import RESERVED, Analysis, analyze
from dockit.merge.shells import ShellInfo, shell_info

_BARE = re.compile(r"[A-Za-z0-9_./:,@%+-]+")
_BARE_ARG = re.compile(r"[A-Za-z0-9_./:,@%+=-]+")
# Builtins that change the shell or exist only in it: as the program of an exec-form RUN they are a different thing.
_SHELL_ONLY = frozenset(
    {
        *("cd", "export", "unset", "set", "exit", "return", "shift", "trap", "umask", "alias", "unalias", "eval"),
        *("exec", ".", "source", "readonly", "local", "declare", "typeset", "wait", "jobs", "fg", "bg", "break"),
        *("continue", "ulimit", "shopt", "hash", "type", "command", "builtin", "getopts", "read", "times"),
    }
)


def exec_as_shell(inst: Instruction, info: ShellInfo) -> str | None:
    """The shell command that runs exactly what an exec-form RUN runs (every word plain), or None.

    The program must see the environment it saw without a shell: the variables dash and busybox sh add (PWD,
    SHLVL) are unset before ``exec``. bash re-adds SHLVL on ``exec``, so under bash exec form stays exec form.

    >>> from dockit.dockerfile import parse
    >>> exec_as_shell(parse('FROM a\\nRUN ["node", "--version"]\\n').stages[0].instructions[0], ShellInfo(False))
    'unset PWD OLDPWD SHLVL _; exec node --version'
    """
    if not inst.json or not inst.args or inst.heredocs or info.bash:
        return None
    program, *rest = inst.args
    if not _BARE.fullmatch(program) or program in _SHELL_ONLY or program in RESERVED:
        return None
    if not all(_BARE_ARG.fullmatch(a) for a in rest):
        return None
    return "unset PWD OLDPWD SHLVL _; exec " + " ".join(inst.args)


def command(inst: Instruction, info: ShellInfo) -> str | None:
    """The shell command of a RUN: its shell-form text, or its exec form written for the shell."""
    if inst.json:
        return exec_as_shell(inst, info)
    return inst.args[0] if len(inst.args) == 1 and not inst.heredocs else None


def analysis(inst: Instruction, info: ShellInfo, ctx: Context) -> Analysis | None:
    """The shell analysis of a RUN's command, scanned once per RUN (None: a heredoc, or exec form a shell reads
    differently)."""
    key = id(inst)
    if key not in ctx.analyses:
        code = command(inst, info)
        ctx.analyses[key] = None if code is None else analyze(code, bash=info.bash)
    return ctx.analyses[key]


def _why_alone(inst: Instruction, info: ShellInfo, ctx: Context) -> str | None:
    if inst.heredocs:
        return f"line {inst.line} has a heredoc"
    a = analysis(inst, info, ctx)
    if a is None:
        return f"line {inst.line} is in exec form with words a shell would read differently"
    return None if a.ok else f"line {inst.line}: {a.reason}"


def plan(insts: list[Instruction], ctx: Context) -> list[list[Instruction]]:
    info = shell_info(ctx.shell)

    def joins(a: Instruction, b: Instruction) -> str | None:
        if info is None:
            return "the shell is not a POSIX shell (SHELL or a Windows base)"
        for inst in (a, b):
            why = _why_alone(inst, info, ctx)
            if why is not None:
                return why
        if a.flag_list != b.flag_list:
            return "different flags (--mount, --network, --security)"
        carried = ctx.carried.get(id(b), [])
        if carried:
            if any("$" in f for f in b.flag_list):
                return "flags that read variables, with an ENV between"
            _, why = exports(carried, ctx.escape)
            if why is not None:
                return why
        return None

    return chain(insts, joins, ctx)


@dataclass
class _Command:
    analysis: Analysis
    body: list[str] | None  # the command's physical lines as written, when they can be reused
    comments: list[str]  # comment lines inside the RUN that the body does not hold
    all_comments: list[str]  # every comment line inside the RUN (when the body is not reused)
    exports: list[str]  # the ENVs between the previous command and this one, as export commands


def _inner_comments(inst: Instruction, before: int | None = None) -> list[str]:
    """Comment lines inside a RUN's continuation (the parser drops them), those before offset ``before`` only."""
    lines = inst.text[: before if before is not None else len(inst.text)].split("\n")[1:]
    return [line.strip() for line in lines if line.strip().startswith("#")]


def _body_lines(inst: Instruction, escape: str) -> tuple[list[str], int] | None:
    """The command's physical lines (after keyword and flags), kept as the user wrapped them, and where they start."""
    if "\r" in inst.text or inst.json:
        return None
    line, where = logical_line(inst.text, escape)
    code = inst.args[0]
    stripped = line.rstrip()
    if not code or not stripped.endswith(code):
        return None
    start = where[len(stripped) - len(code)]
    lines = inst.text[start:].rstrip("\n").split("\n")
    lines[-1] = lines[-1].rstrip(" \t")
    return lines, start


def _commands(part: list[Instruction], ctx: Context, info: ShellInfo) -> list[_Command]:
    out = []
    for n, inst in enumerate(part):
        a = analysis(inst, info, ctx)
        assert a is not None
        found = _body_lines(inst, ctx.escape) if a.comment is None else None
        every = _inner_comments(inst)
        body, comments = None, every
        if found is not None:
            body, comments = found[0], _inner_comments(inst, found[1])
        carried = exports(ctx.carried.get(id(inst), []), ctx.escape)[0] if n else []
        out.append(_Command(a, body, comments, every, carried))
    return out


def render(part: list[Instruction], ctx: Context) -> str | None:
    info = shell_info(ctx.shell)
    assert info is not None
    commands = _commands(part, ctx, info)
    if info.errexit:
        # under -e, only a list that runs no other code (no `.`, eval, trap...) can sit where sh ignores -e
        form = "and" if all(c.analysis.simple and not c.analysis.errexit for c in commands) else "statements"
    else:
        form = "errexit" if any(c.analysis.errexit for c in commands) else "and"
    for verbatim in (True, False):
        text = _run_text(part, commands, form, ctx.escape, verbatim)
        if text is not None:
            return text
    return None


def _run_text(part: list[Instruction], commands: list[_Command], form: str, escape: str, verbatim: bool) -> str | None:
    head = f"{keyword(part[0])} " + "".join(f + " " for f in part[0].flag_list)
    cont = f" {escape}"
    lines: list[str] = []
    expected: list[str] = []
    extra_lead = ""
    live = [c for c in commands if c.analysis.code]
    # The ENVs of a command left out (nothing but a comment) go to the next one: the shell exports them between
    # subshells, so each later command starts with exactly the variables its RUN had.
    pending: list[str] = []
    export_before: dict[int, list[str]] = {}
    for c in commands:
        pending += c.exports
        if c.analysis.code:
            export_before[id(c)], pending = pending, []
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
        if export_before[id(cmd)]:
            joiner = " && " if form == "and" else "; "
            sets = joiner.join(export_before[id(cmd)]) + joiner
            prefix = prefix.replace("(", sets + "(", 1) if form == "and" else f"{INDENT}{sets}{prefix.lstrip()}"
        if prefix.endswith("(") and cmd.analysis.code.startswith("("):
            prefix += " "  # `((` would start an arithmetic command in bash
        notes = list(cmd.comments if verbatim and cmd.body else cmd.all_comments)
        if cmd.analysis.comment is not None:
            notes.append(f"#{cmd.analysis.comment}")
        for note in notes:
            if first_line:
                extra_lead += f"{note}\n"
            else:
                lines.append(f"{INDENT}{note}")
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
        if not c.analysis.code:
            extra_lead += "".join(f"{note}\n" for note in c.comments)
            if c.analysis.comment is not None:
                extra_lead += f"#{c.analysis.comment}\n"
    if not live:
        lines, expected = [head + ":"], [":"]
    elif form == "errexit":
        lines[0] += cont
    text = "\n".join(lines)
    check = reparse(text + "\n", part, escape)
    if (
        check is None
        or check.keyword != "RUN"
        or check.json
        or check.heredocs
        or check.flag_list != part[0].flag_list
        or check.args != ["".join(expected)]
    ):
        return None
    return finish(part, text, extra_lead)
