"""``rget -h/--help``, rendered by typer from :data:`rget.args.OPTIONS` (the one declaration the parser reads).

Imported only on the help path, so no download pays for typer. ``rich_markup_mode=None``: typer then formats with
its plain (click) formatter and never imports typer.rich_utils (rich.markdown, pygments: most of a rich help run).
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer

from rget.args import HELP_NAMES, OPTIONS, SUMMARY, VERSION_NAMES, Opt

_TYPES: dict[str, Any] = {"flag": bool, "str": str | None, "int": int, "float": float, "many": list[str] | None}


def _parameter(opt: Opt) -> inspect.Parameter:
    info: Any
    if not opt.names:
        info = typer.Argument(metavar=opt.metavar, help=opt.help, show_default=False)
    else:
        info = typer.Option(
            *opt.names,
            help=opt.help,
            metavar=opt.metavar or None,
            min=opt.minimum,
            max=opt.maximum,
            show_default=opt.show_default and opt.default is not None and opt.kind != "flag",
            is_eager=opt.names == VERSION_NAMES,
        )
    kind = float | None if opt.kind == "float" and opt.default is None else _TYPES[opt.kind]
    default = False if opt.kind == "flag" else opt.default
    return inspect.Parameter(
        opt.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, info]
    )


def command() -> typer.Typer:
    """A typer app whose one command declares exactly rget's options; -h/--help is typer's own help option."""
    params = [_parameter(opt) for opt in OPTIONS if opt.names != HELP_NAMES]  # typer's own, below

    def rget(**_values: object) -> None:
        raise AssertionError("the typer command only shows help; rget.args reads command lines")

    rget.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    rget.__annotations__ = {p.name: p.annotation for p in params}
    app = typer.Typer(
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_NAMES)},
    )
    app.command(help=SUMMARY)(rget)
    return app


def help_text(columns: int | None = None) -> str:
    """What ``rget --help`` prints: typer's help of :func:`command`, laid out as click lays it out on a terminal of
    ``columns`` (default: $COLUMNS, else the terminal's width), at most 80.

    >>> print(help_text(80).split("Options:")[0].strip())
    Usage: rget [OPTIONS] [URL]
    <BLANKLINE>
      Download one file over many HTTP Range connections: resumable, verified,
      never a corrupt file.
    <BLANKLINE>
    Arguments:
      [URL]  URL to download (or -u)
    """
    width = None if columns is None else max(min(columns, 80) - 2, 50)  # click's own rule for the terminal's width
    click_command = typer.main.get_command(command())
    with click_command.make_context("rget", [], resilient_parsing=True, terminal_width=width) as ctx:
        help_option = click_command.get_help_option(ctx)
        if help_option is not None:  # its words are rget.args' too, not click's "Show this message and exit."
            help_option.help = next(opt.help for opt in OPTIONS if opt.names == HELP_NAMES)
        return click_command.get_help(ctx) + "\n"
