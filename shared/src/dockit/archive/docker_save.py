"""``docker save`` archives (``manifest.json``): the legacy layout (``<id>/layer.tar``, buildah's top-level
``<diffid>.tar`` with symlinks to it) and Docker 25+'s (an OCI layout plus ``manifest.json``, layers as
``blobs/sha256/<diffid>``)."""

from __future__ import annotations

from typing import Any

from dockit.archive.candidate import Candidate, platform_of
from dockit.archive.documents import expect, load, strings
from dockit.archive.model import ImageRef
from dockit.archive.store import Store
from dockit.errors import ArchiveError


def candidates(store: Store) -> list[Candidate]:
    """The images ``manifest.json`` lists, each joined to its config."""
    manifest = load(store.doc("manifest.json"), "manifest.json", store.label)
    if not isinstance(manifest, list) or not manifest:
        raise ArchiveError("manifest.json lists no image", path=store.label)
    fmt = "docker-archive (Docker 25+ OCI)" if "index.json" in store.docs else "docker-archive"
    found = []
    for item in manifest:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise ArchiveError("manifest.json: an item without Config", path=store.label)
        config_name: str = item["Config"]
        config: Any = load(store.doc(config_name), f"image config {config_name}", store.label)
        expect(config, dict, f"image config {config_name}", store.label, "the document")
        layers = strings(item, "Layers", "manifest.json", store.label)
        names = [store.resolve(x) for x in layers]
        for name, given in zip(names, layers, strict=True):
            if not store.has_blob(name):
                raise ArchiveError(f"layer {given} is missing from the archive", path=store.label)
        digests = [_digest_from_name(n) for n in names]
        config_digest = _digest_from_name(store.resolve(config_name)) or config_name
        tags = tuple(strings(item, "RepoTags", "manifest.json", store.label))
        ref = ImageRef(tags, platform_of(config, None, store.label), config_digest)
        found.append(Candidate(ref, config, names, digests, fmt, [store.normalize(x) for x in layers]))
    return found


def _digest_from_name(name: str) -> str:
    """``blobs/sha256/<hex>`` or ``<hex>.tar`` / ``<hex>.json`` -> ``sha256:<hex>``; else empty."""
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "blobs":
        return f"{parts[1]}:{parts[2]}"
    stem = parts[-1].removesuffix(".tar").removesuffix(".json")
    if len(parts) == 1 and len(stem) == 64:
        return f"sha256:{stem}"
    return ""
