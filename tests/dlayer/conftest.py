"""dlayer's archives: the same image in every layout (see tests/dlayer/archives.py), cached once per machine."""

from tests.dlayer.archives import archives

__all__ = ["archives"]
