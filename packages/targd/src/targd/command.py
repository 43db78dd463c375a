"""One targd run from its options: read, parse, prune or report, write.

The options are declared once, on :class:`Options` (:mod:`dockit.options`); ``targd.cli`` hands them to
:func:`dockit.cli.main`, which reads command lines, prints help and reports usage errors from that declaration.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from dockit import options as o
from dockit.errors import UsageError, printable


@dataclass
class Options:
    """targd's command line, as typed (not yet validated)."""

    dockerfile: str | None = o.dockerfile_argument()
    target: str | None = o.option(
        "-t", "--target", metavar="STAGE", help="Stage name (any case) or index (default: the last stage)."
    )
    file: str | None = o.file_option()
    output: str = o.output_option()
    build_args: list[str] = o.build_arg_option(
        "Value for an ARG that chooses stages (repeatable); NAME alone: from env."
    )
    platform: str | None = o.platform_option("Sets the TARGET*/BUILD* ARGs (default: this machine's, as docker's).")
    list: bool = o.flag("--list", help="Print every stage, what it needs, if needed.")
    graph: bool = o.flag("--graph", help="Print the stage graph in Graphviz DOT.")
    json: bool = o.flag("--json", help="Print the closure and the graph as JSON.")
    quiet: bool = o.flag("-q", "--quiet", help="No warnings about ARG values that chose a stage.")
    check: bool = o.check_option()
    diff: bool = o.diff_option()


def execute(opts: Options) -> int:
    """Do what the options ask; raises DockitError (exit 1) or UsageError (exit 2) with a one-line message."""
    from dockit.cli import build_args, read_bytes
    from dockit.dockerfile import PLATFORM_ARGS, host_platform, parse
    from dockit.output import compare_output, comparing, write_output
    from targd.prune import prune

    path = o.dockerfile_path(opts.dockerfile, opts.file)
    modes = [name for name, on in (("--list", opts.list), ("--graph", opts.graph), ("--json", opts.json)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} exclude each other")
    platform = o.platform(opts.platform)
    compare = comparing(opts.output, opts.check, opts.diff)
    args = build_args(opts.build_args)

    df = parse(read_bytes(path), path=o.display_name(path), build_args=args, platform=platform or host_platform())
    result = prune(df, opts.target, explicit_args=PLATFORM_ARGS if platform else ())
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
        data: str | bytes = df.encoding.encode(text)  # the file's BOM and charset: untouched bytes stay as they were
    for warning in [] if opts.quiet else result.warnings:
        print(f"targd: warning: {printable(warning)}", file=sys.stderr)
    if modes:
        data = text
    if compare:
        return compare_output("targd", opts.output, data, check=opts.check, diff=opts.diff)
    write_output(opts.output, data)
    return 0
