"""What the minid command does with its options: rewrite, check, diff, stats, and ``minid build``.

The options are declared once, on :class:`Options` (:mod:`dockit.options`); ``minid.cli`` hands them to
:func:`dockit.cli.main`.
"""

from __future__ import annotations

import enum
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockit import options as o
from dockit.cli import STDIO, build_args, read_bytes
from dockit.errors import DockitError, UsageError
from dockit.output import unified_diff, write_output

# The merge engine and the reports are imported by the functions that use them: -V and --help never do, and they
# are a third of minid's start-up (minid -V 256 -> 175M instructions, minid --help 563 -> 484M).
if TYPE_CHECKING:
    from dockit.merge import Result


class Format(enum.Enum):
    """How ``--check`` reports: lines for people, or a document for machines."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@dataclass
class Options:
    """The command line of ``minid [DOCKERFILE]...``."""

    dockerfiles: list[str] = o.dockerfile_argument(variadic=True)  # several only with --check (pre-commit)
    file: str | None = o.file_option()
    output: str = o.output_option()
    build_args: list[str] = o.build_arg_option("Passed to the parser (repeatable); the merge rules do not use them.")
    check: bool = o.check_option("Write nothing; say what could be merged, exit 1 if anything could (0: nothing).")
    diff: bool = o.diff_option("Print a unified diff of the change instead of the result.")
    stats: bool = o.flag("--stats", help="On stderr: layers before -> after per stage.")
    explain: bool = o.flag(
        "--explain",
        help="Say why each pair of consecutive RUN/COPY/ADD stays apart (stdout with --check, else stderr).",
    )
    format: Format = o.option(
        "--format",
        help="With --check: 'text' lines, or one 'json' or 'sarif' (SARIF 2.1.0) document for all the files.",
        default=Format.TEXT,
    )


def execute(opts: Options) -> int:
    """Run ``minid`` with ``opts``; returns the exit code: with ``--check``, 0 when nothing would be merged, 1 when
    something would, 2 when a Dockerfile cannot be read or parsed (reported; the others are still checked)."""
    from dockit.merge import minify
    from minid.report import explain_report

    first = opts.dockerfiles[0] if opts.dockerfiles else None
    paths = [o.dockerfile_path(first, opts.file), *opts.dockerfiles[1:]]
    values = build_args(opts.build_args)
    if len(paths) > 1 and not opts.check:
        raise UsageError("several Dockerfiles need --check")
    if opts.format != Format.TEXT and not opts.check:
        raise UsageError(f"--format {opts.format.value} needs --check")
    if opts.check:
        if opts.format != Format.TEXT:
            return _check_document(paths, values, opts)
        return max(_check(path, values, opts) for path in paths)
    result = minify(read_bytes(paths[0]), o.display_name(paths[0]), values)
    _stats(result, opts)
    if opts.explain:
        sys.stderr.write(explain_report(result, o.display_name(paths[0])))
    if opts.diff:
        write_output(opts.output, unified_diff(result.source, result.text, o.display_name(paths[0])))
    else:
        write_output(opts.output, result.data)
    return 0


def _check(path: str, values: dict[str, str], opts: Options) -> int:
    from dockit.merge import minify
    from minid.report import check_report, explain_report

    try:
        result = minify(read_bytes(path), o.display_name(path), values)
    except UsageError:
        raise
    except DockitError as e:  # cannot be checked: say so, and go on with the others
        sys.stdout.flush()
        print(f"minid: {e}", file=sys.stderr)
        return 2
    _stats(result, opts)
    sys.stdout.write(check_report(result, o.display_name(path)))
    if opts.explain:
        sys.stdout.write(explain_report(result, o.display_name(path)))
    if opts.diff:
        sys.stdout.write(unified_diff(result.source, result.text, o.display_name(path)))
    return 1 if result.changed else 0


def _check_document(paths: list[str], values: dict[str, str], opts: Options) -> int:
    """--check --format json|sarif: one document on stdout for every file; unreadable ones listed in it (exit 2)."""
    from dockit.merge import minify
    from minid import __version__
    from minid.report import json_report, sarif_report

    done: list[tuple[str, Result]] = []
    errors: list[tuple[str, str]] = []
    for path in paths:
        try:
            done.append((o.display_name(path), minify(read_bytes(path), o.display_name(path), values)))
        except UsageError:
            raise
        except DockitError as e:
            errors.append((o.display_name(path), str(e)))
            print(f"minid: {e}", file=sys.stderr)
    json_doc = opts.format == Format.JSON
    document = json_report(done, errors) if json_doc else sarif_report(done, __version__, errors)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    if errors:
        return 2
    return 1 if any(r.changed for _, r in done) else 0


def _stats(result: Result, opts: Options) -> None:
    from minid.report import stats_report

    if opts.stats:
        sys.stderr.write(stats_report(result))
        sys.stderr.flush()


def split_file_option(args: list[str]) -> tuple[str | None, list[str]]:
    """Take ``-f X`` / ``--file X`` / ``--file=X`` / ``-fX`` out of docker build arguments.

    >>> split_file_option(["-t", "app", "-f", "Dockerfile.prod", "."])
    ('Dockerfile.prod', ['-t', 'app', '.'])
    """
    file = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-f", "--file"):
            if i + 1 >= len(args):
                raise UsageError(f"{arg} needs a Dockerfile path")
            file = args[i + 1]
            i += 2
            continue
        if arg.startswith("--file="):
            file = arg.split("=", 1)[1]
        elif arg.startswith("-f") and not arg.startswith("--") and len(arg) > 2:
            file = arg[2:]
        else:
            rest.append(arg)
        i += 1
    return file, rest


def build(args: list[str], file: str | None = None, docker: str = "docker") -> int:
    """``minid build ARGS``: the rewritten Dockerfile piped to ``docker build -f - ARGS``; returns docker's status."""
    import subprocess

    from dockit.merge import minify

    inner, rest = split_file_option(args)
    if file is not None and inner is not None and file != inner:
        raise UsageError(f"two Dockerfiles given: {file!r} and -f {inner!r}")
    path = o.dockerfile_path(None, inner or file)
    if path == STDIO:
        raise UsageError("minid build reads the Dockerfile from a file; stdin goes to docker")
    result = minify(read_bytes(path), path)
    try:
        done = subprocess.run([docker, "build", "-f", "-", *rest], input=result.data, check=False)
    except FileNotFoundError:
        raise DockitError(f"{docker}: command not found") from None
    return done.returncode
