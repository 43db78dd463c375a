"""What the user sees while downloading: a rich bar on a terminal, log lines with -v, nothing otherwise."""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Reporter:
    """Progress and verbose messages on stderr; errors are not ours (the CLI prints them)."""

    def __init__(self, *, verbose: bool = False, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbose and not quiet
        self.bar = not quiet and self.stream.isatty()
        self._progress: Any = None
        self._task: Any = None

    def log(self, message: str) -> None:
        """A verbose line (``-v``), printed above the bar if there is one."""
        if not self.verbose:
            return
        from rget.redact import redact_text

        message = redact_text(message)
        if self._progress is not None:
            self._progress.console.print(f"rget: {message}", markup=False, highlight=False)
        else:
            print(f"rget: {message}", file=self.stream, flush=True)

    def start(self, total: int | None, name: str) -> None:
        """Begin a transfer of ``total`` bytes (None when the server did not say)."""
        if not self.bar:
            return
        # Imported only on a terminal: rich costs start-up time that pipes and build logs never need.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(name, total=total)

    def update(self, done: int) -> None:
        """Bytes written so far."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done)

    def restart(self, total: int | None) -> None:
        """The transfer starts over (single stream after a server ignored ranges)."""
        if self._progress is not None:
            self._progress.reset(self._task, total=total)

    def stop(self) -> None:
        """Close the bar (leaves the last state on screen)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
