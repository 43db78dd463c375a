"""OCI image layouts (``index.json`` + ``blobs/``), as a tar (buildah/skopeo ``oci-archive``, umoci's ``./``
members) or a directory (skopeo ``oci:``); nested indexes (multi-platform) are followed."""

from __future__ import annotations

from typing import Any

from dockit.archive.candidate import Candidate, blob_name, platform_of
from dockit.archive.documents import expect, field, load
from dockit.archive.model import ImageRef
from dockit.archive.store import Store
from dockit.errors import ArchiveError

_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
REF_NAME = "org.opencontainers.image.ref.name"


def candidates(store: Store) -> list[Candidate]:
    """Every image manifest reachable from ``index.json``, with the tag its index entry gives it."""
    index = load(store.doc("index.json"), "index.json", store.label)
    found: list[Candidate] = []
    _walk(store, index, None, found, depth=0)
    if not found:
        raise ArchiveError("index.json lists no image manifest", path=store.label)
    return found


def _walk(store: Store, index: Any, tag: str | None, found: list[Candidate], depth: int) -> None:
    if depth > 8:
        raise ArchiveError("image indexes nested too deep", path=store.label)
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ArchiveError("index.json has no manifests list", path=store.label)
    for desc in index["manifests"]:
        if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
            raise ArchiveError("index entry without a digest", path=store.label)
        name = blob_name(desc["digest"], store.label)
        doc = load(store.doc(name), f"manifest {desc['digest']}", store.label)
        annotations = field(desc, "annotations", dict, "index entry", store.label, default={})
        entry_tag = field(annotations, REF_NAME, str, "index entry", store.label, "annotations.") or tag
        media_type = field(desc, "mediaType", str, "index entry", store.label, default="")
        if media_type in _INDEX_TYPES or (isinstance(doc, dict) and "manifests" in doc):
            _walk(store, doc, entry_tag, found, depth + 1)
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
            raise ArchiveError(f"manifest {desc['digest']} has no config", path=store.label)
        what = f"manifest {desc['digest']}"
        config_digest = field(doc["config"], "digest", str, what, store.label, "config.", "")
        config = load(store.doc(blob_name(config_digest, store.label)), "image config", store.label)
        expect(config, dict, f"image config {config_digest}", store.label, "the document")
        names, digests = [], []
        for i, layer in enumerate(field(doc, "layers", list, what, store.label, default=[])):
            layer = expect(layer, dict, what, store.label, f"layers[{i}]")
            digest = field(layer, "digest", str, what, store.label, f"layers[{i}].", "")
            lname = blob_name(digest, store.label)
            if not store.has_blob(lname):
                raise ArchiveError(f"layer {digest} is missing from the archive", path=store.label)
            names.append(store.resolve(lname))
            digests.append(digest)
        tags = (str(entry_tag),) if entry_tag else ()
        ref = ImageRef(tags, platform_of(config, desc, store.label), config_digest)
        found.append(Candidate(ref, config, names, digests, "oci-layout", list(names)))
