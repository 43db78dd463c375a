"""The console-script side every tool shares: '-' for stdin/stdout, errors as exit codes, and :func:`main`.

A tool's ``main()`` is one call, ``dockit.cli.main(tool, version, Options, execute, HELP)``: the command line is read
against the options ``Options`` declares (:mod:`dockit.options`, :mod:`dockit.argv`, no typer), ``-V/--version``
prints the version, ``-h/--help`` and shell completion go to the typer command derived from the same declaration
(:mod:`dockit.typer_command`). A :class:`~dockit.errors.DockitError` becomes one line on stderr and exit 1 (2 for a
:class:`~dockit.errors.UsageError`), never a traceback unless ``--debug`` is on the command line or
``DOCKIT_DEBUG=1`` is set; a closed stdout (``tool | head -1``) ends the run quietly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import NoReturn, TypeVar

from dockit.errors import DockitError, UsageError, printable
from dockit.limits import MAX_DOCKERFILE_BYTES, size
from dockit.output import STDIO, write_output

__all__ = ["STDIO", "build_args", "conventions", "fail", "main", "read_bytes", "write_output"]

T = TypeVar("T")
_TYPER_WORDS = ("-h", "--help", "--install-completion", "--show-completion")


def read_bytes(path: str | os.PathLike[str], limit: int | None = MAX_DOCKERFILE_BYTES) -> bytes:
    """Read a whole input file, or stdin for ``-``; a missing or unreadable file is a DockitError.

    At most ``limit`` bytes (default: the Dockerfile limit, what every tool reads this way): a longer input
    (``/dev/zero``, ``yes |``) is a DockitError as soon as its ``limit + 1``-th byte arrives, not once it filled the
    memory. ``None``: no limit.
    """

    name = "<stdin>" if str(path) == STDIO else str(path)
    want = -1 if limit is None else limit + 1
    try:
        if str(path) == STDIO:
            data = sys.stdin.buffer.read(want)
        else:
            with open(path, "rb") as f:
                data = f.read(want)
    except IsADirectoryError:
        raise DockitError("is a directory", path=name) from None
    except FileNotFoundError:
        raise DockitError("no such file", path=name) from None
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=name) from None
    if limit is not None and len(data) > limit:
        raise DockitError(f"larger than {size(limit)} (the limit)", path=name)
    return data


def build_args(values: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``--build-arg`` values as ``docker build`` takes them: ``NAME=VALUE``, or a bare ``NAME`` whose value comes
    from the environment (skipped when unset). A name that is empty or holds blanks is a UsageError.

    >>> build_args(["GO_VERSION=1.23", "HOME", "UNSET_HERE"], {"HOME": "/root"})
    {'GO_VERSION': '1.23', 'HOME': '/root'}
    """
    env = os.environ if environ is None else environ
    out = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not name or any(c.isspace() for c in name):
            raise UsageError(f"--build-arg {item!r}: expected NAME=VALUE or NAME")
        if eq:
            out[name] = value
        elif name in env:
            out[name] = env[name]
    return out


def fail(tool: str, message: object, code: int = 1) -> NoReturn:
    """Print ``tool: message`` on stderr and exit with ``code``."""
    print(f"{tool}: {printable(str(message))}", file=sys.stderr)
    raise SystemExit(code)


@contextmanager
def conventions(tool: str, debug: bool = False, failure: int = 1) -> Iterator[None]:
    """The error conventions every entry point shares: DockitError -> one line and exit ``failure`` (UsageError:
    2), Ctrl-C -> exit 130, a closed stdout (``tool | head``) -> exit 0, silently; ``debug`` keeps the traceback.

    Output still buffered is flushed inside, so that a reader who went away is noticed here and not at exit.
    """
    try:
        yield
        sys.stdout.flush()
    except KeyboardInterrupt:
        fail(tool, "interrupted", 130)
    except BrokenPipeError:
        # The reader went away: not an error of ours; keep Python from complaining when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    except DockitError as e:
        if debug:
            raise
        fail(tool, e, 2 if isinstance(e, UsageError) else failure)


def main(
    tool: str,
    version: str,
    options: type[T],
    execute: Callable[[T], int | None],
    help: str,
    argv: Sequence[str] | None = None,
    *,
    hard_exit: bool = False,
) -> NoReturn:
    """A tool's console script: ``execute(options parsed from argv)``, its result the exit code.

    ``hard_exit`` ends the process without tearing down its objects one by one (dlayer: ~100k of them for a big
    image, 7% of a run); output is flushed first and nothing else needs finalizing.
    """
    from dockit.argv import VERSION_NAMES, option_words, parse

    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("DOCKIT_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"]
    words = option_words(args)
    for_typer = next((w for w in words if w in _TYPER_WORDS), None)
    code: int | None = 0
    opts: T | None = None
    with conventions(tool, debug):
        if for_typer is not None or f"_{tool.upper()}_COMPLETE" in os.environ:
            _typer_main(tool, help, options, [for_typer] if for_typer else [])
        elif any(w in VERSION_NAMES for w in words):
            print(f"{tool} {version}")
        else:
            opts = parse(args, options, tool)
    if opts is not None:
        # with --check, 1 says "would change": an input that cannot be read or parsed is 2, as in black
        with conventions(tool, debug, failure=2 if getattr(opts, "check", False) else 1):
            code = execute(opts)
    if hard_exit:
        for stream in (sys.stdout, sys.stderr):
            with suppress(BrokenPipeError, ValueError):
                stream.flush()
        os._exit(code or 0)
    raise SystemExit(code or 0)


def _typer_main(tool: str, help: str, options: type, args: list[str]) -> NoReturn:
    """Help and shell completion: what click does well. Only the one word that asks for it reaches click, so
    nothing else on the command line can make it fail; a closed pipe ends the process by SIGPIPE, silently."""
    import gc
    import signal

    # the process ends once the help is printed: collecting cycles among typer's and rich's fresh objects
    # (thousands of them, none garbage) would be a twentieth of its time for nothing
    gc.disable()
    from dockit.typer_command import build_command

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app = build_command(tool, help, options)
    app(args=args, prog_name=tool)
    raise SystemExit(0)


def run_action(tool: str, action: Callable[[], int | None]) -> NoReturn:
    """Run ``action`` with the shared conventions, its result the exit code (for a word dispatched before the
    options are read, such as ``minid build``)."""
    with conventions(tool):
        code = action()
    raise SystemExit(code or 0)
