"""Waste traced to the Dockerfile lines that made it, on images the real builders made from one Dockerfile whose
waste is known by construction: a pip cache deleted two steps later, a key file deleted later, a big file
overwritten. Findings, lines and bytes are asserted exactly, and so are the CI path rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.docker_fixtures import Buildah, Builder, BuildKit

pytestmark = pytest.mark.system
DLAYER = Path(sys.executable).with_name("dlayer")

DOCKERFILE = """\
FROM localhost/busybox:base
RUN mkdir -p /root/.cache/pip/http && head -c 90000 /dev/zero > /root/.cache/pip/http/wheel.whl
COPY id_rsa.pem /app/id_rsa.pem
RUN head -c 50000 /dev/zero > /app/big.bin
LABEL org.example.stage=build
RUN rm -rf /root/.cache && rm /app/id_rsa.pem
RUN head -c 20000 /dev/zero > /app/big.bin
"""
# The layer each line makes: the busybox base is layer 0, LABEL makes none (on every builder).
LAYER = {2: 1, 3: 2, 4: 3, 6: 4, 7: 5}
# (bytes, how, line that added, line that hid, remedy, paths): known from the Dockerfile above, not from dlayer
EXPECTED = [
    (90000, "deleted", 2, 6, "pip cache", ["/root/.cache/pip/http/wheel.whl"]),
    (50000, "overwritten", 4, 7, "", ["/app/big.bin"]),
    (1000, "deleted", 3, 6, "", ["/app/id_rsa.pem"]),
]


def archive_of(builder: Builder, tag: str, path: Path) -> Path:
    """The built image as a docker-archive, as each builder writes one."""
    if isinstance(builder, Buildah):
        builder.push(tag, f"docker-archive:{path}:{tag}")
    else:
        (builder.daemon if isinstance(builder, BuildKit) else builder).save(tag, path)
    return path


@pytest.fixture
def built(builder: Builder, tmp_path: Path) -> tuple[Path, Path]:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "id_rsa.pem").write_bytes(b"k" * 1000)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    tag = f"localhost/dlayer-findings:{builder.name}"
    builder.build(context, dockerfile, tag=tag)
    return archive_of(builder, tag, tmp_path / "image.tar"), dockerfile


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DLAYER, "-q", *map(str, args)], capture_output=True, text=True)


def test_findings_name_the_lines_that_added_and_hid_the_bytes(built: tuple[Path, Path]) -> None:
    archive, dockerfile = built
    proc = run(archive, "--dockerfile", dockerfile, "-j", "-")
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    got = [
        (
            f["bytes"],
            f["how"],
            f["added"]["dockerfile"]["line"],
            f["hidden"]["dockerfile"]["line"],
            f["remedy"],
            [p["path"] for p in f["paths"]],
        )
        for f in findings
    ]
    assert got == EXPECTED
    assert [(f["added"]["layer"], f["hidden"]["layer"]) for f in findings] == [
        (LAYER[a], LAYER[h]) for _, _, a, h, _, _ in EXPECTED
    ]
    assert findings[0]["added"]["dockerfile"]["instruction"].startswith("RUN mkdir -p /root/.cache/pip/http")
    # the text report says the same, naming file:line
    text = run(archive, "--dockerfile", dockerfile, "-l", "400").stdout
    pip = next(line for line in text.splitlines() if "deletes what" in line and line.lstrip().startswith("90 kB"))
    assert f"{dockerfile}:6 `RUN rm -rf /root/.cache" in pip and f"{dockerfile}:2 `RUN mkdir -p" in pip
    assert "pip install --no-cache-dir" in text


def test_without_the_dockerfile_findings_name_layers_and_commands(built: tuple[Path, Path]) -> None:
    archive, _ = built
    findings = json.loads(run(archive, "-j", "-").stdout)["findings"]
    assert [(f["bytes"], f["added"]["dockerfile"], f["hidden"]["dockerfile"]) for f in findings] == [
        (90000, None, None),
        (50000, None, None),
        (1000, None, None),
    ]
    assert "rm -rf /root/.cache" in findings[0]["hidden"]["command"]
    assert findings[0]["added"]["layer"] < findings[0]["hidden"]["layer"]


def test_ci_path_rules_report_every_match_with_its_layer(built: tuple[Path, Path]) -> None:
    archive, dockerfile = built
    proc = run(
        archive, "--dockerfile", dockerfile, "--ci", "--forbid", "**/*.pem", "--max-file-size", "40kB",
        "--highest-wasted-bytes-true", "100kB", "-j", "-",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    rules = {r["name"]: r for r in json.loads(proc.stdout)["ci"]["rules"]}
    layers = LAYER
    assert rules["forbid"]["status"] == "FAIL"
    assert rules["forbid"]["matches"] == [
        f"/app/id_rsa.pem in layer {layers[3]}, deleted by layer {layers[6]} but still shipped in layer {layers[3]}"
    ]
    # above the base image's layer: the pip cache (line 2) and the first big.bin (line 4); the 20 kB rewrite passes
    assert rules["maxFileSize"]["matches"] == [
        f"/root/.cache/pip/http/wheel.whl 90 kB in layer {layers[2]}",
        f"/app/big.bin 50 kB in layer {layers[4]}",
    ]
    # 141 kB hidden in all: over 100 kB
    assert rules["highestWastedBytesTrue"]["status"] == "FAIL"
    assert "141 kB" in rules["highestWastedBytesTrue"]["message"]
