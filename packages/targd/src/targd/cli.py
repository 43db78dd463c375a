"""targd's command line: a thin typer layer over :func:`targd.command.execute`.

Start-up is most of a targd run and importing typer alone costs ~0.1 s, so ``main()`` reads plain command lines
itself (:mod:`dockit.fastcli`) and builds the typer app only for ``--help``, ``--version`` and mistakes. ``OPTIONS``
must list exactly the options the typer command declares; tests check that, and that both paths behave the same.
"""

# No `from __future__ import annotations` here: typer evaluates the command's annotations, and the command is defined
# inside build_app(), where string annotations could not see its local `typer`.

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from dockit.fastcli import Option, guard, parse_plain

if TYPE_CHECKING:
    import typer

    from targd.command import Options

TOOL = "targd"
POSITIONALS = ["dockerfile"]
OPTIONS = [
    Option("target", ("-t", "--target")),
    Option("file", ("-f", "--file")),
    Option("output", ("-o", "--output")),
    Option("build_args", ("--build-arg",), multiple=True),
    Option("platform", ("--platform",)),
    Option("list", ("--list",), value=False),
    Option("graph", ("--graph",), value=False),
    Option("json", ("--json",), value=False),
    Option("quiet", ("-q", "--quiet"), value=False),
]

HELP = """Print only the stages TARGET needs from a multi-stage Dockerfile, verbatim.

Parser directives and global ARGs stay; stages the target does not need go; a COPY --from=<index> whose stage moved \
is rewritten to name it. Build the result with any builder: it makes the same image as `--target TARGET`.
"""


def build_app() -> "typer.Typer":
    """The typer app (imports typer: about 0.1 s)."""
    import typer

    from dockit.cli import version_callback
    from targd import __version__
    from targd.command import Options, execute

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=HELP)
    def targd(
        dockerfile: Annotated[
            str | None,
            typer.Argument(metavar="[DOCKERFILE]", help="The Dockerfile ('-' reads stdin; default: ./Dockerfile)."),
        ] = None,
        target: Annotated[
            str | None,
            typer.Option("-t", "--target", help="Stage name (any case) or index (default: the last stage)."),
        ] = None,
        file: Annotated[str | None, typer.Option("-f", "--file", help="Same as DOCKERFILE.")] = None,
        output: Annotated[str, typer.Option("-o", "--output", help="Write here ('-': stdout), atomically.")] = "-",
        build_arg: Annotated[
            list[str] | None,
            typer.Option("--build-arg", metavar="K=V", help="Value for an ARG that chooses stages (repeatable)."),
        ] = None,
        platform: Annotated[
            str | None,
            typer.Option("--platform", metavar="OS/ARCH", help="Sets TARGET*/BUILD* ARGs (default: linux/amd64)."),
        ] = None,
        list_: Annotated[bool, typer.Option("--list", help="Print every stage, what it needs, if needed.")] = False,
        graph: Annotated[bool, typer.Option("--graph", help="Print the stage graph in Graphviz DOT.")] = False,
        json: Annotated[bool, typer.Option("--json", help="Print the closure and the graph as JSON.")] = False,
        quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No warnings about assumed ARG values.")] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Show it."),
        ] = False,
    ) -> None:
        execute(
            Options(
                target=target,
                dockerfile=dockerfile,
                file=file,
                output=output,
                build_args=list(build_arg or []),
                platform=platform,
                list=list_,
                graph=graph,
                json=json,
                quiet=quiet,
            )
        )

    return app


def options(values: dict[str, Any]) -> "Options":
    """Options from :func:`dockit.fastcli.parse_plain`'s result."""
    from targd.command import Options

    return Options(**values)


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, so importing targd.cli stays cheap
        globals()["app"] = app = build_app()
        return app
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: plain command lines run directly, everything else goes through typer."""
    args = sys.argv[1:] if argv is None else list(argv)
    plain = parse_plain(args, OPTIONS, POSITIONALS)
    if plain is not None:
        from targd.command import execute

        guard(TOOL, lambda: execute(options(plain)))
    from dockit.cli import run

    run(build_app(), TOOL, args)
