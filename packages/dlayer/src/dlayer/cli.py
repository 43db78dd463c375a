"""dlayer's command line: a thin typer layer over :func:`dlayer.command.run_dlayer`."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from dlayer import __version__
from dockit.cli import version_callback

HELP = """Why is this image big: per layer, the command that made it and the biggest files it added; then what the \
image wastes (bytes a later layer overwrote or deleted) and dive's efficiency figures.

Reads `docker save` archives (legacy and Docker 25+), buildah docker-archives, OCI layouts (tar or directory; \
gzip, zstd or plain layers). Example: docker save app:latest | dlayer -n 10
"""

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command(help=HELP)
def dlayer(
    file: Annotated[
        str, typer.Option("-f", "--file", help="Image archive or OCI layout directory ('-': stdin).")
    ] = "-",
    max_files: Annotated[int, typer.Option("-n", "--max-files", min=0, help="Paths shown per layer.")] = 100,
    depth: Annotated[int, typer.Option("-d", "--depth", min=1, help="Aggregate paths to this depth.")] = 8,
    attrs: Annotated[bool, typer.Option("-a", "--attributes", help="Show mode, uid and gid.")] = False,
    width: Annotated[int, typer.Option("-l", "--line-width", min=40, help="Line width.")] = 100,
    interactive: Annotated[
        bool, typer.Option("-i", "--interactive", help="Browse layers in a terminal UI (needs dlayer[tui]).")
    ] = False,
    tag: Annotated[str | None, typer.Option("--tag", help="Image to read from a multi-image archive.")] = None,
    arch: Annotated[
        str | None, typer.Option("--arch", "--platform", help="Platform to choose: amd64, linux/arm64, ...")
    ] = None,
    json_path: Annotated[
        str | None, typer.Option("-j", "--json", help="Write dive-compatible JSON here ('-': stdout).")
    ] = None,
    ci: Annotated[bool, typer.Option("--ci", help="Apply dive's CI rules; exit 1 when one fails.")] = False,
    lowest_efficiency: Annotated[
        str,
        typer.Option(
            "--lowest-efficiency", "--lowestEfficiency", help="CI: fail below this efficiency ('disabled' to skip)."
        ),
    ] = "0.9",
    highest_wasted_bytes: Annotated[
        str,
        typer.Option(
            "--highest-wasted-bytes", "--highestWastedBytes", help="CI: fail above these inefficient bytes (e.g. 20MB)."
        ),
    ] = "disabled",
    highest_user_wasted_percent: Annotated[
        str,
        typer.Option(
            "--highest-user-wasted-percent",
            "--highestUserWastedPercent",
            help="CI: fail above this share of the user layers' bytes.",
        ),
    ] = "0.1",
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback("dlayer", __version__), is_eager=True, help="Version."),
    ] = False,
) -> int:
    from dlayer.command import Options, run_dlayer

    return run_dlayer(
        Options(
            file=file,
            max_files=max_files,
            depth=depth,
            attrs=attrs,
            width=width,
            interactive=interactive,
            tag=tag,
            arch=arch,
            json_path=json_path,
            ci=ci,
            ci_rules={
                "lowestEfficiency": lowest_efficiency,
                "highestWastedBytes": highest_wasted_bytes,
                "highestUserWastedPercent": highest_user_wasted_percent,
            },
        )
    )


def main() -> NoReturn:
    """Console script entry point."""
    from dockit.cli import run

    run(app, "dlayer")
