"""The one error type every dockit reader raises: it names the file and, where there is one, the line."""

from __future__ import annotations


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
        return f"{where}: {self.message}" if where else self.message


class DockerfileError(DockitError):
    """A Dockerfile that does not parse or whose stages cannot be resolved."""


class ArchiveError(DockitError):
    """An image archive that cannot be read."""


class UsageError(DockitError):
    """Arguments that do not fit together (exit code 2)."""
