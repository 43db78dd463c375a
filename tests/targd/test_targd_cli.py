"""targd's command line: the console script end to end (the conventions all tools share: tests/test_conventions.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockit.dockerfile import host_platform

TARGD = str(Path(sys.executable).parent / "targd")

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG ALPINE=3.20

FROM alpine:${ALPINE} AS base-amd64
FROM alpine:${ALPINE} AS base-arm64

# docs are not shipped
FROM alpine:${ALPINE} AS docs
RUN echo docs

FROM busybox
RUN echo built > /out

FROM base-${TARGETARCH} AS app
COPY --from=3 /out /out
"""

APP_AMD64 = """\
# syntax=docker/dockerfile:1
ARG ALPINE=3.20

FROM alpine:${ALPINE} AS base-amd64

FROM busybox AS stage-3
RUN echo built > /out

FROM base-${TARGETARCH} AS app
COPY --from=stage-3 /out /out
"""


HOST_ARCH = host_platform().split("/", 1)[1]
OTHER_ARCH = "arm64" if HOST_ARCH != "arm64" else "amd64"
APP_HOST = APP_AMD64.replace("amd64", HOST_ARCH)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def targd(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TARGD, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=60)


def test_console_script_prints_the_target_and_warns_about_assumptions(workdir: Path) -> None:
    """The default platform is this machine's, as docker's; only the ARG that chose a stage is warned about (ALPINE
    only fills in a tag)."""
    out = targd("-t", "APP", cwd=workdir)
    assert (out.returncode, out.stdout) == (0, APP_HOST)
    assert out.stderr.splitlines() == [
        f"targd: warning: Dockerfile:14: FROM base-${{TARGETARCH}}: TARGETARCH={HOST_ARCH} (no --platform) chose "
        f"stage base-{HOST_ARCH}",
    ]
    quiet = targd("-q", "-t", "APP", cwd=workdir)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, APP_HOST, "")


def test_platform_and_build_arg_choose_and_silence(workdir: Path) -> None:
    """Another platform than this machine's: the FROM it chose names its stage, so a plain build here builds it."""
    out = targd("--platform", f"linux/{OTHER_ARCH}", "--build-arg", "ALPINE=3.19", "-f", "Dockerfile", cwd=workdir)
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout == APP_AMD64.replace("amd64", OTHER_ARCH).replace(
        "FROM base-${TARGETARCH} AS app\n",
        f"# set by targd: FROM base-${{TARGETARCH}} with TARGETARCH={OTHER_ARCH}\nFROM base-{OTHER_ARCH} AS app\n",
    )


def test_stdin_and_output_file(workdir: Path) -> None:
    out = targd("-t", "docs", "-o", "docs.Dockerfile", "-", stdin=DOCKERFILE, cwd=workdir)
    assert (out.returncode, out.stdout) == (0, "")
    assert (workdir / "docs.Dockerfile").read_text() == (
        "# syntax=docker/dockerfile:1\nARG ALPINE=3.20\n\n# docs are not shipped\n"
        "FROM alpine:${ALPINE} AS docs\nRUN echo docs\n"
    )
    assert out.stderr == ""  # ALPINE only fills in a tag: nothing to warn about


def test_unknown_target_lists_the_stages_and_prints_nothing(workdir: Path) -> None:
    (workdir / "out").write_text("keep me")
    out = targd("-t", "release", "-o", "out", cwd=workdir)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (
        "targd: Dockerfile: no stage 'release'; stages: 0 (base-amd64), 1 (base-arm64), 2 (docs), 3 (unnamed), "
        "4 (app)\n"
    )
    assert (workdir / "out").read_text() == "keep me"
    assert sorted(os.listdir(workdir)) == ["Dockerfile", "out"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "FROM a AS x\nCOPY --from=y / /\nFROM b AS y\n",
            "targd: Dockerfile:2: --from=y: stage 'y' is defined later (line 3); move it above",
        ),
        ("FROM a\nCOPY --from=$S / /\n", "targd: Dockerfile:2: --from=$S: variables are not expanded in --from"),
        ("FROM a\nFORM b\n", "targd: Dockerfile:2: unknown instruction: FORM"),
        ("", "targd: Dockerfile:1: file with no instructions"),
    ],
)
def test_bad_dockerfiles_are_one_line_errors(workdir: Path, text: str, message: str) -> None:
    (workdir / "Dockerfile").write_text(text)
    out = targd(cwd=workdir)
    assert (out.returncode, out.stdout, out.stderr) == (1, "", message + "\n")


def test_binary_input_is_an_error_not_a_traceback(workdir: Path) -> None:
    """Bytes that are not UTF-8 are read as Latin-1 (tests/shared/test_source_encoding.py); a NUL is binary."""
    (workdir / "Dockerfile").write_bytes(b"FROM a\nRUN \xff\x00\n")
    out = targd(cwd=workdir)
    assert (out.returncode, out.stderr) == (1, "targd: Dockerfile:2: NUL byte in the file\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--list", "--json"], "targd: --list and --json exclude each other\n"),
        (["-f", "a", "b"], "targd: two Dockerfiles given: 'b' and -f 'a'\n"),
        (
            ["--platform", "amd64"],
            "targd: --platform 'amd64': expected OS/ARCH or OS/ARCH/VARIANT (e.g. linux/arm64)\n",
        ),
        (["--build-arg", "=x"], "targd: --build-arg '=x': expected NAME=VALUE or NAME\n"),
        (["--bogus"], "targd: No such option: --bogus (see 'targd --help')\n"),
        (["--targte", "x"], "targd: No such option: --targte Did you mean --target? (see 'targd --help')\n"),
        (["-t"], "targd: Option '-t' requires an argument.\n"),
        (["-t", "--list"], "targd: Option '-t' requires an argument.\n"),
        (["--list=yes"], "targd: Option '--list' does not take a value.\n"),
        (["-qx"], "targd: No such option: -x (see 'targd --help')\n"),
        (["a", "b"], "targd: Got unexpected extra argument (b) (see 'targd --help')\n"),
        (["--check"], "targd: --check and --diff compare with the output file: give -o PATH\n"),
    ],
)
def test_usage_errors_exit_2(workdir: Path, args: list[str], message: str) -> None:
    out = targd(*args, cwd=workdir)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", message)


