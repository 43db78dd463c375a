"""dignore as a library call: options in, .dockerignore text (and the --stats figures) out; ``--compose`` for every
service of a compose file at once; ``--check``/``--diff`` compare with what is on disk instead of writing."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from dignore.generate import Rules
from dignore.infer import ContextUse
from dignore.kept import check, normalize
from dignore.plan import Want
from dignore.service import Generated, Request, build
from dockit import options as o
from dockit.build_context import DOCKERIGNORE, ContextSize, read_dockerignore, walk_context
from dockit.errors import DockitError, UsageError, printable
from dockit.ignore import PatternMatcher


@dataclass
class Options:
    """What the command line says (declared once: :mod:`dockit.options`); ``dirs`` relative to ``context``,
    ``dockerfile`` relative to the cwd."""

    dirs: list[str] = o.argument(metavar="DIR...", help="Directories to keep.", variadic=True)
    context: str = o.option(
        "-C", "--context", metavar="ROOT", default=".", help="Build context root; DIRs are relative to it."
    )
    output: str = o.output_option()
    dockerfile: str | None = o.file_option(
        "Also keep what this Dockerfile reads from the context (COPY/ADD sources, RUN bind mounts).",
        aliases=("--dockerfile",),
    )
    target: str | None = o.option("-t", "--target", metavar="STAGE", help="With -f: the stage built (default: last).")
    build_args: list[str] = o.build_arg_option("With -f: a value for an ARG that chooses stages (repeatable).")
    exclude_root_files: bool = o.flag("--exclude-root-files", help="Leave out the files at the context root too.")
    check: bool = o.check_option("Write nothing; exit 1 if an output file is missing or would change (0: up to date).")
    diff: bool = o.diff_option("Write nothing; print how the output files would change.")
    stats: bool = o.flag("--stats", help="Print the context's files and bytes before and after, to stderr.")
    compose: str | None = o.option(  # "" for the compose file of the working directory
        "--compose",
        metavar="[FILE]",
        bare="",
        help="Write <Dockerfile>.dockerignore for every service that builds in FILE (default: compose.yaml,"
        " compose.yml, docker-compose.yaml, docker-compose.yml).",
    )
    exclude: list[str] = o.option(
        "--exclude",
        metavar="PATTERN",
        multiple=True,
        help="Also leave out what PATTERN matches (relative to ROOT; repeatable).",
    )
    drop_root_rules: bool = o.flag(
        "--drop-root-rules", help="Do not keep the root .dockerignore's rules in the kept paths."
    )
    no_deps: bool = o.flag("--no-deps", help="Do not keep the workspace dependencies of the kept directories.")
    explain: bool = o.flag("--explain", help="Say on stderr why each path is kept.")


def execute(opts: Options) -> int:
    """What the command line does: notes, warnings and figures on stderr, the .dockerignore to ``output``."""
    from dockit.output import compare_output, comparing, write_output

    if opts.compose is not None:
        return execute_compose(opts)
    compare = comparing(opts.output, opts.check, opts.diff)
    result = dockerignore(opts)
    _report(result, opts.explain)
    if opts.stats:
        sys.stderr.write(check_context(opts.context, result.matcher, _before_file(opts)).report())
    # names that are not UTF-8 reach us as surrogates (os.fsdecode); write their original bytes back
    data = result.text.encode("utf-8", "surrogateescape")
    if compare:
        return compare_output("dignore", opts.output, data, check=opts.check, diff=opts.diff)
    write_output(opts.output, data)
    return 0


def _report(result: Generated, explain: bool, who: str = "") -> None:
    for note in result.notes:
        print(f"dignore: {who}{note}", file=sys.stderr)
    for warning in result.warnings:
        print(f"dignore: {who}warning: {printable(warning)}", file=sys.stderr)
    if explain:
        for line in result.explanation:
            print(f"dignore: {who}keeps {line}", file=sys.stderr)


def execute_compose(opts: Options) -> int:
    """``--compose``: write (or ``--check``/``--diff``) the ``<Dockerfile>.dockerignore`` of every service."""
    from dignore import compose
    from dockit.output import compare_output, write_output

    given = [name for name, on in (("DIR", opts.dirs), ("-f", opts.dockerfile), ("-t", opts.target)) if on]
    given += ["-o"] if opts.output != "-" else []
    given += ["-C"] if opts.context != "." else []
    if given:
        raise UsageError(f"--compose writes a file beside each service's Dockerfile: it takes no {', '.join(given)}")
    path = Path(opts.compose) if opts.compose else compose.find()
    spec = compose.read(path)
    flags = [
        f
        for f, on in (
            ("--exclude-root-files", opts.exclude_root_files),
            ("--drop-root-rules", opts.drop_root_rules),
            ("--no-deps", opts.no_deps),
        )
        if on
    ]
    for pattern in opts.exclude:
        flags += ["--exclude", pattern]
    command = shlex.join(["dignore", "--compose", compose.shown(path), *flags])
    settings = compose.Settings(
        not opts.exclude_root_files, opts.drop_root_rules, tuple(opts.exclude), not opts.no_deps, command
    )
    comparing = opts.check or opts.diff  # then only what would change is said (and warnings)
    for note in [] if comparing else spec.notes:
        print(f"dignore: {note}", file=sys.stderr)
    if not spec.builds:
        print(f"dignore: {compose.shown(path)}: no service builds from a Dockerfile; nothing to write", file=sys.stderr)
    code = 0
    for out in compose.outputs(spec, settings):
        who = f"{', '.join(out.services)}: "
        if comparing:
            out.generated.notes.clear()
        for note in [] if comparing else out.notes:
            print(f"dignore: {note}", file=sys.stderr)
        _report(out.generated, opts.explain, who)
        line = "" if comparing else compose.summary(out)
        for name in [] if comparing else out.services:
            print(f"dignore: {name}: {line}", file=sys.stderr)
        if opts.stats:
            before = str(out.path) if out.path.exists() else None
            sys.stderr.write(check_context(str(out.context), out.generated.matcher, before).report())
        data = out.generated.text.encode("utf-8", "surrogateescape")
        if comparing:
            shown = compose.shown(out.path)
            code = max(code, compare_output("dignore", shown, data, check=opts.check, diff=opts.diff))
        else:
            write_output(out.path, data)
    return code


def command_line(opts: Options) -> str:
    """The command that regenerates the output, for its header (DIRs normalised and sorted)."""
    words = ["dignore"]
    if opts.context != ".":
        words += ["-C", opts.context]
    if opts.dockerfile:
        words += ["-f", opts.dockerfile]
    if opts.target:
        words += ["-t", opts.target]
    for arg in opts.build_args:
        words += ["--build-arg", arg]
    if opts.exclude_root_files:
        words.append("--exclude-root-files")
    if opts.drop_root_rules:
        words.append("--drop-root-rules")
    if opts.no_deps:
        words.append("--no-deps")
    for pattern in opts.exclude:
        words += ["--exclude", pattern]
    if opts.output != "-":
        words += ["-o", opts.output]
    words += sorted({normalize(Path(opts.context), d) for d in opts.dirs})
    return shlex.join(words)


def dockerignore(opts: Options) -> Generated:
    """The .dockerignore for ``opts``: the DIRs, plus what the Dockerfile reads with ``-f``, plus dependencies."""
    context = Path(opts.context)
    if not context.is_dir():
        raise DockitError("context is not a directory", path=opts.context)
    wants = [Want(check(context, normalize(context, d), d, want_dir=True), "named DIR") for d in opts.dirs]
    uses: list[tuple[ContextUse, str]] = []
    if opts.dockerfile is not None:
        from dignore.infer import context_uses
        from dockit.cli import build_args, read_bytes

        values = build_args(opts.build_args)
        for use in context_uses(read_bytes(opts.dockerfile), opts.dockerfile, opts.target, values):
            where = f"{opts.dockerfile}:{use.line}: {use.keyword} {use.source}"
            uses.append((use, where))
            wants.append(Want(check(context, use.path, where, want_dir=False, glob=use.glob), where))
    elif opts.target is not None:
        raise UsageError("-t/--target needs -f/--file")
    notes = []
    if not wants:
        if opts.dockerfile is None:
            raise UsageError("give at least one DIR, or -f DOCKERFILE")
        notes.append(
            f"{opts.dockerfile} reads nothing from the build context: keeping "
            + ("nothing" if opts.exclude_root_files else "only the files at its root")
        )
    rules = Rules(PatternMatcher() if opts.drop_root_rules else read_dockerignore(context), tuple(opts.exclude))
    request = Request(context, wants, uses, not opts.exclude_root_files, rules, not opts.no_deps, command_line(opts))
    generated = build(request)
    generated.notes[:0] = notes
    return generated


@dataclass(frozen=True)
class Check:
    """The context docker sends, before (with the current root .dockerignore) and after (with ours)."""

    before: ContextSize
    after: ContextSize
    before_name: str = DOCKERIGNORE

    def report(self) -> str:
        """Lines for stderr: files and bytes before and after, what the generated file saves (or adds, warned)."""
        b, a = self.before, self.after
        files, size = b.files - a.files, b.bytes - a.bytes
        share = abs(size) / b.bytes if b.bytes else 0.0
        fewer = "fewer" if size >= 0 else "more"
        saved = f"{files} files and {share:.1%} of the bytes {fewer}"
        if files < 0 or size < 0:
            saved = f"{abs(files)} files {'fewer' if files >= 0 else 'more'} and {share:.1%} of the bytes {fewer}"
        lines = [
            f"dignore: before: {b.files} files, {b.bytes} bytes ({human(b.bytes)}), "
            f"with the current {self.before_name}",
            f"dignore: after:  {a.files} files, {a.bytes} bytes ({human(a.bytes)}), {saved}",
        ]
        if files < 0 or size < 0:
            lines.append(
                f"dignore: warning: the generated file sends more than the current {self.before_name}"
                " (it keeps paths that file leaves out)"
            )
        return "".join(line + "\n" for line in lines)


def _before_file(opts: Options) -> str:
    """The ignore file the build reads now: the output when it is a ``<Dockerfile>.dockerignore`` that exists."""
    out = Path(opts.output)
    if opts.output != "-" and out.name != DOCKERIGNORE and out.name.endswith(DOCKERIGNORE) and out.exists():
        return str(out)
    return str(Path(opts.context, DOCKERIGNORE))


def check_context(context: str, generated: PatternMatcher, before: str | None = None) -> Check:
    """Walk the context twice, as docker would with the ignore file it reads now (``before``, default the root
    .dockerignore) and with the ``generated`` one."""
    path = Path(before) if before else Path(context, DOCKERIGNORE)
    name = DOCKERIGNORE if path == Path(context, DOCKERIGNORE) else str(path)
    current = read_dockerignore(path.parent, path.name)
    return Check(ContextSize.of(walk_context(context, current)), ContextSize.of(walk_context(context, generated)), name)


def human(n: int) -> str:
    """Bytes for people: ``1.5 MiB``.

    >>> human(0), human(1536), human(3 * 1024**3)
    ('0 B', '1.5 KiB', '3.0 GiB')
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
