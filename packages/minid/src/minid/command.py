"""What the minid command does with its options: rewrite, check, diff, stats, and ``minid build``."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from dockit.cli import STDIO, read_bytes, write_output
from dockit.errors import DockitError, UsageError
from minid.merge import Result, minify


@dataclass
class Options:
    """The command line of ``minid [DOCKERFILE]``."""

    dockerfile: str | None = None
    file: str | None = None
    more: tuple[str, ...] = ()  # further Dockerfiles: only with --check (pre-commit passes several)
    output: str = "-"
    check: bool = False
    diff: bool = False
    stats: bool = False


def input_path(dockerfile: str | None, file: str | None) -> str:
    """The Dockerfile to read: the positional or ``-f`` (not two different ones), default ./Dockerfile."""
    if dockerfile is not None and file is not None and dockerfile != file:
        raise UsageError(f"two Dockerfiles given: {dockerfile!r} and -f {file!r}")
    return dockerfile or file or "Dockerfile"


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIO else path


def check_report(result: Result, path: str) -> str:
    """One line per merge ``--check`` would make, ``path:line: what``."""
    lines = []
    for m in result.merges:
        n = len(m.instructions)
        lines.append(
            f"{display_name(path)}:{m.first_line}: {n} {m.keyword} instructions "
            f"(lines {m.first_line}-{m.last_line}) can be one"
        )
    return "".join(line + "\n" for line in lines)


def stats_report(result: Result) -> str:
    """Layer-making instructions per stage, before -> after."""
    return "".join(
        f"stage {s.label}: {s.before} -> {s.after} layers\n"
        if s.label == str(s.stage)
        else f"stage {s.stage} ({s.label}): {s.before} -> {s.after} layers\n"
        for s in result.stats
    )


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff of the rewrite (empty when nothing changes)."""
    import difflib

    name = display_name(path)
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def execute(opts: Options) -> int:
    """Run ``minid`` with ``opts``; returns the exit code (1 for ``--check`` when something would be merged)."""
    if opts.more:
        if not opts.check:
            raise UsageError("several Dockerfiles need --check")
        codes = [
            execute(Options(path, output=opts.output, check=True, diff=opts.diff, stats=opts.stats))
            for path in (input_path(opts.dockerfile, opts.file), *opts.more)
        ]
        return max(codes)
    path = input_path(opts.dockerfile, opts.file)
    result = minify(read_bytes(path), display_name(path))
    if opts.stats:
        sys.stderr.write(stats_report(result))
        sys.stderr.flush()
    if opts.check:
        sys.stdout.write(check_report(result, path))
        if opts.diff:
            sys.stdout.write(unified_diff(result.source, result.text, path))
        sys.stdout.flush()
        return 1 if result.changed else 0
    if opts.diff:
        write_output(opts.output, unified_diff(result.source, result.text, path))
        return 0
    write_output(opts.output, result.text)
    return 0


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

    inner, rest = split_file_option(args)
    if file is not None and inner is not None and file != inner:
        raise UsageError(f"two Dockerfiles given: {file!r} and -f {inner!r}")
    path = inner or file or "Dockerfile"
    if path == STDIO:
        raise UsageError("minid build reads the Dockerfile from a file; stdin goes to docker")
    result = minify(read_bytes(path), path)
    try:
        done = subprocess.run([docker, "build", "-f", "-", *rest], input=result.text.encode(), check=False)
    except FileNotFoundError:
        raise DockitError(f"{docker}: command not found") from None
    return done.returncode
