"""dignore as a library call: options in, .dockerignore text (and the --check figures) out."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dignore.generate import generate
from dignore.infer import ContextUse
from dignore.kept import Kept, check, minimal, normalize
from dockit.build_context import ContextSize, read_dockerignore, walk_context
from dockit.errors import DockitError, UsageError
from dockit.ignore import PatternMatcher


@dataclass
class Options:
    """What the command line says; ``dirs`` relative to ``context``, ``dockerfile`` relative to the cwd."""

    dirs: list[str] = field(default_factory=list)
    context: str = "."
    output: str = "-"
    dockerfile: str | None = None
    target: str | None = None
    exclude_root_files: bool = False
    check: bool = False  # print the context's figures before and after, to stderr


def execute(opts: Options) -> None:
    """What the command line does: warnings and ``--check`` figures on stderr, the .dockerignore to ``output``."""
    from dockit.cli import write_output

    result = dockerignore(opts)
    for warning in result.warnings:
        print(f"dignore: warning: {warning}", file=sys.stderr)
    if opts.check:
        sys.stderr.write(check_context(opts.context, result.matcher).report())
    # names that are not UTF-8 reach us as surrogates (os.fsdecode); write their original bytes back
    write_output(opts.output, result.text.encode("utf-8", "surrogateescape"))


def command_line(opts: Options) -> str:
    """The command that regenerates the output, for its header (DIRs normalised and sorted)."""
    words = ["dignore"]
    if opts.context != ".":
        words += ["-C", opts.context]
    if opts.dockerfile:
        words += ["-f", opts.dockerfile]
    if opts.target:
        words += ["-t", opts.target]
    if opts.exclude_root_files:
        words.append("--exclude-root-files")
    if opts.output != "-":
        words += ["-o", opts.output]
    words += sorted({normalize(Path(opts.context), d) for d in opts.dirs})
    return shlex.join(words)


@dataclass
class Generated:
    """The .dockerignore text, its patterns compiled, and warnings about paths the build needs that it leaves out."""

    text: str
    matcher: PatternMatcher
    warnings: list[str]


def dockerignore(opts: Options) -> Generated:
    """The .dockerignore for ``opts``: the DIRs, plus what the Dockerfile reads with ``-f``."""
    context = Path(opts.context)
    if not context.is_dir():
        raise DockitError("context is not a directory", path=opts.context)
    kept = [check(context, normalize(context, d), d, want_dir=True) for d in opts.dirs]
    uses: list[ContextUse] = []
    if opts.dockerfile is not None:
        from dignore.infer import context_uses
        from dockit.cli import read_bytes

        uses = context_uses(read_bytes(opts.dockerfile), opts.dockerfile, opts.target)
        for use in uses:
            kept.append(check(context, use.path, _where(opts, use), want_dir=False, glob=use.glob))
    elif opts.target is not None:
        raise UsageError("-t/--target needs -f/--dockerfile")
    if not kept:
        raise UsageError("give at least one DIR, or -f DOCKERFILE")
    kept = minimal(kept)
    text = generate(context, kept, not opts.exclude_root_files, command_line(opts))
    matcher = PatternMatcher.parse(text, "generated .dockerignore")
    return Generated(text, matcher, _unreachable(matcher, kept) + _left_out(matcher, kept, uses, opts))


def _where(opts: Options, use: ContextUse) -> str:
    return f"{opts.dockerfile}:{use.line}: {use.keyword} {use.source}"


def _unreachable(matcher: PatternMatcher, kept: list[Kept]) -> list[str]:
    """A warning for each kept path docker's walk never reaches (an escaped name in a directory above it)."""
    warnings = []
    for k in kept:
        parts = [] if k.path == "." else k.path.split("/") if k.glob else k.path.split("/")[:-1]
        for i in range(len(parts)):
            above = "/".join(parts[: i + 1])
            if matcher.matches(above) and not matcher.may_reinclude_below(above):
                warnings.append(
                    f"{k.path}: docker will not send it: it skips {above}/, which no exception spells literally"
                    " (a name with pattern characters)"
                )
                break
    return warnings


def _left_out(matcher: PatternMatcher, kept: list[Kept], uses: list[ContextUse], opts: Options) -> list[str]:
    """A warning for each path the Dockerfile reads that a carried-over .dockerignore leaves out."""
    warnings = []
    for use in uses:
        if use.glob is None and use.path != "." and matcher.matches(use.path):
            owner = next((k.path for k in kept if k.is_dir and use.path.startswith(k.path + "/")), None)
            by = f"{owner}/.dockerignore" if owner else "the generated .dockerignore"
            warnings.append(f"{_where(opts, use)}: left out by {by}; the build will not find it")
    return warnings


@dataclass(frozen=True)
class Check:
    """The context docker sends, before (with the current root .dockerignore) and after (with ours)."""

    before: ContextSize
    after: ContextSize

    def report(self) -> str:
        """Two lines for stderr: files and bytes before and after, and what the generated file saves."""
        b, a = self.before, self.after
        saved = 1 - a.bytes / b.bytes if b.bytes else 0.0
        return (
            f"dignore: before: {b.files} files, {b.bytes} bytes ({human(b.bytes)}), with the current .dockerignore\n"
            f"dignore: after:  {a.files} files, {a.bytes} bytes ({human(a.bytes)}), "
            f"{b.files - a.files} files and {saved:.1%} of the bytes fewer\n"
        )


def check_context(context: str, generated: PatternMatcher) -> Check:
    """Walk the context twice, as docker would with the current .dockerignore and with the ``generated`` one."""
    before = ContextSize.of(walk_context(context, read_dockerignore(context)))
    after = ContextSize.of(walk_context(context, generated))
    return Check(before, after)


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
