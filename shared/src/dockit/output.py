"""Writing a tool's output: ``-`` is stdout; a file is never half-written and a path is never replaced by accident.

The rule (:func:`write_output`): a regular file, or a path that does not exist yet, is written atomically (a temp
file beside it, renamed over it, its permission bits kept); a symlink is followed and its *target* replaced that way,
so the link stays a link; a FIFO, character or block device or socket is opened and written directly (replacing
``/dev/stdout`` or a FIFO with a regular file would lose the output and break the machine); a directory is a usage
error. :func:`compare_output` is the black-style ``--check``/``--diff`` of a tool that generates a file.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from dockit.errors import DockitError, UsageError

STDIO = "-"


def write_output(path: str | os.PathLike[str], data: str | bytes, executable: bool = False) -> None:
    """Write ``data`` to ``path`` by the rule above (stdout for ``-``); DockitError when it cannot be written.

    A replaced file keeps its permission bits; a new one gets the umask's, with execute bits for an ``executable``
    one (a script)."""
    raw = data.encode() if isinstance(data, str) else data
    if str(path) == STDIO:
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    target = os.path.realpath(path)  # a symlink's target is what gets replaced; the link itself stays
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise DockitError(f"cannot write: {e.strerror or e}", path=str(path)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError("is a directory; give a file name", path=str(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(str(path), target, st, raw)
    else:
        _replace(str(path), Path(target), st, raw, executable)


def _write_through(shown: str, target: str, st: os.stat_result, raw: bytes) -> None:
    """Write into a FIFO, device or socket as it is: there is nothing to replace atomically."""
    try:
        if stat.S_ISSOCK(st.st_mode):
            import socket

            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(target)
                sock.sendall(raw)
            return
        fd = os.open(target, os.O_WRONLY)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
    except OSError as e:
        raise DockitError(f"cannot write: {e.strerror or e}", path=shown) from None


def _replace(shown: str, target: Path, st: os.stat_result | None, raw: bytes, executable: bool) -> None:
    import tempfile  # ~10 ms: only runs that write a file pay for it

    if st is not None:
        mode = st.st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = (0o777 if executable else 0o666) & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise DockitError(f"cannot write: {e.strerror or e}", path=shown) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise DockitError(f"cannot write: {e.strerror or e}", path=shown) from None
        raise


def unified_diff(before: str, after: str, name: str) -> str:
    """A unified diff from ``a/NAME`` to ``b/NAME`` (empty when nothing changes).

    >>> print(unified_diff("a\\nb\\n", "a\\nc\\n", "Dockerfile"), end="")
    --- a/Dockerfile
    +++ b/Dockerfile
    @@ -1,2 +1,2 @@
     a
    -b
    +c
    """
    import difflib

    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def comparing(path: str, check: bool, diff: bool) -> bool:
    """Whether ``--check`` or ``--diff`` was asked for; checked before any work: they need an output file."""
    if (check or diff) and path == STDIO:
        raise UsageError("--check and --diff compare with the output file: give -o PATH")
    return check or diff


def compare_output(tool: str, path: str, data: str | bytes, *, check: bool, diff: bool) -> int:
    """``--check`` and ``--diff`` for a tool that generates ``path``: nothing is written. ``--diff`` prints how the
    file would change on stdout; ``--check`` says on stderr that it would, and makes the exit code 1 (0 when the file
    already holds ``data``). A missing file would change; one that cannot be read is a usage error (exit 2)."""
    comparing(path, check, diff)
    raw = data.encode() if isinstance(data, str) else data
    try:
        current: bytes | None = Path(path).read_bytes()
    except FileNotFoundError:
        current = None
    except IsADirectoryError:
        raise UsageError("is a directory; give a file name", path=path) from None
    except OSError as e:
        raise UsageError(f"cannot read: {e.strerror or e}", path=path) from None
    if current == raw:
        return 0
    if diff:
        old = "" if current is None else current.decode("utf-8", "surrogateescape")
        sys.stdout.write(unified_diff(old, raw.decode("utf-8", "surrogateescape"), path))
        sys.stdout.flush()
    if check:
        print(f"{tool}: {path}: would {'be created' if current is None else 'change'}", file=sys.stderr)
        return 1
    return 0
