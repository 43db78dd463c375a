"""``dlayer diff`` on two builds of one Dockerfile whose second build changes one step: exactly the paths that step
changed are reported, the base layer is shared, and the later step rebuilt with the same files shows nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlayer.diff import compare, document
from dlayer.report import build_report
from dockit.archive import read_image
from tests.dlayer.test_dlayer_findings_system import archive_of
from tests.system.docker_fixtures import Builder

pytestmark = pytest.mark.system
DLAYER = Path(sys.executable).with_name("dlayer")

STEP = {
    "1.4": "RUN mkdir /app && head -c 30000 /dev/zero > /app/data.bin && echo 1.4 > /app/version && echo x > /app/old",
    "1.5": "RUN mkdir /app && head -c 40000 /dev/zero > /app/data.bin && echo 1.5.0 > /app/version && echo n > /app/new"
    " && chmod 700 /app/data.bin",
}
DOCKERFILE = "FROM localhost/busybox:base\n{step}\nRUN echo same > /app/static.txt\n"


def test_diff_of_two_builds_reports_exactly_the_changed_step(builder: Builder, tmp_path: Path) -> None:
    archives = []
    for version, step in STEP.items():
        tag = f"localhost/dlayer-diff:{builder.name}-{version}"
        builder.build(tmp_path, DOCKERFILE.format(step=step), tag=tag)
        archives.append(archive_of(builder, tag, tmp_path / f"{version}.tar"))
    proc = subprocess.run([DLAYER, "diff", "-q", *map(str, archives), "-j", "-"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["sharedLayers"]) == 1  # the busybox base
    assert [(c["path"], c["change"], c["delta"], c["what"]) for c in doc["changes"]] == [
        ("/app/data.bin", "changed", 10000, ["size 30 kB -> 40 kB", "mode 0644 -> 0700"]),
        ("/app/new", "added", 2, []),  # ties by size: by path
        ("/app/old", "removed", -2, []),
        ("/app/version", "changed", 2, ["size 4 B -> 6 B"]),
    ]
    assert doc["b"]["size"] - doc["a"]["size"] == 10002  # 40000 + 6 + 2 - (30000 + 4 + 2)
    # B's base layer came from A's read (LayerCache): the same comparison as two reads on their own
    alone = [build_report(read_image(archive), top=0, final=True) for archive in archives]
    assert doc == json.loads(json.dumps(document(compare(alone[0], alone[1]))))
    with subprocess.Popen(["cat", archives[1]], stdout=subprocess.PIPE) as cat:  # B read first: a pipe is read whole
        piped = subprocess.run(
            [DLAYER, "diff", "-q", archives[0], "-", "-j", "-"], stdin=cat.stdout, capture_output=True
        )
    assert json.loads(piped.stdout) == doc
    text = subprocess.run([DLAYER, "diff", "-q", *map(str, archives)], capture_output=True, text=True).stdout
    line = next(x for x in text.splitlines() if "/app/data.bin" in x)
    assert line.split() == ["~", "+10", "kB", "changed", "/app/data.bin", "(size", "30", "kB", "->", "40", "kB,",
                            "mode", "0644", "->", "0700)"]  # fmt: skip
    assert "Shared layers: 1" in text
