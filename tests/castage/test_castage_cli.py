"""castage's command line: flags, the script on stdout, one-line errors with the right exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from castage import __version__, cli
from tests.castage.scripts import shellcheck

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "castage" / "Dockerfile"
CASTAGE = Path(sys.executable).parent / "castage"


def castage(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def test_the_console_script_prints_the_script(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(EXAMPLE.read_bytes())
    proc = subprocess.run(
        [CASTAGE, "-i", "127.0.0.1:5000/app", "--push"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#!/usr/bin/env bash\n")
    assert "docker push 127.0.0.1:5000/app:runtime\n" in proc.stdout
    assert proc.stderr == ""
    shellcheck(proc.stdout)


def test_options_reach_the_script(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ctx").mkdir()
    args = ["-i", "r/app", "-f", str(EXAMPLE), "-p", "ctx", "-t", "build", "--mode", "gha", "--build-arg", "A=1"]
    code, out, err = castage(args, capsys)
    assert (code, err) == (0, "")
    assert "(gha mode). Stages built: deps build\n" in out
    assert "--build-arg A=1 \\\n" in out and f"-f {EXAMPLE} \\\n    ctx\n" in out
    shellcheck(out)


def test_stdin_dockerfile(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    os.write(write, b"FROM alpine AS one\n")
    os.close(write)
    monkeypatch.setattr(sys, "stdin", os.fdopen(read))
    code, out, _ = castage(["-i", "r/app", "-f", "-"], capsys)
    assert code == 0 and "FROM alpine AS one\nCASTAGE_DOCKERFILE\n" in out
    shellcheck(out)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert castage(["--version"], capsys) == (0, f"castage {__version__}\n", "")


@pytest.mark.parametrize(
    ("args", "dockerfile", "code", "error"),
    [
        (["-i", "r/app"], None, 1, "castage: Dockerfile: no such file"),
        (["-i", "r/app", "-f", "nope"], None, 1, "castage: nope: no such file"),
        (["-i", "r/app", "-p", "nope"], "FROM a\n", 1, "castage: nope: no such directory"),
        (["-i", "r/app", "-p", "Dockerfile"], "FROM a\n", 1, "castage: Dockerfile: not a directory"),
        (["-i", "r/app", "--mode", "legacy", "--image-manifest"], "FROM a\n", 2, "castage: --image-manifest: only"),
        (["-i", "r/app", "--branch", ""], "FROM a\n", 2, "castage: --branch: empty name"),
        (["-i", "r/app", "--final-tag", "a:b"], "FROM a\n", 2, "castage: --final-tag: invalid tag 'a:b'"),
        (["-i", "r/app", "--platform", "a/b", "--platform", "c/d"], "FROM a\n", 2, "castage: --platform: docker build"),
        (
            ["-i", "r/app", "--push", "-o", "no/such/dir/ci.sh"],
            "FROM a\n",
            1,
            "castage: no/such/dir/ci.sh: cannot write",
        ),
        (["-i", "r/app", "-t", "zz"], "FROM a AS x\n", 1, "castage: Dockerfile: no stage 'zz'; stages: 0 (x)"),
        (["-i", "r/app"], "FROM a AS x\nRUNN y\n", 1, "castage: Dockerfile:2: unknown instruction: RUNN"),
        (["-i", "r/app:v2"], "FROM a AS x\n", 2, "castage: --image 'r/app:v2': give a repository without a tag"),
        (["-i", "R/app"], "FROM a AS x\n", 2, "castage: --image: invalid image reference 'R/app': must be lower"),
        (["-i", "r/app", "--mode", "kaniko"], "FROM a AS x\n", 2, "castage: Invalid value for '--mode'"),
        (["-f", "Dockerfile"], "FROM a AS x\n", 2, "castage: Missing option '-i' / '--image'"),
        (["-i", "r/app", "-p", "-"], "FROM a AS x\n", 2, "castage: --context -: a context read from stdin"),
        (
            ["-i", "r/app", "--mode", "buildx", "--branch", "main", "--final-tag", "v1-main"],
            "FROM busybox AS v1\nFROM v1\n",
            2,
            "castage: stage v1 (line 1) and the unnamed final stage v1-main (line 2) would both write r/app:v1-main on",
        ),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    args: list[str],
    dockerfile: str | None,
    code: int,
    error: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    if dockerfile is not None:
        (tmp_path / "Dockerfile").write_text(dockerfile)
    got_code, out, err = castage(args, capsys)
    assert got_code == code
    assert out == ""
    assert err.startswith(error) and err.count("\n") == 1, err


def test_the_readme_shows_what_castage_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (REPO / "packages" / "castage" / "README.md").read_text()
    monkeypatch.chdir(REPO)
    shown = 0
    for block in readme.split("```console\n")[1:]:
        block = textwrap.dedent(block.split("```")[0].rstrip(" "))
        for command in block.split("$ castage ")[1:]:
            args_line, _, expected = command.partition("\n")
            code, out, err = castage(args_line.split(), capsys)
            assert (code == 0) == (err == ""), args_line
            if "\n...\n" in f"\n{expected}":  # an excerpt: its lines in order
                lines = iter((out + err).splitlines())
                assert all(line in lines for line in expected.splitlines() if line != "..."), args_line
            else:
                assert out + err == expected, args_line
            shown += 1
    assert shown == 6


def test_the_readme_shows_the_installed_scripts_help() -> None:
    """The README's help block is what ``castage --help`` prints at its width (it had drifted from the options)."""
    readme = (REPO / "packages" / "castage" / "README.md").read_text()
    shown = readme.split("```\n$ castage --help\n", 1)[1].split("```", 1)[0]
    env = {**os.environ, "COLUMNS": "118", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "castage"), "--help"], capture_output=True, text=True, env=env, check=True
    )
    assert "\n".join(line.rstrip() for line in done.stdout.splitlines()).strip("\n") + "\n" == shown


