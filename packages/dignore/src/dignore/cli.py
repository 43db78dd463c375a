"""dignore's command line: its help text and one call into :func:`dignore.command.execute`.

The options are declared on :class:`dignore.command.Options`; :func:`dockit.cli.main` reads plain command lines
without typer and builds the typer command only for ``--help`` and completion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from dignore import __version__
from dignore.command import Options, execute
from dockit.cli import main as run_main

HELP = """Print the .dockerignore that leaves in the build context only what the service needs: the DIRs (and the \
paths the Dockerfile reads with -f), the files at the context root, and nothing else. Each DIR's own .dockerignore \
is carried over, rewritten relative to the context root, and the root .dockerignore's rules stay in force.

Example: dignore svc/api lib/common > .dockerignore
"""


def main(argv: Sequence[str] | None = None) -> NoReturn:
    run_main("dignore", __version__, Options, execute, HELP, argv)
