"""The typer command of a tool, derived from its ``Options`` declaration: rich ``--help`` and shell completion.

Only ``-h/--help``, ``--install-completion``, ``--show-completion`` and the shell's completion requests come here
(:func:`dockit.cli.main` routes them, and hands click only the word that asks for it); every other command line is
read by :mod:`dockit.argv`, so the command's body never runs.
"""

from __future__ import annotations

import inspect
import os
from typing import Annotated, Any

import typer

from dockit.argv import HELP_NAMES, VERSION_NAMES
from dockit.options import Spec, specs


def _annotation(spec: Spec) -> Any:
    if spec.kind == "flag":
        return bool
    if spec.kind == "int":
        return int
    if spec.kind == "choice":
        return type(spec.default)
    if spec.kind == "multiple":
        return list[str] | None
    return str if spec.required or spec.default is not None else str | None


def _parameter(spec: Spec) -> inspect.Parameter:
    default = None if spec.kind == "multiple" else spec.default
    info: Any
    if spec.positional:
        info = typer.Argument(metavar=spec.metavar or None, help=spec.help, show_default=False)
    else:
        info = typer.Option(
            *spec.names,
            help=spec.help,
            metavar=spec.metavar,
            min=spec.minimum,
            show_default=spec.show_default and default not in (None, False),
        )
    if spec.required:
        default = inspect.Parameter.empty
    return inspect.Parameter(
        spec.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[_annotation(spec), info]
    )


def _version_parameter() -> inspect.Parameter:
    info = typer.Option(*VERSION_NAMES, help="Print the version and exit.", is_eager=True)
    return inspect.Parameter("version", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, info])


def build_command(tool: str, help: str, cls: type) -> typer.Typer:
    """A typer app whose one command declares exactly the options of ``cls`` (plus ``-V/--version``)."""
    if os.environ.get("NO_COLOR"):
        from typer import rich_utils

        rich_utils.COLOR_SYSTEM = None  # rich alone would drop colours but keep bold and dim (https://no-color.org)

    params = [_parameter(s) for s in specs(cls)]
    params.append(_version_parameter())
    # required parameters first: a Python signature cannot put one after a parameter with a default
    params.sort(key=lambda p: p.default is not inspect.Parameter.empty)

    def command(**_values: Any) -> None:
        raise AssertionError("the typer command only shows help and completions; dockit.argv reads command lines")

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = tool
    app = typer.Typer(
        add_completion=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_NAMES)},
    )
    app.command(help=help)(command)
    return app
