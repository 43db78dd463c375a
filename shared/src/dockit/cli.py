"""CLI plumbing shared by the tools: '-' for stdin/stdout, atomic output files, errors as exit codes.

Every tool's console script is ``dockit.cli.run(app, "tool")``: a :class:`~dockit.errors.DockitError` becomes one
line on stderr and exit 1 (exit 2 for :class:`~dockit.errors.UsageError`), never a traceback unless ``--debug`` is
on the command line or ``DOCKIT_DEBUG=1`` is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from dockit.errors import DockitError, UsageError

if TYPE_CHECKING:
    import typer

STDIO = "-"


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a whole input file, or stdin for ``-``; a missing or unreadable file is a DockitError."""
    if str(path) == STDIO:
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise DockitError("is a directory", path=str(path)) from None
    except FileNotFoundError:
        raise DockitError("no such file", path=str(path)) from None
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=str(path)) from None


def write_output(path: str | os.PathLike[str], data: str | bytes, executable: bool = False) -> None:
    """Write ``data`` to stdout for ``-``, else atomically: a temp file beside ``path``, renamed on success.

    An existing file keeps its permission bits; a new one gets the umask's (with execute bits for an
    ``executable`` one, such as a script); nothing is left behind when writing fails.
    """
    import tempfile  # ~10 ms: only tools that write a file pay for it

    raw = data.encode() if isinstance(data, str) else data
    if str(path) == STDIO:
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = (0o777 if executable else 0o666) & ~umask
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=str(path)) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as e:
        raise DockitError(f"cannot write: {e.strerror or e}", path=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise DockitError(f"cannot write: {e.strerror or e}", path=str(path)) from None
        raise


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


def version_callback(tool: str, version: str) -> Callable[[bool], None]:
    """A typer ``--version`` option callback that prints ``tool version`` and exits 0."""

    def show(value: bool) -> None:
        if value:
            import typer

            print(f"{tool} {version}")
            raise typer.Exit()

    return show


def fail(tool: str, message: object, code: int = 1) -> NoReturn:
    """Print ``tool: message`` on stderr and exit with ``code``."""
    print(f"{tool}: {message}", file=sys.stderr)
    raise SystemExit(code)


@contextmanager
def conventions(tool: str, debug: bool = False) -> Iterator[None]:
    """The error conventions every entry point shares: DockitError -> one line and exit 1 (UsageError: 2),
    Ctrl-C -> exit 130, a closed stdout (``tool | head``) -> exit 0; ``debug`` keeps the traceback."""
    try:
        yield
    except KeyboardInterrupt:
        fail(tool, "interrupted", 130)
    except BrokenPipeError:
        # The reader went away: not an error of ours; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    except DockitError as e:
        if debug:
            raise
        fail(tool, e, 2 if isinstance(e, UsageError) else 1)


def run(app: typer.Typer, tool: str, argv: list[str] | None = None) -> NoReturn:
    """Run a typer app as a console script with the shared error conventions."""
    import typer
    from typer._click.exceptions import ClickException
    from typer._click.exceptions import UsageError as ClickUsageError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("DOCKIT_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"]
    with conventions(tool, debug):
        try:
            result = app(args=args, prog_name=tool, standalone_mode=False)
        except typer.Exit as e:
            raise SystemExit(e.exit_code) from None
        except ClickUsageError as e:
            hint = f" (see '{tool} --help')" if e.ctx is not None else ""
            fail(tool, f"{e.format_message()}{hint}", 2)
        except typer.Abort:
            fail(tool, "interrupted", 130)
        except ClickException as e:
            fail(tool, e.format_message(), e.exit_code)
    if result == 130:  # typer turns Ctrl-C into a returned 130 when not in standalone mode
        fail(tool, "interrupted", 130)
    raise SystemExit(result if isinstance(result, int) else 0)
