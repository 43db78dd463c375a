"""Which shell a stage's RUNs run in, and what minid may assume about it.

>>> shell_info(["/bin/bash", "-eo", "pipefail", "-c"])
ShellInfo(errexit=True, bash=True)
>>> shell_info(["powershell", "-command"]) is None
True
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dockit.dockerfile import Stage

DEFAULT_SHELL = ("/bin/sh", "-c")
WINDOWS_SHELL = ("cmd", "/S", "/C")
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh"})
# Variables that make a POSIX shell run code or set options at start-up: with them, one shell for several commands
# is not the same as one shell each.
STARTUP_VARIABLES = frozenset({"BASH_ENV", "SHELLOPTS"})
UNKNOWN_SHELL = ("(a shell with start-up variables)",)  # shell_info() rejects it: RUNs after them stay alone


@dataclass(frozen=True)
class ShellInfo:
    """A POSIX shell command line (``SHELL [...]``): whether it turns ``-e`` (errexit) on, whether it is bash."""

    errexit: bool
    bash: bool = False


def shell_info(argv: Sequence[str]) -> ShellInfo | None:
    """The POSIX shell ``argv`` runs (it must end with its ``-c`` option), or None for any other kind of shell."""
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
    return ShellInfo(errexit, bash=name == "bash")


def initial_shell(stage: Stage, final: dict[int, tuple[tuple[str, ...], bool]]) -> tuple[tuple[str, ...], bool]:
    """The shell a stage starts with: its base stage's last one, or the platform's default for an image."""
    parent = next((r.stage for r in stage.refs if r.kind == "from"), None)
    if parent is not None and parent in final:
        return final[parent]
    # FROM ${BASE} with BASE unknown may name a stage that changed its SHELL: only safe if none did
    if not stage.base and any(shell != DEFAULT_SHELL or startup for shell, startup in final.values()):
        return UNKNOWN_SHELL, True
    base = stage.base.lower()
    windows = (stage.platform or "").lower().startswith("windows") or any(
        w in base for w in ("windows", "nanoserver", "servercore")
    )
    return (WINDOWS_SHELL if windows else DEFAULT_SHELL), False
