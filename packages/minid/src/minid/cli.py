"""minid's command line: its help text, ``minid build``, and one call into :func:`minid.command.execute`.

The options are declared on :class:`minid.command.Options`; :func:`dockit.cli.main` reads plain command lines
without typer and builds the typer command only for ``--help`` and completion. ``minid build ARGS`` passes ARGS to
``docker build`` untouched (except ``-f``), so it is dispatched before any option parsing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from dockit.cli import main as run_main
from dockit.cli import run_action
from minid import __version__
from minid.command import Options, build, execute, split_file_option

HELP = """Merge consecutive RUN, ENV, LABEL, COPY and ADD instructions: fewer layers, the same build.

Each merged RUN runs every original command in its own subshell, so no shell state (cwd, variables, options, umask, \
traps, exit) leaks from one into the next and a failure still fails the build. `minid build ARGS...` pipes the result \
to `docker build -f - ARGS...`.
"""


def _build_args(args: list[str]) -> tuple[str | None, list[str]] | None:
    """``build ARGS`` or the original's ``-f FILE build ARGS`` (any spelling of ``-f``): the file and ARGS, or None."""
    if args[:1] == ["build"]:
        return None, args[1:]
    n = 2 if args[:1] in (["-f"], ["--file"]) else 1  # the words of the -f option before `build`
    if args[n : n + 1] == ["build"]:
        file, rest = split_file_option(args[:n])
        if file is not None and not rest:
            return file, args[n + 1 :]
    return None


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    building = _build_args(args)
    if building is not None:
        file, rest = building
        run_action("minid", lambda: build(rest, file))
    run_main("minid", __version__, Options, execute, HELP, args)
