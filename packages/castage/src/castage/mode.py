"""castage's modes, one :class:`ModeSpec` each: to add a mode, add a member to :class:`Mode` and a row to ``SPECS``.

Kept apart from the writers (and free of the parser) so that ``--help`` and ``--version`` stay cheap.

>>> SPECS[Mode.GHA].cache, SPECS[Mode.GHA].output
(<Cache.GHA: 'gha'>, <Output.SCRIPT: 'script'>)
"""

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """The ``--mode`` values."""

    LEGACY = "legacy"
    BUILDX = "buildx"
    GHA = "gha"
    BAKE = "bake"
    BAKE_GHA = "bake-gha"


class Cache(StrEnum):
    """Where the cache of a stage lives for the next runner.

    ``inline``: in the stage image itself (``BUILDKIT_INLINE_CACHE``), so only a pushed image carries it;
    ``registry``: a cache manifest ``IMAGE:cache-STAGE`` exported with ``mode=max``; ``gha``: GitHub's cache service.
    """

    INLINE = "inline"
    REGISTRY = "registry"
    GHA = "gha"


class Output(StrEnum):
    """What castage prints: a bash script, or a ``docker-bake.hcl`` file."""

    SCRIPT = "script"
    BAKE = "bake"


@dataclass(frozen=True)
class ModeSpec:
    """Everything that makes a mode: its cache, its output, and the lines that tell the reader what it needs."""

    mode: Mode
    cache: Cache
    output: Output
    summary: str  # for --help
    needs: tuple[str, ...] = ()  # comment lines at the top of the output

    @property
    def exports_cache(self) -> bool:
        """Whether the cache reaches the next runner without ``--push`` (only inline cache needs the push)."""
        return self.cache is not Cache.INLINE


_BUILDX_NEEDS = "Needs a buildx builder that can export cache (docker-container driver: docker/setup-buildx-action)."
_GHA_NEEDS = "Needs ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN (crazy-max/ghaction-github-runtime)."

SPECS = {
    spec.mode: spec
    for spec in (
        ModeSpec(Mode.LEGACY, Cache.INLINE, Output.SCRIPT, "docker build, stage images carry an inline cache"),
        ModeSpec(
            Mode.BUILDX,
            Cache.REGISTRY,
            Output.SCRIPT,
            "docker buildx build, a registry cache per stage",
            (_BUILDX_NEEDS,),
        ),
        ModeSpec(
            Mode.GHA,
            Cache.GHA,
            Output.SCRIPT,
            "docker buildx build, a GitHub Actions cache scope per stage",
            (_BUILDX_NEEDS, _GHA_NEEDS),
        ),
        ModeSpec(
            Mode.BAKE, Cache.REGISTRY, Output.BAKE, "a docker-bake.hcl, a registry cache per stage", (_BUILDX_NEEDS,)
        ),
        ModeSpec(
            Mode.BAKE_GHA,
            Cache.GHA,
            Output.BAKE,
            "a docker-bake.hcl, a GitHub Actions cache scope per stage",
            (_BUILDX_NEEDS, _GHA_NEEDS),
        ),
    )
}
MODES_HELP = "; ".join(f"{s.mode.value}: {s.summary}" for s in SPECS.values())
