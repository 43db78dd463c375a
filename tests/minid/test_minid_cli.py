"""The minid command line, run as a real process: output, --check, --diff, --stats, -o, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minid.command import split_file_option

MINID = str(Path(sys.executable).with_name("minid"))
SOURCE = "FROM a\nRUN cd /x\nRUN make\nENV A=1\nENV B=2\n"
RESULT = "FROM a\nRUN (cd /x) \\\n    && (make)\nENV A=1 B=2\n"


def minid(*args: str, input: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MINID, *args], input=input, capture_output=True, text=True, cwd=cwd, check=False)


@pytest.fixture
def dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(SOURCE)
    return path


def test_default_reads_dockerfile_and_prints(dockerfile: Path) -> None:
    done = minid(cwd=dockerfile.parent)
    assert (done.returncode, done.stdout, done.stderr) == (0, RESULT, "")


@pytest.mark.parametrize("args", [["-"], ["-f", "-"], ["--file=-"]])
def test_stdin(args: list[str]) -> None:
    assert minid(*args, input=SOURCE).stdout == RESULT


def test_output_file_is_written_and_input_kept(dockerfile: Path) -> None:
    out = dockerfile.parent / "Dockerfile.min"
    done = minid(str(dockerfile), "-o", str(out))
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text() == RESULT
    assert dockerfile.read_text() == SOURCE


def test_output_over_the_input_is_atomic(dockerfile: Path) -> None:
    assert minid(str(dockerfile), "-o", str(dockerfile)).returncode == 0
    assert dockerfile.read_text() == RESULT
    assert [p.name for p in dockerfile.parent.iterdir()] == ["Dockerfile"]


def test_check_says_what_merges_and_exits_1(dockerfile: Path) -> None:
    done = minid("--check", str(dockerfile))
    assert done.returncode == 1
    assert done.stdout == (
        f"{dockerfile}:2: 2 RUN instructions (lines 2-3) can be one\n"
        f"{dockerfile}:4: 2 ENV instructions (lines 4-5) can be one\n"
    )
    assert dockerfile.read_text() == SOURCE


def test_check_exits_0_when_nothing_merges(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(RESULT)
    done = minid("--check", str(path))
    assert (done.returncode, done.stdout) == (0, "")


def test_diff(dockerfile: Path) -> None:
    done = minid("--diff", str(dockerfile))
    assert done.returncode == 0
    assert done.stdout == (
        f"--- a/{dockerfile}\n+++ b/{dockerfile}\n@@ -1,5 +1,4 @@\n FROM a\n-RUN cd /x\n-RUN make\n-ENV A=1\n-ENV B=2\n"
        "+RUN (cd /x) \\\n+    && (make)\n+ENV A=1 B=2\n"
    )


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_diff_compares_with_the_text_the_parser_read(check: list[str], tmp_path: Path) -> None:
    # The parser strips one BOM; a second one is part of the text and stays in the output: nothing changed.
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf# c\nFROM a\nRUN x\n")
    done = minid("--diff", *check, str(path))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_stats_on_stderr(dockerfile: Path) -> None:
    done = minid("--stats", str(dockerfile))
    assert (done.stdout, done.stderr) == (RESULT, "stage 0: 2 -> 1 layers\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing"], 1, "minid: missing: no such file\n"),
        (["a", "-f", "b"], 2, "minid: two Dockerfiles given: 'a' and -f 'b'\n"),
        (["--nope"], 2, "minid: No such option: --nope (see 'minid --help')\n"),
    ],
)
def test_errors_are_one_line(args: list[str], code: int, message: str, tmp_path: Path) -> None:
    done = minid(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (code, "", message)


def test_a_bad_dockerfile_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN a\nBOGUS x\n")
    out = tmp_path / "out"
    done = minid(str(path), "-o", str(out))
    assert (done.returncode, done.stderr) == (1, f"minid: {path}:3: unknown instruction: BOGUS\n")
    assert not out.exists()


def test_version_and_help() -> None:
    assert minid("-V").stdout == "minid 0.1.0\n"
    helped = minid("-h").stdout
    assert "Usage: minid [OPTIONS] [DOCKERFILE]..." in helped
    for option in ("--file", "--output", "--build-arg", "--check", "--diff", "--stats"):
        assert option in helped


def test_build_takes_the_dockerfile_option_out_of_dockers_arguments() -> None:
    assert split_file_option(["-t", "x", "--file=D", "."]) == ("D", ["-t", "x", "."])
    assert split_file_option(["-fD", "--build-arg", "A=1", "."]) == ("D", ["--build-arg", "A=1", "."])
    assert split_file_option(["."]) == (None, ["."])


def test_build_without_docker_is_a_one_line_error(dockerfile: Path) -> None:
    done = subprocess.run(
        [MINID, "build", "."], cwd=dockerfile.parent, env={"PATH": "/nonexistent"}, capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (1, "minid: docker: command not found\n")


@pytest.mark.parametrize("option", [["-f", "missing"], ["--file", "missing"], ["--file=missing"], ["-fmissing"]])
def test_build_after_the_originals_file_option_reads_that_file(option: list[str], dockerfile: Path) -> None:
    done = minid(*option, "build", ".", cwd=dockerfile.parent)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "minid: missing: no such file\n")


def test_pre_commit_hook_runs_minid_check_on_dockerfiles(tmp_path: Path) -> None:
    """The repository's .pre-commit-hooks.yaml, read as pre-commit reads it: its entry on the files it selects."""
    import re
    import shlex

    hooks = (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text()
    minid_hook = hooks[hooks.index("- id: minid") :]
    fields = dict(re.findall(r"^\s*-?\s*(id|entry|files|language|require_serial): (.+)$", minid_hook, re.MULTILINE))
    assert fields["id"] == "minid" and fields["language"] == "system"
    assert fields["require_serial"] == "true"  # all staged Dockerfiles in one call
    selects = re.compile(fields["files"])
    names = ["Dockerfile", "app/Dockerfile.prod", "web.Dockerfile", "Containerfile", "README.md", "Dockerfile.d/x.sh"]
    assert [n for n in names if selects.search(n)] == names[:4]

    good, bad = tmp_path / "Dockerfile", tmp_path / "web.Dockerfile"
    good.write_text(RESULT)
    bad.write_text(SOURCE)
    entry = shlex.split(fields["entry"])
    entry[0] = MINID
    assert subprocess.run([*entry, str(good)], check=False).returncode == 0
    done = subprocess.run([*entry, str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "2 RUN instructions (lines 2-3) can be one" in done.stdout


def test_check_takes_several_files_as_pre_commit_passes_them(dockerfile: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean.Dockerfile"
    clean.write_text(RESULT)
    done = minid("--check", str(clean), str(dockerfile))
    assert done.returncode == 1 and done.stdout.count("can be one") == 2
    assert minid("--check", str(clean), str(clean)).returncode == 0
    assert minid(str(clean), str(dockerfile)).stderr == "minid: several Dockerfiles need --check\n"


def test_check_reports_an_unreadable_file_and_checks_the_others(dockerfile: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.Dockerfile"
    broken.write_text("FROM a\nBOGUS x\n")
    done = minid("--check", str(tmp_path / "missing"), str(broken), str(dockerfile))
    assert done.returncode == 2
    assert (
        done.stderr == f"minid: {tmp_path / 'missing'}: no such file\nminid: {broken}:2: unknown instruction: BOGUS\n"
    )
    assert done.stdout.count("can be one") == 2  # the readable one was still checked
    clean = tmp_path / "clean.Dockerfile"
    clean.write_text(RESULT)
    assert minid("--check", str(clean), str(tmp_path / "missing")).returncode == 2


def test_build_args_reach_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("ARG BASE=alpine\nFROM $BASE\nRUN a\nRUN b\n")
    done = minid("--build-arg", "BASE=busybox", "--build-arg", "OTHER", str(path))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "ARG BASE=alpine\nFROM $BASE\nRUN (a) \\\n    && (b)\n"
    assert minid("--build-arg", "=x", str(path)).stderr == "minid: --build-arg '=x': expected NAME=VALUE or NAME\n"


def test_readme_examples_are_what_minid_prints() -> None:
    """Every `$ minid ...` in the README's console blocks prints exactly what the README shows (stderr first)."""
    import re
    import shlex

    root = Path(__file__).parents[2]
    readme = (root / "packages" / "minid" / "README.md").read_text()
    commands = 0
    for block in re.findall(r"```console\n(.*?)```", readme, re.DOTALL):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.MULTILINE):
            if not chunk.startswith("$ minid"):
                continue
            line, _, shown = chunk.partition("\n")
            args = shlex.split(line[2:])[1:]
            done = subprocess.run([MINID, *args], cwd=root, capture_output=True, text=True, check=False)
            assert done.stderr + done.stdout == shown, line
            commands += 1
    assert commands >= 3
