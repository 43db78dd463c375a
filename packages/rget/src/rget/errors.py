"""The errors rget reports as one line (``rget: message``) with an exit code."""

from __future__ import annotations


class RgetError(Exception):
    """A download that failed: the message names the URL and the HTTP status or the cause (exit 1)."""

    exit_code = 1


class UsageError(RgetError):
    """Arguments that do not fit together (exit 2)."""

    exit_code = 2


class RemoteChanged(RgetError):
    """The server ignored a range or the file changed under us: the parts fetched so far must not be mixed in."""


class ReaderGone(RgetError):
    """The reader of stdout or a FIFO went away (``rget -o - URL | head -c 10``): a quiet exit 141, as SIGPIPE."""

    exit_code = 141
