"""rget's command line, declared once (:data:`OPTIONS`): read by :func:`parse`, shown by :mod:`rget.help` (typer).

typer alone costs ~0.1 s of start-up, more than the transfer of a small file over a fast link, and rget imports
nothing of ours (no dockit), so it reads its command line itself. The grammar is click's: ``-oVALUE``,
``-o VALUE``, ``--output=VALUE``, ``--output VALUE``, bundled short flags (``-qf``), ``--`` ends the options,
the last of a repeated option wins (``-H`` collects), a value may start with ``-`` (``-o -``) unless it is one of
the options (``-o --force``: the value was forgotten). Every mistake is a
:class:`CommandLineError` (a usage error: exit 2) in click's words.

>>> a = parse(["-qP8", "https://h/x", "-o", "-", "-H", "A: b", "-H", "C: d"])
>>> a.url_arg, a.connections, a.quiet, a.output, a.header
('https://h/x', 8, True, '-', ['A: b', 'C: d'])
>>> parse(["-P", "0"])
Traceback (most recent call last):
rget.args.CommandLineError: Invalid value for '-P' / '--connections': 0 is not in the range 1<=x<=64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

from rget.errors import UsageError

HELP_NAMES = ("-h", "--help")
VERSION_NAMES = ("-V", "--version")
SUMMARY = "Download one file over many HTTP Range connections: resumable, verified, never a corrupt file."


class CommandLineError(UsageError):
    """A command line that does not parse (its message gets click's "see --help" hint)."""


Kind = Literal["flag", "str", "int", "float", "many"]


class Opt(NamedTuple):
    """One option (or, with no names, the positional URL) as the parser and the help both see it.

    A NamedTuple, not a dataclass: dataclasses imports inspect, ~10 ms that a download need not pay.
    """

    dest: str
    names: tuple[str, ...]
    kind: Kind
    help: str
    metavar: str = ""
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    show_default: bool = True

    @property
    def label(self) -> str:
        """How click names the option in an error: ``'-P' / '--connections'``."""
        return " / ".join(f"'{n}'" for n in self.names)

    @property
    def bounds(self) -> str:
        """Click's range notation: ``1<=x<=64``, ``x>=0``."""
        if self.minimum is None and self.maximum is None:
            return ""
        low = f"{self.minimum:g}<=" if self.minimum is not None else ""
        high = f"<={self.maximum:g}" if self.maximum is not None else ""
        return f"x>={self.minimum:g}" if not high else f"{low}x{high}"


OPTIONS: tuple[Opt, ...] = (
    Opt("url_arg", (), "str", "URL to download (or -u)", "[URL]"),
    Opt("url", ("-u", "--url"), "str", "URL to download", "URL"),
    Opt(
        "output",
        ("-o", "--output"),
        "str",
        "output file; - for stdout (a pipe or FIFO is streamed in order); DIR/ to save into DIR"
        " [default: the server's file name, here]",
        "PATH",
    ),
    Opt(
        "extract_dir",
        ("-X", "--extract"),
        "str",
        "unpack tar, tar.gz/bz2/xz/zst (while downloading) or zip into DIR, safely; nothing lands in DIR unless"
        " complete and verified",
        "DIR",
    ),
    Opt("strip_components", ("--strip-components",), "int", "with -X: drop N leading path parts", "N", 0, 0),
    Opt(
        "input_file",
        ("-i", "--input-file"),
        "str",
        "many downloads: one 'URL [PATH [SHA256]]' per line (- for stdin); -P is the total budget",
        "FILE",
    ),
    Opt("per_file", ("--per-file",), "int", "with -i: connections per file", "N", 4, 1),
    Opt(
        "checksums",
        ("--checksums",),
        "str",
        "verify each download against the SHA256SUMS-style line naming its file",
        "URL|FILE",
    ),
    Opt("force", ("-f", "--force"), "flag", "replace an existing file when rget chose the name (no -o, DIR/)"),
    Opt("connections", ("-P", "--connections"), "int", "connections", "N", 4, 1, 64),
    Opt(
        "block_mib",
        ("-b", "--block-size"),
        "float",
        "block size in MiB [default: size / connections]",
        "MIB",
        None,
        0.0625,
    ),
    Opt("executable", ("-x", "--executable"), "flag", "make the output executable"),
    Opt("sha256", ("--sha256",), "str", "verify; on mismatch exit 1, no output file", "HEX"),
    Opt("header", ("-H", "--header"), "many", "extra header, repeatable; never sent to another host", "'K: V'"),
    Opt("retries", ("--retries",), "int", "retries per range (exponential backoff)", "N", 5, 0),
    Opt("timeout", ("--timeout",), "float", "seconds without data per connection", "SECONDS", 30.0, 0.01),
    Opt("resume", ("-c", "--continue"), "flag", "resume an interrupted download"),
    Opt("verbose", ("-v", "--verbose"), "flag", "say what happens"),
    Opt("quiet", ("-q", "--quiet"), "flag", "no progress bar"),
    Opt("print_sh", ("--print-sh",), "flag", "write rget.sh (the busybox-only twin) to stdout, or to -o"),
    Opt("version", VERSION_NAMES, "flag", "print the version"),
    Opt("help", HELP_NAMES, "flag", "show this message"),
)
_BY_NAME = {name: opt for opt in OPTIONS for name in opt.names}


class Args:
    """The parsed command line: one attribute per :data:`OPTIONS` entry (its default when not given)."""

    url_arg: str | None
    url: str | None
    output: str | None
    extract_dir: str | None
    strip_components: int
    input_file: str | None
    per_file: int
    checksums: str | None
    force: bool
    connections: int
    block_mib: float | None
    executable: bool
    sha256: str | None
    header: list[str]
    retries: int
    timeout: float
    resume: bool
    verbose: bool
    quiet: bool
    print_sh: bool
    version: bool
    help: bool

    def __init__(self, values: dict[str, object]) -> None:
        for opt in OPTIONS:
            default = [] if opt.kind == "many" else (False if opt.kind == "flag" else opt.default)
            setattr(self, opt.dest, values.get(opt.dest, default))


def wants(argv: Sequence[str], names: tuple[str, ...]) -> bool:
    """True when one of ``names`` is among the option words (before ``--``): help and version win over the rest,
    as click's eager options do, even on a command line that would not parse."""
    words = list(argv)
    words = words[: words.index("--")] if "--" in words else words
    return any(w in names or (w.startswith("--") and w.partition("=")[0] in names) or _bundles(w, names) for w in words)


def _bundles(word: str, names: tuple[str, ...]) -> bool:
    """True when ``word`` bundles short flags one of which is in ``names`` (``-qh``, ``-vV``), as click expands
    them; a short option that takes a value ends the bundle (``-Ph`` is -P with the value h)."""
    if word.startswith("--") or not word.startswith("-"):
        return False
    for letter in word[1:]:
        if f"-{letter}" in names:
            return True
        opt = _BY_NAME.get(f"-{letter}")
        if opt is None or opt.kind != "flag":
            return False
    return False


def parse(argv: Sequence[str]) -> Args:
    """The command line as :class:`Args`; a mistake raises :class:`UsageError`."""
    values: dict[str, object] = {}
    free: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            free.extend(args[i:])
            break
        if arg == "-" or not arg.startswith("-"):
            free.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, rest = arg.partition("=")
            attached: str | None = rest if eq else None
        else:
            name, attached = arg[:2], (arg[2:] or None)
        opt = _BY_NAME.get(name)
        if opt is None:
            raise _unknown(name)
        if opt.kind == "flag":
            if attached is not None and name.startswith("--"):
                raise CommandLineError(f"Option '{name}' does not take a value.")
            values[opt.dest] = True
            if attached is not None:  # bundled short flags: -qf, -qP8
                args.insert(i, "-" + attached)
            continue
        if attached is None:
            if i == len(args) or _is_option(args[i]):
                raise CommandLineError(f"Option '{name}' requires an argument.")
            attached = args[i]
            i += 1
        value = _convert(opt, attached)
        if opt.kind == "many":
            values.setdefault(opt.dest, [])
            values[opt.dest].append(value)  # type: ignore[attr-defined]
        else:
            values[opt.dest] = value
    if free:
        values["url_arg"] = free.pop(0)
    if free:
        extra = "s" if len(free) > 1 else ""
        raise CommandLineError(f"Got unexpected extra argument{extra} ({' '.join(free)})")
    return Args(values)


def _is_option(word: str) -> bool:
    return (word.partition("=")[0] if word.startswith("--") else word[:2]) in _BY_NAME


def _convert(opt: Opt, text: str) -> object:
    if opt.kind in ("str", "many"):
        return text
    number: float
    try:
        number = int(text) if opt.kind == "int" else float(text)
    except ValueError:
        what = "integer" if opt.kind == "int" else "float"
        raise CommandLineError(f"Invalid value for {opt.label}: {text!r} is not a valid {what}.") from None
    if not math.isfinite(number):  # nan passes every range check; nan and inf break socket timeouts and sizes
        raise CommandLineError(f"Invalid value for {opt.label}: {text!r} is not a finite number.")
    if (opt.minimum is not None and number < opt.minimum) or (opt.maximum is not None and number > opt.maximum):
        raise CommandLineError(f"Invalid value for {opt.label}: {number} is not in the range {opt.bounds}.")
    return number


def _unknown(name: str) -> CommandLineError:
    import difflib

    near = difflib.get_close_matches(name, [n for n in _BY_NAME if n.startswith("--")], n=1)
    return CommandLineError(f"No such option: {name}" + (f" Did you mean {near[0]}?" if near else ""))
