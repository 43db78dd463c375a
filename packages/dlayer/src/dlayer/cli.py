"""dlayer's command line: its help texts and one call into :func:`dlayer.command.run_dlayer` (or, for
``dlayer diff``, :func:`dlayer.command.run_diff`).

The options are declared on :class:`dlayer.command.Options`; :func:`dockit.cli.main` reads plain command lines
without typer (~0.1 s of imports, a fifth of a whole run on a 1 GB image) and builds the typer command only for
``--help`` and completion.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from dlayer import __version__
from dlayer.command import DiffOptions, Options, run_diff, run_dlayer
from dockit.cli import main as run_main

HELP = """Why is this image big: per layer, the command that made it and the biggest files it added; then what the \
image wastes (bytes a later layer overwrote or deleted) and dive's efficiency figures.

`dlayer diff A B` compares two images (see `dlayer diff --help`).

SOURCE is an image archive (`docker save`, buildah, OCI; tar or directory; gzip, zstd or plain layers; the whole \
file gzip, zstd or xz compressed), - for stdin, or an image reference: read from the Docker daemon if it has it, \
else from its registry (no daemon needed). Prefixes choose: docker://, podman://, registry://, docker-archive://, \
oci-archive://. Examples: dlayer nginx:latest; docker save app | gzip | dlayer -n 10
"""


DIFF_HELP = """Compare two images: the layers they share (said once), every path added, removed or changed (type, \
size, mode, owner, link) biggest first, and the totals side by side. A and B are any SOURCE dlayer reads: archives, \
'-' (one of them), image references (daemon or registry). Exit 0 whatever differs. \
Contents are compared only with --contents (it reads every file of both). \
A layer whose diff id B's config shares with A is read once: diff ids come from the image configs and are not \
re-verified (as docker and skopeo trust them); only a blob whose size shows it cannot be that layer is read again.

Example: dlayer diff app:1.4 app:1.5
"""


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    # hard_exit: a big report is ~100k objects, torn down one by one at exit for nothing (7% of a run)
    if args[:1] == ["diff"]:  # the one subcommand; an archive called diff is ./diff
        run_main("dlayer diff", __version__, DiffOptions, run_diff, DIFF_HELP, args[1:], hard_exit=True)
    run_main("dlayer", __version__, Options, run_dlayer, HELP, args, hard_exit=True)
