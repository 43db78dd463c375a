"""The one error type every dockit reader raises: it names the file and, where there is one, the line."""

from __future__ import annotations

# C0 and C1 controls, DEL, line/paragraph separators and the bidi controls: each could clear the terminal, move the
# cursor, split the one-line message or reorder what the user reads. Tab is harmless and stays.
_UNSAFE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    if c != 0x09
}


MAX_MESSAGE = 500


def printable(text: str) -> str:
    r"""``text`` with every character that could act on a terminal shown as an escape.

    >>> print(printable("unknown instruction: \x1b[2J\x1b[31mEVIL\nnext"))
    unknown instruction: \x1b[2J\x1b[31mEVIL\x0anext
    """
    return text.translate(_UNSAFE)


class DockitError(Exception):
    """A problem with the user's input, reported as one line: ``path:line: message``.

    >>> str(DockitError("bad flag", path="Dockerfile", line=3))
    'Dockerfile:3: bad flag'
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        message = printable(self.message)
        if len(message) > MAX_MESSAGE:  # a message quoting a 60 KiB line is still one line, but not one to read
            message = f"{message[:MAX_MESSAGE]}... ({len(message) - MAX_MESSAGE:,} more characters)"
        return f"{printable(where)}: {message}" if where else message


class DockerfileError(DockitError):
    """A Dockerfile that does not parse or whose stages cannot be resolved."""


class ArchiveError(DockitError):
    """An image archive that cannot be read."""


class UsageError(DockitError):
    """Arguments that do not fit together (exit code 2)."""
