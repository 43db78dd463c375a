"""How to download: the CLI flags, in bytes and seconds (shared by the library API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Options:
    """How to download one file."""

    connections: int = 4
    block_size: int | None = None
    retries: int = 5
    timeout: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None
    executable: bool = False
    resume: bool = False
    force: bool = False
    """Replace an existing file whose name rget chose (no ``-o``, or ``-o DIR/``)."""
