"""dignore's command line: a thin typer layer over :func:`dignore.command.execute`.

Importing typer costs more than the rest of a typical dignore run, so ``main()`` reads plain command lines itself
(:mod:`dockit.fastcli`) and builds the typer app only for ``--help``, ``--version`` and mistakes. ``OPTIONS`` must
list exactly the options the typer command declares; tests check that, and that both paths behave the same.
"""

# No `from __future__ import annotations` here: typer evaluates the command's annotations, and the command is defined
# inside build_app(), where string annotations could not see its local `typer`.

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from dockit.fastcli import Option, guard, parse_plain

if TYPE_CHECKING:
    import typer

TOOL = "dignore"
OPTIONS = [
    Option("context", ("-C", "--context")),
    Option("output", ("-o", "--output")),
    Option("dockerfile", ("-f", "--dockerfile")),
    Option("target", ("-t", "--target")),
    Option("exclude_root_files", ("--exclude-root-files",), value=False),
    Option("check", ("--check",), value=False),
    Option("diff", ("--diff",), value=False),
    Option("stats", ("--stats",), value=False),
    Option("compose", ("--compose",)),
    Option("exclude", ("--exclude",), multiple=True),
    Option("drop_root_rules", ("--drop-root-rules",), value=False),
    Option("no_deps", ("--no-deps",), value=False),
    Option("explain", ("--explain",), value=False),
]
HELP = """Print the .dockerignore that leaves in the build context only what the service needs: the DIRs (and the \
paths the Dockerfile reads with -f), the files at the context root, and nothing else. Each DIR's own .dockerignore \
is carried over, rewritten relative to the context root, and the root .dockerignore's rules stay in force.

Example: dignore svc/api lib/common > .dockerignore
"""


def build_app() -> "typer.Typer":
    """The typer app (imports typer: about 0.05 s)."""
    import typer

    from dignore import __version__
    from dignore.command import Options, execute
    from dockit.cli import version_callback

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=HELP)
    def dignore(
        dirs: Annotated[list[str] | None, typer.Argument(metavar="DIR...", help="Directories to keep.")] = None,
        context: Annotated[
            str, typer.Option("-C", "--context", metavar="ROOT", help="Build context root; DIRs are relative to it.")
        ] = ".",
        output: Annotated[
            str, typer.Option("-o", "--output", metavar="PATH", help="Write here, atomically ('-': stdout).")
        ] = "-",
        dockerfile: Annotated[
            str | None,
            typer.Option(
                "-f",
                "--dockerfile",
                metavar="PATH",
                help="Also keep what this Dockerfile reads from the context (COPY/ADD sources, RUN bind mounts).",
            ),
        ] = None,
        target: Annotated[
            str | None,
            typer.Option("-t", "--target", metavar="STAGE", help="With -f: the stage built (default: last)."),
        ] = None,
        exclude_root_files: Annotated[
            bool, typer.Option("--exclude-root-files", help="Leave out the files at the context root too.")
        ] = False,
        check: Annotated[
            bool,
            typer.Option("--check", help="Write nothing; exit 1 if an output file is missing or would change."),
        ] = False,
        diff: Annotated[
            bool, typer.Option("--diff", help="Write nothing; print how the output files would change.")
        ] = False,
        stats: Annotated[
            bool, typer.Option("--stats", help="Print the context's files and bytes before and after, to stderr.")
        ] = False,
        compose: Annotated[
            str | None,
            typer.Option(
                "--compose",
                metavar="[FILE]",
                help="Write <Dockerfile>.dockerignore for every service that builds in FILE (default: compose.yaml,"
                " compose.yml, docker-compose.yaml, docker-compose.yml).",
            ),
        ] = None,
        exclude: Annotated[
            list[str] | None,
            typer.Option(
                "--exclude",
                metavar="PATTERN",
                help="Also leave out what PATTERN matches (relative to ROOT; repeatable).",
            ),
        ] = None,
        drop_root_rules: Annotated[
            bool,
            typer.Option("--drop-root-rules", help="Do not keep the root .dockerignore's rules in the kept paths."),
        ] = False,
        no_deps: Annotated[
            bool,
            typer.Option("--no-deps", help="Do not keep the workspace dependencies of the kept directories."),
        ] = False,
        explain: Annotated[bool, typer.Option("--explain", help="Say on stderr why each path is kept.")] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Version."),
        ] = False,
    ) -> int:
        return execute(
            Options(
                list(dirs or []),
                context,
                output,
                dockerfile,
                target,
                exclude_root_files,
                check,
                list(exclude or []),
                drop_root_rules,
                no_deps,
                explain,
                compose,
                diff,
                stats,
            )
        )

    return app


def plain_options(args: Sequence[str]) -> dict[str, Any] | None:
    """The fields of :class:`dignore.command.Options` a plain command line gives; None when typer must handle it."""
    # DIR... takes any number of words: give parse_plain a name for each one it could be
    slots = [f"dir {i}" for i in range(len(args))]
    values = parse_plain(args, OPTIONS, slots)
    if values is None:
        return None
    values["dirs"] = [values.pop(slot) for slot in slots if slot in values]
    return values


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, so importing dignore.cli stays cheap
        globals()["app"] = app = build_app()
        return app
    raise AttributeError(name)


def compose_default(args: Sequence[str]) -> list[str]:
    """``--compose`` with no FILE after it (the end, or an option next) as ``--compose=``: find the compose file.

    >>> compose_default(["--compose", "--check"]), compose_default(["--compose", "c.yaml"])
    (['--compose=', '--check'], ['--compose', 'c.yaml'])
    """
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--compose" and (i + 1 == len(out) or (out[i + 1].startswith("-") and out[i + 1] != "-")):
            out[i] = "--compose="
    return out


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: plain command lines run directly, everything else goes through typer."""
    args = compose_default(sys.argv[1:] if argv is None else list(argv))
    plain = plain_options(args)
    if plain is not None:
        from dignore.command import Options, execute

        guard(TOOL, lambda: execute(Options(**plain)))
    from dockit.cli import run

    run(build_app(), TOOL, args)
