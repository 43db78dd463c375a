"""targd's command line: its help text and one call into :func:`targd.command.execute`.

The options are declared on :class:`targd.command.Options`; :func:`dockit.cli.main` reads plain command lines
without typer (start-up is most of a targd run) and builds the typer command only for ``--help`` and completion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from dockit.cli import main as run_main
from targd import __version__
from targd.command import Options, execute

HELP = """Print only the stages TARGET needs from a multi-stage Dockerfile, verbatim.

Parser directives and global ARGs stay; stages the target does not need go; a COPY --from=<index> whose stage moved \
is rewritten to name it. Build the result with any builder: it makes the same image as `--target TARGET`.
"""


def main(argv: Sequence[str] | None = None) -> NoReturn:
    run_main("targd", __version__, Options, execute, HELP, argv)
