"""Checks shared by the tools' typer-free fast paths (dockit.fastcli): what a run imported, and whether the fast
path's options table declares exactly what the typer command declares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dockit.fastcli import Option


def imported_modules(importtime_stderr: str) -> set[str]:
    """The modules a ``python -X importtime`` run imported, read from its stderr."""
    return {line.split("|")[-1].strip() for line in importtime_stderr.splitlines() if line.startswith("import time:")}


def typer_options(app: Any) -> set[tuple[tuple[str, ...], bool, bool]]:
    """The typer command's options (but ``--version``) as (spellings, takes a value, repeatable)."""
    import typer.main

    command = typer.main.get_command(app)
    return {
        (tuple(sorted(p.opts)), not getattr(p, "is_flag", False), bool(getattr(p, "multiple", False)))
        for p in command.params
        if p.param_type_name == "option" and "--version" not in p.opts
    }


def typer_arguments(app: Any) -> list[tuple[str | None, int]]:
    """The typer command's positional arguments as (name, nargs)."""
    import typer.main

    return [(p.name, p.nargs) for p in typer.main.get_command(app).params if p.param_type_name == "argument"]


def option_table(options: Iterable[Option]) -> set[tuple[tuple[str, ...], bool, bool]]:
    """A fast-path options table in the form of :func:`typer_options`."""
    return {(tuple(sorted(o.names)), o.value, o.multiple) for o in options}
