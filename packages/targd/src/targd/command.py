"""One targd run from already-parsed options: read, parse, prune or report, write. Shared by both command lines.

``targd.cli`` reads plain command lines itself and hands everything else (``--help``, ``--version``, mistakes) to
typer; both end here, so a given command line behaves the same either way.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from dockit.errors import UsageError

DEFAULT_FILE = "Dockerfile"
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")


@dataclass
class Options:
    """The command line, as typed (not yet validated)."""

    target: str | None = None
    dockerfile: str | None = None
    file: str | None = None
    output: str = "-"
    build_args: list[str] = field(default_factory=list)
    platform: str | None = None
    list: bool = False
    graph: bool = False
    json: bool = False
    quiet: bool = False


def execute(opts: Options) -> None:
    """Do what the options ask; raises DockitError (exit 1) or UsageError (exit 2) with a one-line message."""
    from dockit.cli import build_args, read_bytes, write_output
    from dockit.dockerfile import DEFAULT_PLATFORM, PLATFORM_ARGS, parse
    from targd.prune import prune

    if opts.dockerfile is not None and opts.file is not None and opts.dockerfile != opts.file:
        raise UsageError(f"two Dockerfiles given: {opts.dockerfile!r} and -f {opts.file!r}")
    modes = [name for name, on in (("--list", opts.list), ("--graph", opts.graph), ("--json", opts.json)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} exclude each other")
    if opts.platform is not None and not _PLATFORM.match(opts.platform):
        raise UsageError(f"--platform {opts.platform!r}: expected OS/ARCH or OS/ARCH/VARIANT (e.g. linux/arm64)")
    args = build_args(opts.build_args)
    path = opts.dockerfile or opts.file or DEFAULT_FILE

    data = read_bytes(path)
    df = parse(
        data, path="<stdin>" if path == "-" else path, build_args=args, platform=opts.platform or DEFAULT_PLATFORM
    )
    target: str | None = opts.target
    result = prune(df, target, explicit_args=PLATFORM_ARGS if opts.platform else ())
    if modes:
        from targd import report

        if opts.list:
            text = report.stage_table(df, result.target, result.closure)
        elif opts.graph:
            text = report.stage_graph(df, result.target, result.closure)
        else:
            text = report.stage_json(df, result.target, result.closure, result.renames)
    else:
        text = result.text
    for warning in [] if opts.quiet else result.warnings:
        print(f"targd: warning: {warning}", file=sys.stderr)
    write_output(opts.output, text)
