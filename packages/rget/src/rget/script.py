"""rget.sh, the busybox-only twin shipped inside the package (``rget --print-sh``) so a build image can COPY it."""

from __future__ import annotations

from importlib.resources import files


def script_text() -> str:
    """The text of rget.sh."""
    return (files("rget") / "rget.sh").read_text()
