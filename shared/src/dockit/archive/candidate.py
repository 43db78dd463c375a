"""What a format reader finds in an archive's metadata: the images it holds, before any layer is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockit.archive.documents import descriptor_platform
from dockit.archive.model import ImageRef, Platform
from dockit.errors import ArchiveError


@dataclass(slots=True)
class Candidate:
    """One image of an archive: config, and the store names of its layer blobs in order."""

    ref: ImageRef
    config: dict[str, Any]
    layer_names: list[str]
    layer_digests: list[str]
    format: str
    layer_sources: list[str]


def platform_of(config: dict[str, Any], descriptor: dict[str, Any] | None = None, label: str = "") -> Platform:
    """The platform a descriptor declares, else the one the config says."""
    p = descriptor_platform(descriptor or {}, "index entry", label)
    return Platform(
        os=str(p.get("os") or config.get("os") or ""),
        architecture=str(p.get("architecture") or config.get("architecture") or ""),
        variant=str(p.get("variant") or config.get("variant") or ""),
    )


def blob_name(digest: str, label: str) -> str:
    """``sha256:abc`` -> ``blobs/sha256/abc`` (refusing digests that are not ``alg:hex``)."""
    alg, sep, hexpart = digest.partition(":")
    if not sep or not alg.isalnum() or not hexpart.isalnum():
        raise ArchiveError(f"bad digest {digest!r}", path=label)
    return f"blobs/{alg}/{hexpart}"
