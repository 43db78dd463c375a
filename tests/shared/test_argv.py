"""dockit.options + dockit.argv + dockit.cli.main: command lines read from one declaration, as click reads them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pytest

from dockit import options as o
from dockit.argv import parse
from dockit.cli import main
from dockit.errors import DockerfileError, UsageError


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Opts:
    dockerfile: str | None = o.dockerfile_argument()
    target: str | None = o.option("-t", "--target", help="Stage.")
    file: str | None = o.file_option(aliases=("--dockerfile",))
    build_args: list[str] = o.build_arg_option()
    quiet: bool = o.option("-q", "--quiet", help="Quiet.", default=False)
    all: bool = o.option("-a", "--all", help="All.", default=False)
    count: int = o.option("-n", "--count", help="How many.", default=3, minimum=1)
    colour: Colour = o.option("--colour", help="Colour.", default=Colour.RED)
    image: str = o.option("-i", "--image", help="Image.", default="", required=True)
    seen: list[str] = field(default_factory=list)  # not an option: the declaration leaves it alone


def test_specs_follow_the_declaration() -> None:
    kinds = {s.dest: (s.names, s.kind) for s in o.specs(Opts)}
    assert kinds == {
        "dockerfile": ((), "value"),
        "target": (("-t", "--target"), "value"),
        "file": (("-f", "--file"), "value"),
        "build_args": (("--build-arg",), "multiple"),
        "quiet": (("-q", "--quiet"), "flag"),
        "all": (("-a", "--all"), "flag"),
        "count": (("-n", "--count"), "int"),
        "colour": (("--colour",), "choice"),
        "image": (("-i", "--image"), "value"),
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["-t", "a", "D"], {"target": "a", "dockerfile": "D"}),
        (["D", "--target=a"], {"target": "a", "dockerfile": "D"}),
        (["-ta", "-t", "b"], {"target": "b"}),  # the last one wins, as in click
        (["-t-x"], {"target": "-x"}),
        (["-t", "-x"], {"target": "-x"}),
        (["-t", "--no-such"], {"target": "--no-such"}),
        (["--target="], {"target": ""}),
        (["--build-arg", "A=1", "--build-arg=B"], {"build_args": ["A=1", "B"]}),
        (["-qa"], {"quiet": True, "all": True}),
        (["-qn5"], {"quiet": True, "count": 5}),
        (["--colour", "blue", "--count=7"], {"colour": Colour.BLUE, "count": 7}),
        (["--dockerfile", "x"], {"file": "x"}),
        (["-", "-t", "-"], {"dockerfile": "-", "target": "-"}),
        (["--", "-t"], {"dockerfile": "-t"}),
    ],
)
def test_plain(argv: list[str], expected: dict[str, object]) -> None:
    assert parse(["-i", "img", *argv], Opts, "tool") == Opts(**expected, image="img")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope"], "No such option: --nope (see 'tool --help')"),
        (["--quite"], "No such option: --quite Did you mean --quiet? (see 'tool --help')"),
        (["-t"], "Option '-t' requires an argument."),
        (["-t", "--quiet"], "Option '-t' requires an argument."),
        (["-t", "-qa"], "Option '-t' requires an argument."),
        (["-t", "--count=3"], "Option '-t' requires an argument."),
        (["--quiet=yes"], "Option '--quiet' does not take a value."),
        (["-n", "x"], "Invalid value for '-n' / '--count': 'x' is not a valid integer."),
        (["-n", "0"], "Invalid value for '-n' / '--count': 0 is not in the range x>=1."),
        (["-n", "-1"], "Invalid value for '-n' / '--count': -1 is not in the range x>=1."),
        (["--colour", "RED"], "Invalid value for '--colour': 'RED' is not one of 'red', 'blue'."),
        (["a", "b", "c"], "Got unexpected extra arguments (b c) (see 'tool --help')"),
    ],
)
def test_mistakes_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse([*argv, "-i", "img"], Opts, "tool")
    assert str(e.value) == message


def test_a_required_option() -> None:
    with pytest.raises(UsageError) as e:
        parse([], Opts, "tool")
    assert str(e.value) == "Missing option '-i' / '--image'. (see 'tool --help')"


def test_variadic_positional_takes_every_word() -> None:
    @dataclass
    class Many:
        dirs: list[str] = o.argument(metavar="DIR...", help="Dirs.", variadic=True)
        quiet: bool = o.option("-q", help="Quiet.", default=False)

    assert parse(["a", "-q", "b", "--", "-c"], Many, "tool") == Many(["a", "b", "-c"], True)


def run_main(argv: list[str], execute: object, capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    with pytest.raises(SystemExit) as e:
        main("tool", "1.2.3", Opts, execute, "Help.", argv)  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_main_runs_the_command_and_returns_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    def execute(opts: Opts) -> int:
        print(opts.target, opts.count)
        return 3

    assert run_main(["-i", "x", "-t", "app"], execute, capsys) == (3, "app 3\n", "")


@pytest.mark.parametrize("argv", [["-V"], ["--version"], ["-t", "x", "--version", "--nope"]])
def test_main_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(argv, print, capsys) == (0, "tool 1.2.3\n", "")


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (DockerfileError("bad", path="Dockerfile", line=3), 1, "tool: Dockerfile:3: bad\n"),
        (UsageError("--a and --b exclude each other"), 2, "tool: --a and --b exclude each other\n"),
        (KeyboardInterrupt(), 130, "tool: interrupted\n"),
    ],
)
def test_main_error_conventions(exc: BaseException, code: int, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    def execute(_: Opts) -> None:
        raise exc

    assert run_main(["-i", "x"], execute, capsys) == (code, "", line)


def test_main_usage_errors_and_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--bogus"], print, capsys) == (2, "", "tool: No such option: --bogus (see 'tool --help')\n")

    def execute(_: Opts) -> None:
        raise DockerfileError("boom")

    with pytest.raises(DockerfileError):
        main("tool", "1", Opts, execute, "Help.", ["-i", "x", "--debug"])
