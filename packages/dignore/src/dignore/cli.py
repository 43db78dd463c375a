"""dignore's command line: a thin typer layer over :mod:`dignore.command`."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from dignore import __version__
from dockit.cli import version_callback

HELP = """Print the .dockerignore that leaves in the build context only what the service needs: the DIRs (and the \
paths the Dockerfile reads with -f), the files at the context root, and nothing else. Each DIR's own .dockerignore \
is carried over, rewritten relative to the context root.

Example: dignore svc/api lib/common > .dockerignore
"""

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
        str | None, typer.Option("-t", "--target", metavar="STAGE", help="With -f: the stage built (default: last).")
    ] = None,
    exclude_root_files: Annotated[
        bool, typer.Option("--exclude-root-files", help="Leave out the files at the context root too.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Print the context's files and bytes before and after, to stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback("dignore", __version__), is_eager=True, help="Version."),
    ] = False,
) -> int:
    from dignore.command import Options, check_context, dockerignore
    from dockit.cli import write_output

    opts = Options(list(dirs or []), context, output, dockerfile, target, exclude_root_files)
    result = dockerignore(opts)
    for warning in result.warnings:
        print(f"dignore: warning: {warning}", file=sys.stderr)
    if check:
        sys.stderr.write(check_context(context, result.text).report())
    # names that are not UTF-8 reach us as surrogates (os.fsdecode); write their original bytes back
    write_output(output, result.text.encode("utf-8", "surrogateescape"))
    return 0


def main() -> NoReturn:
    """Console script entry point."""
    from dockit.cli import run

    run(app, "dignore")
