"""Findings say whether minid would merge the step that added the waste and the one that deleted it, on images the
real builders made from one Dockerfile: a pip cache deleted by the next RUN (minid merges them), apt lists whose RUN
a `# minid: keep` pragma keeps apart, and a temporary file whose two RUNs an ARG separates (an ARG stays a barrier:
a --build-arg would change it). The finding lines are asserted exactly, as `dlayer` prints them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dlayer.test_dlayer_findings_system import archive_of
from tests.system.docker_fixtures import Builder

DLAYER = Path(sys.executable).with_name("dlayer")
MINID = Path(sys.executable).with_name("minid")

DOCKERFILE = """\
FROM localhost/busybox:base
RUN mkdir -p /root/.cache/pip/http && head -c 90000 /dev/zero > /root/.cache/pip/http/wheel.whl
RUN rm -rf /root/.cache/pip
# minid: keep
RUN mkdir -p /var/lib/apt/lists && head -c 60000 /dev/zero > /var/lib/apt/lists/deb.example.org_dists
RUN rm -rf /var/lib/apt/lists/*
RUN head -c 30000 /dev/zero > /tmp/build.o
ARG VERSION=1
RUN rm /tmp/build.o
"""
# Known from the Dockerfile above (lines 2+3 merge; the pragma keeps 5 alone; the ARG at 8 keeps 7 and 9 apart).
FINDINGS = """\
Findings:
     90 kB  Dockerfile:3 `RUN rm -rf /root/.cache/pip` deletes what Dockerfile:2 `RUN mkdir -p /root/.cache/pip/http && head -c 90000 /dev/zero > /root/.cache/pip/http/wheel.whl` added
            1 file: /root/.cache/pip/http/wheel.whl
            fix: pip cache: use `pip install --no-cache-dir` (or ENV PIP_NO_CACHE_DIR=1) so the cache is never written; or do both in one RUN
            minid would merge these: `minid -o Dockerfile Dockerfile`
     60 kB  Dockerfile:6 `RUN rm -rf /var/lib/apt/lists/*` deletes what Dockerfile:5 `RUN mkdir -p /var/lib/apt/lists && head -c 60000 /dev/zero > /var/lib/apt/lists/deb.example.org_dists` added
            1 file: /var/lib/apt/lists/deb.example.org_dists
            fix: apt lists: end the RUN that runs `apt-get update` with `rm -rf /var/lib/apt/lists/*`; or do both in one RUN
            minid would not merge these: a pragma keeps line 5 apart (# minid: keep at line 4)
     30 kB  Dockerfile:9 `RUN rm /tmp/build.o` deletes what Dockerfile:7 `RUN head -c 30000 /dev/zero > /tmp/build.o` added
            1 file: /tmp/build.o
            fix: temporary files: create and delete temporary files in the same RUN; or do both in one RUN
            minid would not merge these: ARG at line 8 is between them
"""  # noqa: E501


@pytest.fixture
def built(builder: Builder, tmp_path: Path) -> Path:
    """The image of DOCKERFILE as an archive; the Dockerfile is in ``tmp_path``, where dlayer runs."""
    context = tmp_path / "ctx"
    context.mkdir()
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    tag = f"localhost/dlayer-merging:{builder.name}"
    builder.build(context, tmp_path / "Dockerfile", tag=tag)
    return archive_of(builder, tag, tmp_path / "image.tar")


def dlayer(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    argv = [str(DLAYER), "-q", *map(str, args)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.system
def test_findings_say_whether_minid_would_merge_the_two_steps(built: Path) -> None:
    work = built.parent
    text = dlayer(work, built, "--dockerfile", "Dockerfile", "-l", "400")
    assert text.returncode == 0, text.stderr
    assert text.stdout[text.stdout.index("Findings:") :] == FINDINGS
    doc = dlayer(work, built, "--dockerfile", "Dockerfile", "-j", "-")
    got = [
        (f["added"]["dockerfile"]["line"], f["hidden"]["dockerfile"]["line"], f["minid"])
        for f in json.loads(doc.stdout)["findings"]
    ]
    assert got == [
        (2, 3, {"merges": True, "reason": None, "command": "minid -o Dockerfile Dockerfile"}),
        (5, 6, {"merges": False, "reason": "a pragma keeps line 5 apart (# minid: keep at line 4)", "command": None}),
        (7, 9, {"merges": False, "reason": "ARG at line 8 is between them", "command": None}),
    ]  # fmt: skip
    # without the Dockerfile nothing is said about minid
    plain = dlayer(work, built, "-j", "-")
    assert [f["minid"] for f in json.loads(plain.stdout)["findings"]] == [None, None, None]


@pytest.mark.system
def test_the_merge_dlayer_promises_is_the_one_minid_makes(builder: Builder, built: Path) -> None:
    """`minid -o Dockerfile Dockerfile`, as the finding says, then the same build: the pip cache's 90 kB are gone
    and the two findings minid would not merge are still there."""
    work = built.parent
    done = subprocess.run([MINID, "-o", "Dockerfile", "Dockerfile"], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    tag = f"localhost/dlayer-merging:{builder.name}-minid"
    builder.build(work / "ctx", work / "Dockerfile", tag=tag)
    after = archive_of(builder, tag, work / "merged.tar")
    doc = json.loads(dlayer(work, after, "--dockerfile", "Dockerfile", "-j", "-").stdout)
    assert [(f["bytes"], f["remedy"], f["minid"]["merges"]) for f in doc["findings"]] == [
        (60000, "apt lists", False),
        (30000, "temporary files", False),
    ]
