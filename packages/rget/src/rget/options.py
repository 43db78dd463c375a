"""How to download: the CLI flags, in bytes and seconds (shared by the library API and the CLI)."""

from __future__ import annotations

from typing import Any


class Options:
    """How to download one file (a plain class: a dataclass would import inspect, ~15 ms of every start-up).

    >>> Options(connections=8).replace(sha256="ab") == Options(connections=8, sha256="ab")
    True
    """

    __slots__ = (
        "block_size",
        "connections",
        "executable",
        "force",
        "headers",
        "resume",
        "retries",
        "sha256",
        "timeout",
    )

    def __init__(
        self,
        *,
        connections: int = 4,
        block_size: int | None = None,
        retries: int = 5,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        sha256: str | None = None,
        executable: bool = False,
        resume: bool = False,
        force: bool = False,
    ) -> None:
        self.connections = connections
        self.block_size = block_size
        self.retries = retries
        self.timeout = timeout
        self.headers: dict[str, str] = {} if headers is None else headers
        self.sha256 = sha256
        self.executable = executable
        self.resume = resume
        self.force = force
        """Replace an existing file whose name rget chose (no ``-o``, or ``-o DIR/``)."""

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes``."""
        return Options(**{**self._values(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable: compared by value, never hashed

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={v!r}" for k, v in self._values().items()) + ")"
