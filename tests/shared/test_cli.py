"""dockit.cli: atomic output, stdin/stdout, error lines and exit codes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import typer

from dockit.cli import read_bytes, run, write_output
from dockit.errors import DockerfileError, DockitError, UsageError


def test_write_output_replaces_atomically_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("old")
    target.chmod(0o751)
    write_output(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert os.listdir(tmp_path) == ["out"]


def test_write_output_failure_leaves_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out"
    with pytest.raises(DockitError, match="cannot write"):
        write_output(target, "x")
    assert not target.parent.exists()


def test_read_bytes_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DockitError) as e:
        read_bytes(tmp_path / "nope")
    assert str(e.value) == f"{tmp_path / 'nope'}: no such file"


def _app(exc: Exception | None) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def main(name: str = typer.Option("x", "--name")) -> None:
        if exc is not None:
            raise exc
        print(name)

    return app


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (
            DockerfileError("unknown instruction: FORM", path="Dockerfile", line=7),
            1,
            "tool: Dockerfile:7: unknown instruction: FORM",
        ),
        (
            UsageError("--check and --diff exclude each other"),
            2,
            "tool: --check and --diff exclude each other",
        ),
    ],
)
def test_run_turns_errors_into_one_line(
    exc: Exception, code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        run(_app(exc), "tool", [])
    assert e.value.code == code
    assert capsys.readouterr().err == line + "\n"


def test_run_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        run(_app(None), "tool", ["--bogus"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("tool: No such option: --bogus") and err.count("\n") == 1


def test_run_debug_shows_the_traceback() -> None:
    with pytest.raises(DockerfileError):
        run(_app(DockerfileError("boom")), "tool", ["--debug"])


def test_run_ctrl_c_is_one_line_and_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        run(_app(KeyboardInterrupt()), "tool", [])
    assert e.value.code == 130
    assert capsys.readouterr().err == "tool: interrupted\n"


def test_build_args_like_docker_build() -> None:
    from dockit.cli import build_args

    env = {"HOME": "/root", "EMPTY": ""}
    assert build_args(["A=1", "B==2", "C=", "HOME", "EMPTY", "UNSET"], env) == {
        "A": "1",
        "B": "=2",
        "C": "",
        "HOME": "/root",
        "EMPTY": "",
    }
    for bad in ["=x", "A B=1", ""]:
        with pytest.raises(UsageError, match="expected NAME=VALUE or NAME"):
            build_args([bad], env)
