"""minid's command line: a thin typer layer over :func:`minid.command.execute` and :func:`minid.command.build`.

Importing typer costs ~0.1 s, more than a whole minid run, so ``main()`` reads plain command lines itself
(:mod:`dockit.fastcli`) and builds the typer app only for ``--help``, ``--version`` and mistakes. ``OPTIONS`` must list
exactly the options the typer command declares. ``minid build ARGS`` passes ARGS to ``docker build`` untouched
(except ``-f``), so it is dispatched before any option parsing.
"""

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from dockit.fastcli import Option, guard, parse_plain

if TYPE_CHECKING:
    import typer

TOOL = "minid"
POSITIONALS = ["dockerfile"]
OPTIONS = [
    Option("file", ("-f", "--file")),
    Option("output", ("-o", "--output")),
    Option("check", ("--check",), value=False),
    Option("diff", ("--diff",), value=False),
    Option("stats", ("--stats",), value=False),
]

HELP = """Merge consecutive RUN, ENV, LABEL, COPY and ADD instructions: fewer layers, the same build.

Each merged RUN runs every original command in its own subshell, so no shell state (cwd, variables, options, umask, \
traps, exit) leaks from one into the next and a failure still fails the build. `minid build ARGS...` pipes the result \
to `docker build -f - ARGS...`.
"""


def build_app() -> "typer.Typer":
    """The typer app (imports typer: about 0.1 s)."""
    import typer

    from dockit.cli import version_callback
    from minid import __version__
    from minid.command import Options, execute

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=HELP)
    def minid(
        dockerfiles: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="[DOCKERFILE]...",
                help="The Dockerfile ('-' reads stdin; default: ./Dockerfile); several only with --check.",
                show_default=False,
            ),
        ] = None,
        file: Annotated[str | None, typer.Option("-f", "--file", help="Same as DOCKERFILE.")] = None,
        output: Annotated[str, typer.Option("-o", "--output", help="Write here ('-': stdout), atomically.")] = "-",
        check: Annotated[
            bool, typer.Option("--check", help="Say what could be merged; exit 1 if anything could.")
        ] = False,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff of the change.")] = False,
        stats: Annotated[bool, typer.Option("--stats", help="On stderr: layers before -> after per stage.")] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Show it."),
        ] = False,
    ) -> int:
        given = dockerfiles or []
        first, more = (given[0] if given else None), tuple(given[1:])
        return execute(Options(first, file=file, output=output, check=check, diff=diff, stats=stats, more=more))

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, so importing minid.cli stays cheap
        globals()["app"] = app = build_app()
        return app
    raise AttributeError(name)


def _build_args(args: list[str]) -> tuple[str | None, list[str]] | None:
    """``build ARGS`` or the original's ``-f FILE build ARGS`` (any spelling of ``-f``): the file and ARGS, or None."""
    from minid.command import split_file_option

    if args[:1] == ["build"]:
        return None, args[1:]
    n = 2 if args[:1] in (["-f"], ["--file"]) else 1  # the words of the -f option before `build`
    if args[n : n + 1] == ["build"]:
        file, rest = split_file_option(args[:n])
        if file is not None and not rest:
            return file, args[n + 1 :]
    return None


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: ``build`` goes to docker, plain command lines run directly, the rest through typer."""
    args = sys.argv[1:] if argv is None else list(argv)
    building = _build_args(args)
    if building is not None:
        from minid.command import build

        file, rest = building
        guard(TOOL, lambda: build(rest, file))
    plain = parse_plain(args, OPTIONS, POSITIONALS)
    if plain is not None:
        from minid.command import Options, execute

        guard(TOOL, lambda: execute(Options(**plain)))  # type: ignore[arg-type]
    from dockit.cli import run

    run(build_app(), TOOL, args)
