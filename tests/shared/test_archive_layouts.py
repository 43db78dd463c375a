"""dockit.archive on the harness's image_archives: one multi-stage image written by the Docker daemon, buildah,
skopeo and umoci in nine layouts. Every layout must read to the same figures; each must hold what the harness
intended (layer count, history step by step, derived from the Dockerfile, not read back)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from dlayer.dive import analyze
from dockit.archive import list_images, read_image
from dockit.archive.model import Image
from dockit.archive.stacking import stack
from dockit.errors import UsageError
from tests.system.fixtures.make_archives import BUILD_TAG, CONTEXT, OCI_REF, TAG

pytestmark = pytest.mark.system
OCI = {"oci-gzip", "oci-zstd", "oci-plain", "oci-dir", "umoci"}
LAYERED = [
    "docker-save",
    "docker-save-multi",
    "buildah-docker",
    "oci-gzip",
    "oci-zstd",
    "oci-plain",
    "oci-dir",
    "umoci",
]


def ref(name: str) -> str:
    return OCI_REF if name in OCI else TAG


def figures(image: Image) -> dict[str, Any]:
    """What must not depend on the builder or the layout (diff ids do: the daemon and buildah write other tars)."""
    dive = analyze(image)
    stacked = stack(image.layers)
    return {
        "sizes": [layer.size for layer in image.layers],
        "files": [
            sorted((e.path, e.type, e.size, e.link) for e in layer.entries if not e.is_dir) for layer in image.layers
        ],
        # builders hash COPY/ADD sources their own way: "COPY dir:<sha256> in /app/"
        "commands": [re.sub(r":[0-9a-f]{64} ", ":<sha256> ", layer.command) for layer in image.layers],
        "wasted": stacked.wasted_bytes,
        "wasted_paths": stacked.wasted_paths(),
        "dive": (
            dive.size,
            dive.inefficient_bytes,
            dive.efficiency,
            sorted((r.file, r.count, r.size) for r in dive.references),
        ),
    }


@pytest.fixture(scope="module")
def reference(image_archives: Mapping[str, Path]) -> dict[str, Any]:
    return figures(read_image(image_archives["buildah-docker"], tag=TAG))


@pytest.mark.parametrize("name", LAYERED)
def test_layout_reads_to_the_same_figures(image_archives: Any, reference: dict[str, Any], name: str) -> None:
    image = read_image(image_archives[name], tag=ref(name))
    assert figures(image) == reference


@pytest.mark.parametrize("name", [*LAYERED, "squashed"])
def test_layout_holds_what_was_intended(image_archives: Any, name: str) -> None:
    intended = image_archives.intended[name]
    image = read_image(image_archives[name], tag=ref(name))
    assert len(image.layers) == intended.images[ref(name)]
    if intended.history is None:
        return
    assert len(image.history) == len(intended.history)
    for step, entry in zip(intended.history, image.history, strict=True):
        assert step.matches(entry.created_by), (step.instruction, entry.created_by)
        assert entry.empty_layer == (not step.layer)
    with_layer = [s for s in intended.history if s.layer]
    for step, layer in zip(with_layer, image.layers, strict=True):
        assert layer.history is not None and step.matches(layer.history.created_by)


@pytest.mark.parametrize("name", [n for n in LAYERED if n != "oci-dir"])
def test_stream_equals_file(image_archives: Any, reference: dict[str, Any], name: str) -> None:
    with subprocess.Popen(["cat", str(image_archives[name])], stdout=subprocess.PIPE) as cat:
        assert cat.stdout is not None
        assert figures(read_image(cat.stdout, tag=ref(name))) == reference


def test_wasted_bytes_by_hand(image_archives: Any) -> None:
    # From the Dockerfile: the last RUN deletes /app/cache (100000 bytes of junk) and obsolete.txt ("remove me\n"),
    # overwrites /app/etc/config ("v1\n"), and its chown -R copies every payload file up again.
    payload = sum(p.stat().st_size for p in (CONTEXT / "payload").rglob("*") if p.is_file())
    expected = 100_000 + len("remove me\n") + len("v1\n") + payload
    for name in ("docker-save", "oci-zstd"):
        assert stack(read_image(image_archives[name], tag=ref(name)).layers).wasted_bytes == expected


def test_squashed_holds_the_final_filesystem(image_archives: Any) -> None:
    def files(image: Image) -> dict[str, tuple[str, int, int, int]]:
        return {p: (e.type, e.size, e.uid, e.gid) for p, (_, e) in stack(image.layers).final.items() if not e.is_dir}

    assert files(read_image(image_archives["squashed"])) == files(read_image(image_archives["buildah-docker"]))


def test_multi_image_archive(image_archives: Any) -> None:
    refs = {r.tags: r for r in list_images(image_archives["docker-save-multi"])}
    assert set(refs) == {(TAG,), (BUILD_TAG,)}
    with pytest.raises(UsageError, match="2 images"):
        read_image(image_archives["docker-save-multi"])
    build = read_image(image_archives["docker-save-multi"], tag=BUILD_TAG)
    assert build.layers[-1].command.startswith("mkdir -p /out/lib /out/share")