def test_missing_file_and_unwritable_output(workdir: Path) -> None:
    out = targd("nope", cwd=workdir)
    assert (out.returncode, out.stderr) == (1, "targd: nope: no such file\n")
    out = targd("-o", "no/such/dir/out", "--platform=linux/amd64", "--build-arg", "ALPINE=3", cwd=workdir)
    assert (out.returncode, out.stderr) == (1, "targd: no/such/dir/out: cannot write: No such file or directory\n")


def test_version_and_help(workdir: Path) -> None:
    assert targd("--version").stdout == "targd 0.1.0\n"
    helped = targd("--help")
    assert helped.returncode == 0 and "Usage: targd [OPTIONS] [DOCKERFILE]" in helped.stdout
    for option in ("--target", "--file", "--output", "--build-arg", "--platform", "--list", "--graph", "--json", "-q"):
        assert option in helped.stdout


def test_list(workdir: Path) -> None:
    out = targd("--list", "-t", "app", cwd=workdir)
    assert out.stdout == (
        "#  NAME        BASE         NEEDS          TARGET\n"
        "0  base-amd64  alpine:3.20  -              needed\n"
        "1  base-arm64  alpine:3.20  -              -\n"
        "2  docs        alpine:3.20  -              -\n"
        "3  -           busybox      -              needed\n"
        "4  app         base-amd64   base-amd64, 3  target\n"
    )


def test_graph(workdir: Path) -> None:
    out = targd("--graph", "-t", "docs", "--platform", "linux/arm64", cwd=workdir)
    assert out.stdout == (
        "digraph stages {\n"
        "  rankdir=LR;\n"
        "  node [shape=box, fontname=monospace];\n"
        '  s0 [label="base-amd64 (0)\\nalpine:3.20"];\n'
        '  s1 [label="base-arm64 (1)\\nalpine:3.20"];\n'
        '  s2 [label="docs (2)\\nalpine:3.20", style=filled, fillcolor="#cfe8ff", peripheries=2];\n'
        '  s3 [label="3\\nbusybox"];\n'
        '  s4 [label="app (4)\\nbase-arm64"];\n'
        '  x0 [label="alpine:3.20", shape=ellipse, style=dashed];\n'
        '  x1 [label="busybox", shape=ellipse, style=dashed];\n'
        '  x0 -> s0 [label="from"];\n'
        '  x0 -> s1 [label="from"];\n'
        '  x0 -> s2 [label="from"];\n'
        '  x1 -> s3 [label="from"];\n'
        '  s1 -> s4 [label="from"];\n'
        '  s3 -> s4 [label="copy"];\n'
        "}\n"
    )


def test_json(workdir: Path) -> None:
    doc = json.loads(targd("--json", cwd=workdir).stdout)
    assert (doc["file"], doc["target"], doc["closure"]) == ("Dockerfile", 4, [0, 3, 4])
    app = doc["stages"][4]
    assert (app["name"], app["base"], app["base_raw"], app["needs"], app["needed"]) == (
        "app",
        "base-amd64",
        "base-${TARGETARCH}",
        [0, 3],
        True,
    )
    assert app["refs"] == [
        {"kind": "from", "ref": "base-amd64", "stage": 0, "line": 14},
        {"kind": "copy", "ref": "3", "stage": 3, "line": 15},
    ]
    assert doc["stages"][3]["renamed"] == "stage-3" and doc["stages"][2]["needed"] is False


def test_option_spellings_click_accepts(workdir: Path) -> None:
    spellings = (["--target=app"], ["-tapp"], ["Dockerfile", "-t", "docs", "-t", "app"], ["-qt", "app"])
    for args in (*spellings, ["-t", "app", "--", "Dockerfile"]):
        out = targd("-q", *args, cwd=workdir)
        assert (out.returncode, out.stdout, out.stderr) == (0, APP_AMD64, ""), args


def test_check_and_diff_compare_with_the_output_file(workdir: Path) -> None:
    missing = targd("-q", "-t", "app", "-o", "app.Dockerfile", "--check", cwd=workdir)
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "targd: app.Dockerfile: would be created\n")
    assert not (workdir / "app.Dockerfile").exists()
    assert targd("-q", "-t", "app", "-o", "app.Dockerfile", cwd=workdir).returncode == 0
    same = targd("-q", "-t", "app", "-o", "app.Dockerfile", "--check", "--diff", cwd=workdir)
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")
    stale = targd("-q", "-t", "docs", "-o", "app.Dockerfile", "--check", "--diff", cwd=workdir)
    assert stale.returncode == 1 and stale.stderr == "targd: app.Dockerfile: would change\n"
    assert stale.stdout.startswith("--- a/app.Dockerfile\n+++ b/app.Dockerfile\n")
    assert "+RUN echo docs\n" in stale.stdout and "-COPY --from=stage-3 /out /out\n" in stale.stdout
    diff = targd("-q", "-t", "docs", "-o", "app.Dockerfile", "--diff", cwd=workdir)
    assert (diff.returncode, diff.stdout) == (0, stale.stdout)
    assert (workdir / "app.Dockerfile").read_text() == APP_AMD64
