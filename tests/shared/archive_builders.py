"""Small synthetic archives for tests that need a shape no real builder writes (hostile or quirky input):
layer tars from Python's tarfile, wrapped in a legacy ``docker save`` layout or an OCI image layout directory."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

Member = tuple[str, bytes] | tuple[str, bytes, Mapping[str, object]]


def tar_bytes(members: Sequence[Member], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar of ``(name, data)`` members, or ``(name, data, {TarInfo attribute: value})`` for links, directories
    and other header fields."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, *rest in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for key, value in (rest[0] if rest else {}).items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def docker_archive(layers: list[bytes], manifest: object = None, config: object = None) -> bytes:
    """A legacy docker-save archive (tag ``t:1``) around the given layer blobs."""
    names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
    if config is None:
        config = {
            "os": "linux",
            "architecture": "amd64",
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(x).hexdigest() for x in layers]},
            "history": [{"created_by": f"step {i}"} for i in range(len(layers))],
        }
    if manifest is None:
        manifest = [{"Config": "config.json", "RepoTags": ["t:1"], "Layers": names}]
    members: list[Member] = list(zip(names, layers, strict=True))
    members += [("config.json", json.dumps(config).encode()), ("manifest.json", json.dumps(manifest).encode())]
    return tar_bytes(members)


def oci_layout(root: Path, layers: list[bytes], ref: str = "1") -> Path:
    """An OCI image layout directory at ``root`` (skopeo's ``oci:`` source) of uncompressed layer blobs, as they
    are (an empty one too: ``--preserve-digests`` pushes it so), tagged ``ref``."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes, media: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}

    oci = "application/vnd.oci.image"
    config = {
        "os": "linux",
        "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(x).hexdigest() for x in layers]},
        "history": [{"created_by": f"step {i}"} for i in range(len(layers))],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": f"{oci}.manifest.v1+json",
        "config": blob(json.dumps(config).encode(), f"{oci}.config.v1+json"),
        "layers": [blob(x, f"{oci}.layer.v1.tar") for x in layers],
    }
    described = blob(json.dumps(manifest).encode(), f"{oci}.manifest.v1+json")
    described["annotations"] = {"org.opencontainers.image.ref.name": ref}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [described]}))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root
