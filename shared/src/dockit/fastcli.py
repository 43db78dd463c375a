"""A typer-free fast path for plain command lines: importing typer costs ~0.1 s, more than a whole targd run.

A tool's ``main()`` first tries :func:`parse_plain` on its argv. It accepts only command lines made of known options
and positionals, and returns None for anything else (``--help``, ``--version``, ``--debug``, an unknown or incomplete
option, a value that looks like an option, too many positionals, ``--``), so typer handles every case that prints
help or an error. :func:`guard` then runs the tool's work with the same error conventions as
:func:`dockit.cli.run`. A tool using this must test that both paths give identical results.

>>> opts = [Option("target", ("-t", "--target")), Option("list", ("--list",), value=False)]
>>> parse_plain(["-t", "app", "Dockerfile", "--list"], opts, ["dockerfile"])
{'target': 'app', 'list': True, 'dockerfile': 'Dockerfile'}
>>> parse_plain(["--help"], opts, ["dockerfile"]) is None
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from dockit.cli import conventions


@dataclass(frozen=True)
class Option:
    """An option as the typer command declares it: ``dest`` is the parameter name, ``names`` its spellings."""

    dest: str
    names: tuple[str, ...]
    value: bool = True  # False: a flag
    multiple: bool = False  # a repeatable option collects a list


def parse_plain(argv: Sequence[str], options: Sequence[Option], positionals: Sequence[str]) -> dict[str, object] | None:
    """The options and positionals of a plain command line, or None when typer must handle it.

    Options not given are absent from the result; a repeated single-value option keeps its last value, as click does.
    """
    if os.environ.get("DOCKIT_DEBUG") == "1":
        return None
    by_name = {name: opt for opt in options for name in opt.names}
    out: dict[str, object] = {}
    free: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "-" or not arg.startswith("-"):
            free.append(arg)
            continue
        value: str | None = None
        if arg.startswith("--"):
            name, eq, attached = arg.partition("=")
            if eq:
                value = attached
        elif len(arg) > 2:
            name, value = arg[:2], arg[2:]
        else:
            name = arg
        opt = by_name.get(name)
        if opt is None:
            return None
        if not opt.value:
            if value is not None:
                return None
            out[opt.dest] = True
            continue
        if value is None:
            if i == len(args) or (args[i].startswith("-") and args[i] != "-"):
                return None
            value = args[i]
            i += 1
        if opt.multiple:
            values = out.setdefault(opt.dest, [])
            assert isinstance(values, list)
            values.append(value)
        else:
            out[opt.dest] = value
    if len(free) > len(positionals):
        return None
    out.update(zip(positionals, free, strict=False))
    return out


def guard(tool: str, action: Callable[[], object]) -> NoReturn:
    """Run ``action`` with :func:`dockit.cli.run`'s conventions: one line on stderr, exit 1 (2 for usage errors)."""
    with conventions(tool):
        result = action()
    raise SystemExit(result if isinstance(result, int) else 0)
