"""minid's merge engine: which instructions of a stage can be one without changing what the build does.

:func:`minify` rewrites a Dockerfile and says what it merged and, for every pair of consecutive layer-making
instructions it left apart, why (:class:`Refusal`). The rules live in :mod:`dockit.merge.rules`, the shell analysis
in :mod:`dockit.merge.shell`, the pragmas in :mod:`dockit.merge.pragmas`. minid is the command line over it; dlayer
asks it whether the instructions that added and deleted a file would have been merged.
"""

from dockit.merge.engine import (
    LAYER_KEYWORDS,
    MERGEABLE,
    METADATA,
    Merge,
    Refusal,
    Result,
    StageStats,
    minify,
    minify_dockerfile,
)
from dockit.merge.shells import shell_info

__all__ = ["LAYER_KEYWORDS", "MERGEABLE", "METADATA", "Merge", "Refusal", "Result", "StageStats", "minify"]
__all__ += ["minify_dockerfile", "shell_info"]
