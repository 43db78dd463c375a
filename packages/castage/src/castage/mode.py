"""castage's modes, apart from the script writer so that ``--help`` and ``--version`` do not load the parser."""

from enum import StrEnum


class Mode(StrEnum):
    """How stages are cached: stage images (legacy) or BuildKit cache exports (buildx: registry, gha: GitHub)."""

    LEGACY = "legacy"
    BUILDX = "buildx"
    GHA = "gha"