def test_output_file_is_an_executable_script_written_atomically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM alpine AS app\n")
    os.umask(0o022)
    code, out, err = castage(["-i", "r/app", "--push", "-o", "ci.sh"], capsys)
    assert (code, out, err) == (0, "", "")
    script = tmp_path / "ci.sh"
    assert script.stat().st_mode & 0o777 == 0o755
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "ci.sh"], "no temp file left behind"
    code, out, err = castage(["-i", "r/app", "--mode", "bake", "-o", "docker-bake.hcl"], capsys)
    assert code == 0 and (tmp_path / "docker-bake.hcl").stat().st_mode & 0o777 == 0o644
    # A failure writes nothing: the script already there stays as it was.
    before = script.read_bytes()
    (tmp_path / "Dockerfile").write_text("FRM alpine\n")
    code, out, err = castage(["-i", "r/app", "-o", "ci.sh"], capsys)
    assert code == 1 and script.read_bytes() == before


def test_a_script_that_caches_nothing_for_the_next_runner_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM alpine AS app\n")
    code, out, err = castage(["-i", "r/app"], capsys)
    assert code == 0 and out.startswith("#!/usr/bin/env bash\n")
    assert err == (
        "castage: warning: nothing is cached for the next runner: legacy mode keeps each stage's cache in its image, "
        "and without --push the images stay on this machine\n"
    )
    for args in (["--push"], ["--mode", "buildx"], ["--mode", "gha"], ["--mode", "bake"], ["--mode", "bake-gha"]):
        assert castage(["-i", "r/app", *args], capsys)[2] == "", args


def test_dockerfile_positional_check_and_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.Dockerfile").write_text("FROM alpine AS app\n")
    code, out, err = castage(["-i", "r/app", "--push", "app.Dockerfile", "-o", "ci.sh"], capsys)
    assert (code, out, err) == (0, "", "")
    assert "-f app.Dockerfile" in (tmp_path / "ci.sh").read_text()  # given: passed on to docker build, as -f is
    assert castage(["-i", "r/app", "--push", "-f", "app.Dockerfile", "-o", "ci.sh", "--check"], capsys) == (0, "", "")
    code, out, err = castage(
        ["-i", "r/app", "--push", "--mode", "buildx", "app.Dockerfile", "-o", "ci.sh", "--check"], capsys
    )
    assert (code, out, err) == (1, "", "castage: ci.sh: would change\n")
    code, out, _ = castage(
        ["-i", "r/app", "--push", "--mode", "buildx", "app.Dockerfile", "-o", "ci.sh", "--diff"], capsys
    )
    assert code == 0 and out.startswith("--- a/ci.sh\n+++ b/ci.sh\n") and "+# Generated by castage" in out
    assert castage(["-i", "r/app", "a", "-f", "b"], capsys) == (
        2,
        "",
        "castage: two Dockerfiles given: 'a' and -f 'b'\n",
    )


def test_a_path_with_a_newline_cannot_end_a_comment_and_start_a_command(tmp_path: Path) -> None:
    dockerfile = tmp_path / "evil\necho PWNED\n#"
    dockerfile.write_text("FROM alpine\nRUN echo a\nFROM alpine AS b\nCOPY --from=0 /x /x\n")
    proc = subprocess.run([CASTAGE, "-i", "reg/x", "-f", str(dockerfile), "--push"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    comments = [line for line in proc.stdout.splitlines() if line.startswith("# The builds below read a copy of")]
    assert len(comments) == 1 and "evil\\x0aecho PWNED\\x0a#" in comments[0]
    # every other place the path appears is inside single quotes: bash reads it as data
    traced = subprocess.run(["bash", "-n"], input=proc.stdout, capture_output=True, text=True)
    assert traced.returncode == 0, traced.stderr
