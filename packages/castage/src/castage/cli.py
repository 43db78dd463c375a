"""castage's command line: its help text and one call into :func:`castage.command.execute`.

The options are declared on :class:`castage.command.Options`; :func:`dockit.cli.main` reads plain command lines
without typer and builds the typer command only for ``--help`` and completion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from castage import __version__
from castage.command import Options, execute
from dockit.cli import main as run_main

HELP = (
    "Print a bash script (or a docker-bake.hcl) that pulls, builds, tags (and with --push pushes) every stage of a "
    "Dockerfile, so that CI builds reuse each stage's cache."
)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    run_main("castage", __version__, Options, execute, HELP, argv)
