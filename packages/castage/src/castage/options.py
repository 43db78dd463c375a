"""What the output passes to docker besides the stages: one value for every writer (script or bake file)."""

from __future__ import annotations

from dataclasses import dataclass

from castage.mode import SPECS, Mode, ModeSpec
from castage.refs import Names


@dataclass(frozen=True)
class Options:
    """``names`` gives every tag and cache ref. ``dockerfile`` is the ``-f`` value to pass on (None: docker's
    default, ``CONTEXT/Dockerfile``); ``dockerfile_text`` a Dockerfile the output carries inside itself: one read
    from stdin, or the copy of ``renamed_from`` (whose bytes are ``renamed_source_bytes``) with its unnamed stages
    named. ``build_args`` are ``K=V`` (or bare ``K``: docker takes the value from the environment at build time) in
    the order given.
    """

    spec: ModeSpec
    names: Names
    context: str = "."
    dockerfile: str | None = None
    dockerfile_text: str | None = None
    renamed_from: str | None = None
    renamed_source_bytes: bytes = b""
    build_args: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    push: bool = False

    @classmethod
    def for_image(cls, repository: str, mode: Mode = Mode.LEGACY, **kwargs: object) -> Options:
        """Options for ``repository`` (a name without a domain) in ``mode``, the rest as given: for examples."""
        spec = SPECS[mode]
        return cls(spec, Names(repository, repository, spec.cache), **kwargs)  # type: ignore[arg-type]
