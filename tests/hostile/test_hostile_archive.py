"""Issue 21, dlayer (items 9-11): hostile JSON documents in an image archive are one line naming the document and
the field, exit 1, within 2 s of CPU and 200 MB, through the installed console script."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dockit.archive.documents import load
from dockit.errors import ArchiveError
from dockit.limits import MAX_JSON_BYTES, MAX_JSON_DEPTH
from tests.hostile.runner import Ahead, Run, run
from tests.shared.archive_builders import tar_bytes

LAYER = tar_bytes([("hello.txt", b"hello\n")])
LAYER_NAME = f"{hashlib.sha256(LAYER).hexdigest()}/layer.tar"
DIFF_ID = "sha256:" + hashlib.sha256(LAYER).hexdigest()
CONFIG = json.dumps({"rootfs": {"type": "layers", "diff_ids": [DIFF_ID]}, "history": [{"created_by": "x"}]}).encode()
MANIFEST = json.dumps([{"Config": "config.json", "RepoTags": ["t:1"], "Layers": [LAYER_NAME]}]).encode()
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def docker_save(manifest: bytes = MANIFEST, config: bytes = CONFIG) -> bytes:
    return tar_bytes([(LAYER_NAME, LAYER), ("config.json", config), ("manifest.json", manifest)])


def oci_layout(index: bytes, manifest: bytes = b"{}") -> bytes:
    members = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)]
    return tar_bytes([*members, (f"blobs/sha256/{'a' * 64}", manifest)])


def index_with(**fields: object) -> bytes:
    return json.dumps({"manifests": [{"digest": "sha256:" + "a" * 64, **fields}]}).encode()


def manifest_with(**fields: object) -> bytes:
    item: dict[str, object] = {"Config": "config.json", "RepoTags": ["t:1"], "Layers": [LAYER_NAME]}
    item.update(fields)
    return json.dumps([item]).encode()


# name -> (archive bytes, what the one-line error must say; " | " between alternatives)
CASES: dict[str, tuple[bytes, str]] = {
    "deep-manifest": (docker_save(manifest=DEEP), "manifest.json is nested too deeply (more than 64 levels)"),
    "deep-config": (docker_save(config=DEEP_OBJECT), "image config config.json is nested too deeply"),
    "deep-index": (oci_layout(DEEP), "index.json is nested too deeply"),
    "wrong-types-config": (
        docker_save(config=b'{"rootfs":{"diff_ids":7},"history":"x"}'),
        # whichever wrong field is read first
        "image config config.json: rootfs.diff_ids is a number, not a list"
        " | image config config.json: history is a string, not a list",
    ),
    "diff-ids-number": (docker_save(config=b'{"rootfs":{"diff_ids":7}}'), "rootfs.diff_ids is a number, not a list"),
    "diff-id-object": (docker_save(config=b'{"rootfs":{"diff_ids":[{}]}}'), "rootfs.diff_ids[0] is an object"),
    "history-item": (docker_save(config=b'{"history":[1]}'), "history[0] is a number, not an object"),
    "layers-string": (docker_save(manifest=manifest_with(Layers="x")), "manifest.json: Layers is a string, not a list"),
    "repotags-number": (docker_save(manifest=manifest_with(RepoTags=7)), "manifest.json: RepoTags is a number"),
    "config-list": (docker_save(config=b"[1]"), "image config config.json: the document is a list, not an object"),
    "bad-utf8": (
        docker_save(manifest=b'[{"Config": "\xff"}]'),
        "manifest.json is not valid UTF-8 (byte 0xff at offset 13)",
    ),
    "bad-json": (docker_save(manifest=b'[{"Config": "config.json",}]'), "manifest.json is not valid JSON: expecting"),
    "huge-number": (docker_save(config=b'{"history": [], "x": ' + b"1" * 5000 + b"}"), "holds a number too long"),
    "index-annotations": (oci_layout(index_with(annotations=7)), "index entry: annotations is a number, not an object"),
    "index-platform": (
        oci_layout(index_with(platform="x"), b'{"config": {"digest": "sha256:' + b"a" * 64 + b'"}}'),
        "index entry: platform is a string, not an object",
    ),
    "manifest-layers": (
        oci_layout(index_with(), b'{"config": {"digest": "sha256:' + b"a" * 64 + b'"}, "layers": 3}'),
        "layers is a number, not a list",
    ),
    "deep-oci-manifest": (oci_layout(index_with(), DEEP_OBJECT), f"manifest sha256:{'a' * 64} is nested too deeply"),
}


def _start(test: str, case: str) -> Run:
    archive = RUNS.directory() / "image.tar"
    archive.write_bytes(CASES[case][0])
    return run("dlayer", archive)


RUNS = Ahead(_start)  # started by tests/hostile/conftest.py, checked by the tests below
AHEAD = ["test_hostile_archive_is_one_line"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_is_one_line(case: str) -> None:
    expected = CASES[case][1]
    line = RUNS.result("test_hostile_archive_is_one_line", case=case).check_one_line_error(1)
    assert line.startswith("dlayer: /") and line.split(": ", 2)[1].endswith("/image.tar"), line
    assert any(e in line for e in expected.split(" | ")), line
    assert "codec" not in line and "Expecting" not in line and "(char " not in line, line  # our wording


def test_documents_at_the_limits(tmp_path: Path) -> None:
    inner = b'{"a":' * (MAX_JSON_DEPTH - 3) + b"[[1]]" + b"}" * (MAX_JSON_DEPTH - 3)
    config = json.loads(CONFIG)
    config["deep"] = json.loads(inner)  # the config is one level more: exactly the limit
    archive = tmp_path / "image.tar"
    archive.write_bytes(docker_save(config=json.dumps(config).encode()))
    result = run("dlayer", archive)
    assert result.code == 0, result.stderr
    result.check_limits()
    assert load(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, "manifest.json", "x.tar")
    with pytest.raises(ArchiveError, match="nested too deeply"):
        load(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "manifest.json", "x.tar")
    padded = b'{"a": 1}'.ljust(MAX_JSON_BYTES)
    assert load(padded, "image config", "x.tar") == {"a": 1}
    with pytest.raises(ArchiveError, match="larger than 16 MiB"):
        load(padded + b" ", "image config", "x.tar")
