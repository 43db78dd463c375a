"""ENV between two RUNs, given to the second command inside its subshell instead: ``export K=...`` with the value
BuildKit would give it.

Exact only where the shell computes the same value at run time as BuildKit does at build time: literal text, and
``$NAME``/``${NAME}`` of variables that the RUN's environment holds with the value BuildKit expanded (ENV and ARG
values, the base image's variables). Not: BuildKit's own operators (``${A:-x}``, ``${A#p}``: the shell's differ in
details), variables the shell or the runtime set themselves (``PWD``, ``HOME``, ``HOSTNAME``...), the platform
ARGs, and keys the shell treats specially (``IFS``, ``ENV``, ``PS4``...) or cannot export (``my-var``).

>>> from dockit.dockerfile import parse
>>> env = parse("FROM a\\nENV PATH=/opt/bin:$PATH GREETING='hi there'\\n").stages[0].instructions[0]
>>> exports([env], "\\\\")
([\'export PATH=\\\'/opt/bin:\\\'"${PATH-}" GREETING=\\\'hi there\\\'\'], None)
"""

from __future__ import annotations

import re

from dockit.dockerfile import PLATFORM_ARGS, Instruction
from dockit.expand import ExpansionError, expand

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Set or read by the shell itself, or by the container runtime when the step starts: their value in the shell is not
# the one BuildKit expands, or exporting them changes the shell's own behaviour.
SHELL_SPECIAL = frozenset(
    {
        *("IFS", "PS1", "PS2", "PS3", "PS4", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"),
        *("PWD", "OLDPWD", "HOME", "HOSTNAME", "PPID", "SHLVL", "OPTIND", "OPTARG", "LINENO", "RANDOM", "SECONDS"),
        *("UID", "EUID", "GROUPS", "HISTFILE", "CDPATH", "MAIL", "MAILPATH", "TERM", "FUNCNAME", "_"),
    }
)


def _quoted(text: str) -> str:
    """``text`` as one literal shell word: single quotes, or double quotes where it holds a single quote only."""
    if "'" not in text:
        return f"'{text}'"
    if not any(ch in text for ch in '$`"\\!'):
        return f'"{text}"'
    return "'" + text.replace("'", "'\\''") + "'"


def shell_word(raw: str, escape: str) -> tuple[str | None, str | None]:
    """A POSIX shell word with the value BuildKit gives the ENV value ``raw``, or (None, why not)."""
    try:
        names = expand(raw, {}, escape).used
        sentinels = {n: f"\0{i}\0" for i, n in enumerate(names)}
        expanded = expand(raw, sentinels, escape)
    except ExpansionError as e:
        return None, f"a value BuildKit does not expand ({e})"
    if expanded.operators:
        return None, "a value with ${...} operators"
    for name in names:
        if not _IDENTIFIER.fullmatch(name) or name in SHELL_SPECIAL or name in PLATFORM_ARGS:
            return None, f"a value that reads ${name}, which the shell does not see as BuildKit does"
    pieces = expanded.value.split("\0")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(f'"${{{names[int(piece)]}-}}"')
        elif piece:
            out.append(_quoted(piece))
    return "".join(out) or "''", None


def exports(envs: list[Instruction], escape: str) -> tuple[list[str], str | None]:
    """One ``export`` command per ENV, in order; or ([], why these ENVs cannot be given to the later commands)."""
    commands = []
    for inst in envs:
        if inst.flag_list or len(inst.args) % 2 or not inst.args:
            return [], f"ENV at line {inst.line} has no plain key=value pairs"
        words = []
        for key, raw in inst.pairs():
            if not _IDENTIFIER.fullmatch(key) or key in SHELL_SPECIAL:
                return [], f"ENV at line {inst.line} sets {key}, which a shell cannot export as it is"
            word, why = shell_word(raw, escape)
            if word is None:
                return [], f"ENV at line {inst.line}: {why}"
            words.append(f"{key}={word}")
        commands.append("export " + " ".join(words))
    return commands, None
