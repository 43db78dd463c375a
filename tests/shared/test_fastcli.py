"""dockit.fastcli: plain command lines are read like click reads them; everything else is left to typer."""

from __future__ import annotations

import pytest

from dockit.errors import DockerfileError, UsageError
from dockit.fastcli import Option, guard, parse_plain

OPTS = [
    Option("target", ("-t", "--target")),
    Option("args", ("--build-arg",), multiple=True),
    Option("list", ("--list",), value=False),
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["-t", "a", "f"], {"target": "a", "file": "f"}),
        (["f", "--target=a"], {"target": "a", "file": "f"}),
        (["-ta", "-t", "b"], {"target": "b"}),  # the last one wins, as in click
        (["-t-x"], {"target": "-x"}),
        (["--target="], {"target": ""}),
        (["--build-arg", "A=1", "--build-arg=B"], {"args": ["A=1", "B"]}),
        (["--list", "-", "-t", "-"], {"list": True, "file": "-", "target": "-"}),
    ],
)
def test_plain(argv: list[str], expected: dict[str, object]) -> None:
    assert parse_plain(argv, OPTS, ["file"]) == expected


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["-h"], ["--debug"], ["-t"], ["-t", "--list"], ["--list=yes"], ["--"], ["a", "b"]],
)
def test_left_to_typer(argv: list[str]) -> None:
    assert parse_plain(argv, OPTS, ["file"]) is None


def test_debug_environment_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKIT_DEBUG", "1")
    assert parse_plain([], OPTS, ["file"]) is None


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (DockerfileError("bad", path="Dockerfile", line=3), 1, "tool: Dockerfile:3: bad\n"),
        (UsageError("--a and --b exclude each other"), 2, "tool: --a and --b exclude each other\n"),
        (KeyboardInterrupt(), 130, "tool: interrupted\n"),
    ],
)
def test_guard_error_conventions(exc: BaseException, code: int, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    def action() -> None:
        raise exc

    with pytest.raises(SystemExit) as e:
        guard("tool", action)
    assert e.value.code == code
    assert capsys.readouterr() == ("", line)


def test_guard_returns_the_action_code() -> None:
    with pytest.raises(SystemExit) as e:
        guard("tool", lambda: 3)
    assert e.value.code == 3
    with pytest.raises(SystemExit) as e:
        guard("tool", lambda: None)
    assert e.value.code == 0
