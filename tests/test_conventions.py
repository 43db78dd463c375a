"""The conventions every tool keeps, run against the six installed console scripts (real processes, real FIFOs,
symlinks, pipes and terminals): -h/--help, -V/--version, -o (stdout, a new file, a FIFO, a symlink, a directory),
--check exit codes, a closed stdout, NO_COLOR, and plain runs that never import typer."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dlayer.archives import archives

__all__ = ["archives"]  # the fixture: dlayer's real image archives (built once per machine)
BIN = Path(sys.executable).parent

DOCKERFILE = """\
FROM busybox AS base
RUN echo one > /one
RUN echo two > /two

FROM base AS app
COPY --from=base /one /app/one
"""


@dataclass(frozen=True)
class Tool:
    """A tool and a plain run of it that writes something to ``-o`` (``args`` gets the test's work directory)."""

    name: str
    args: Callable[[Path], list[str]]
    # --check: "output" compares with the -o file (a generator), "input" with the input (a rewriter), "" none
    check: str = ""
    broken: Callable[[Path], list[str]] | None = None  # a run whose input cannot be read
    same: Callable[[bytes], bytes] = bytes  # what must be the same wherever the output goes

    def __str__(self) -> str:
        return self.name


def _rget_args(work: Path) -> list[str]:
    return ["-q", (work / "url").read_text()]


TOOLS = [
    Tool(
        "targd",
        lambda work: ["-t", "app", str(work / "Dockerfile")],
        check="output",
        broken=lambda work: ["-t", "app", str(work / "missing")],
    ),
    Tool("minid", lambda work: [str(work / "Dockerfile")], check="input", broken=lambda work: [str(work / "missing")]),
    Tool(
        "dignore",
        lambda work: ["-C", str(work), "svc"],
        check="output",
        broken=lambda work: ["-C", str(work / "missing"), "svc"],
        same=lambda data: data.split(b"\n", 1)[1],  # the header's command line names the -o path
    ),
    Tool("dlayer", lambda work: ["-q", (work / "archive").read_text()]),
    Tool(
        "castage",
        lambda work: ["-i", "r/app", "--push", str(work / "Dockerfile")],
        check="output",
        broken=lambda work: ["-i", "r/app", "--push", str(work / "missing")],
    ),
    Tool("rget", _rget_args),
]
DOCKIT_TOOLS = [t for t in TOOLS if t.name != "rget"]


def cases(case: str, tools: list[Tool] = TOOLS) -> list[object]:
    """One parameter per tool: every tool passes every case (rget's -o - and write-through came with issue 14)."""
    return [pytest.param(t, id=t.name) for t in tools]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, archives: dict[str, Path]) -> Path:
    """A directory with what every tool reads: a Dockerfile, a directory for dignore, an image archive for dlayer,
    and a URL for rget on a real nginx."""
    work = tmp_path_factory.mktemp("conventions")
    (work / "archive").write_text(str(archives["oci-gzip"]))
    (work / "Dockerfile").write_text(DOCKERFILE)
    (work / "svc").mkdir()
    (work / "svc" / "app.py").write_text("print('app')\n")
    nginx = request.getfixturevalue("nginx")
    (nginx.root / "conventions.bin").write_bytes(bytes(range(256)) * 64)
    (work / "url").write_text(nginx.url("plain", "conventions.bin"))
    return work


def run(tool: Tool, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(BIN / tool.name), *args], capture_output=True, cwd=cwd, timeout=120, check=False)


def expected_output(tool: Tool, work: Path, tmp_path: Path) -> bytes:
    """What the plain run writes to a new file."""
    out = tmp_path / "expected"
    done = run(tool, *tool.args(work), "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    out.unlink()
    assert data
    return data


@pytest.mark.parametrize("tool", cases("help"))
def test_help(tool: Tool) -> None:
    for flag in ("-h", "--help"):
        done = run(tool, flag)
        assert (done.returncode, done.stderr) == (0, b""), flag
        assert f"Usage: {tool.name} ".encode() in done.stdout and b"--version" in done.stdout


@pytest.mark.parametrize("tool", cases("version"))
def test_version(tool: Tool) -> None:
    from importlib.metadata import version

    for flag in ("-V", "--version"):
        done = run(tool, flag)
        assert (done.returncode, done.stdout, done.stderr) == (0, f"{tool.name} {version(tool.name)}\n".encode(), b"")


@pytest.mark.parametrize("tool", cases("new"))
def test_output_to_a_new_file_leaves_nothing_else(tool: Tool, work: Path, tmp_path: Path) -> None:
    data = expected_output(tool, work, tmp_path)
    out = tmp_path / "sub" / "made"
    out.parent.mkdir()
    done = run(tool, *tool.args(work), "-o", "made", cwd=out.parent)
    assert done.returncode == 0, done.stderr
    assert tool.same(out.read_bytes()) == tool.same(data) and os.listdir(out.parent) == ["made"]


@pytest.mark.parametrize("tool", cases("stdout"))
def test_dash_is_stdout(tool: Tool, work: Path, tmp_path: Path) -> None:
    data = expected_output(tool, work, tmp_path)
    done = run(tool, *tool.args(work), "-o", "-", cwd=tmp_path)
    assert (done.returncode, tool.same(done.stdout)) == (0, tool.same(data)), done.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("tool", cases("fifo"))
def test_output_is_written_through_a_fifo(tool: Tool, work: Path, tmp_path: Path) -> None:
    data = expected_output(tool, work, tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run(tool, *tool.args(work), "-o", str(fifo))
    if reader.is_alive():  # the tool never opened the FIFO: let the reader go
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert [tool.same(g) for g in got] == [tool.same(data)]
    assert fifo.is_fifo() and os.listdir(tmp_path) == ["fifo"]


@pytest.mark.parametrize("tool", cases("symlink"))
def test_output_through_a_symlink_replaces_its_target(tool: Tool, work: Path, tmp_path: Path) -> None:
    data = expected_output(tool, work, tmp_path)
    real = tmp_path / "real" / "file"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    done = run(tool, *tool.args(work), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert tool.same(real.read_bytes()) == tool.same(data) and os.listdir(real.parent) == ["file"]


@pytest.mark.parametrize("tool", cases("directory"))
def test_output_onto_a_directory_is_a_usage_error(tool: Tool, work: Path, tmp_path: Path) -> None:
    (tmp_path / "keep").write_text("keep")
    done = run(tool, *tool.args(work), "-o", str(tmp_path))
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.startswith(f"{tool.name}: ".encode()) and done.stderr.count(b"\n") == 1
    assert b"directory" in done.stderr
    assert os.listdir(tmp_path) == ["keep"]


@pytest.mark.parametrize("tool", cases("check", [t for t in TOOLS if t.check]))
def test_check_exit_codes(tool: Tool, work: Path, tmp_path: Path) -> None:
    """0: nothing would change; 1: something would (nothing written); 2: the input cannot be read."""
    assert tool.broken is not None
    if tool.check == "output":
        out = tmp_path / "out"
        assert run(tool, *tool.args(work), "-o", str(out)).returncode == 0
        clean = [*tool.args(work), "-o", str(out), "--check"]
        (tmp_path / "stale").write_bytes(b"stale\n")
        stale = [*tool.args(work), "-o", str(tmp_path / "stale"), "--check"]
        broken = [*tool.broken(work), "-o", str(out), "--check"]
    else:
        out = tmp_path / "clean"
        assert run(tool, *tool.args(work), "-o", str(out)).returncode == 0
        clean, stale, broken = [str(out), "--check"], [*tool.args(work), "--check"], [*tool.broken(work), "--check"]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for args, code in ((clean, 0), (stale, 1), (broken, 2)):
        done = run(tool, *args)
        assert done.returncode == code, (args, done.stderr)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    if tool.check == "output":
        missing = run(tool, *tool.args(work), "-o", str(tmp_path / "missing"), "--check")
        assert missing.returncode == 1 and not (tmp_path / "missing").exists()


def _closed_stdout(tool: Tool, *args: str, cwd: Path | None = None) -> tuple[int, bytes]:
    """Run with stdout a pipe whose reader has gone before the tool writes a byte."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [str(BIN / tool.name), *args], stdout=write, stderr=subprocess.PIPE, timeout=120, check=False, cwd=cwd
        )
    finally:
        os.close(write)
    return done.returncode, done.stderr


@pytest.mark.parametrize("tool", cases("pipe-help"))
def test_closed_pipe_after_help_is_silent(tool: Tool) -> None:
    code, err = _closed_stdout(tool, "--help")
    assert code in (0, -13, 141) and err == b""  # -13: killed by SIGPIPE, as `yes | head` is


@pytest.mark.parametrize("tool", cases("pipe-run"))
def test_closed_pipe_on_a_run_is_silent(tool: Tool, work: Path, tmp_path: Path) -> None:
    code, err = _closed_stdout(tool, *tool.args(work), "-o", "-", cwd=tmp_path)
    assert code in (0, -13, 141) and err == b""
    assert os.listdir(tmp_path) == []  # '-' is stdout, not a file of that name


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> bytes:
    """``argv`` with stdout and stderr on a pseudo-terminal; what it printed."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(argv, stdout=secondary, stderr=secondary, env=env)
        os.close(secondary)
        chunks = []
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(60) == 0
    finally:
        os.close(primary)
    return b"".join(chunks)


def _terminal_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS", "TERM")}
    return {**env, "TERM": "xterm-256color"}


@pytest.mark.parametrize("tool", cases("no-color"))
def test_no_color(tool: Tool) -> None:
    env = _terminal_env()
    if tool.name != "rget":  # rget prints click's plain help, never coloured
        assert b"\x1b[" in _on_a_terminal([str(BIN / tool.name), "--help"], env)
    plain = _on_a_terminal([str(BIN / tool.name), "--help"], {**env, "NO_COLOR": "1"})
    assert b"Usage" in plain and b"\x1b[" not in plain


@pytest.mark.parametrize("tool", cases("imports", DOCKIT_TOOLS))
def test_plain_runs_never_import_typer(tool: Tool, work: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(BIN / tool.name), *tool.args(work), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert f"{tool.name}.command" in imported or f"{tool.name}.generate" in imported
    assert not imported & {"typer", "rich", "click", "dockit.typer_command"}


# --help and completion of the dockit tools, as the installed scripts give them: typer renders them, with the rich
# modules dockit.typer_command defers (unused by our help) standing in while typer.rich_utils is imported.
HELP_COMMANDS = [[t.name] for t in DOCKIT_TOOLS] + [["dlayer", "diff"]]
# what typer.rich_utils would import for markdown markup and pretty tracebacks, and what importlib.abc would
NOT_ON_THE_HELP_PATH = {"rich.markdown", "rich.traceback", "markdown_it", "pygments", "rich.syntax", "rich.pretty"}
NOT_ON_THE_HELP_PATH |= {"importlib.abc", "importlib.resources", "tempfile"}
# The script run as typer would run it with every module it asks for: rich.markdown and rich.traceback are imported
# first, so no stand-in is made, and typer.rich_utils is checked to hold the real classes afterwards.
WITH_THE_REAL_MODULES = """\
import runpy, sys
import rich.markdown, rich.traceback
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    rich_utils = sys.modules["typer.rich_utils"]
    assert (rich_utils.Markdown, rich_utils.Traceback) == (rich.markdown.Markdown, rich.traceback.Traceback)
"""


def _as_typer_renders_it(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", WITH_THE_REAL_MODULES, *argv]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_is_what_typer_renders_with_the_real_modules(command: list[str]) -> None:
    script = [str(BIN / command[0]), *command[1:], "--help"]
    piped = subprocess.run(script, capture_output=True, check=True)
    reference = subprocess.run(_as_typer_renders_it(script), capture_output=True, check=True)
    assert (piped.stdout, piped.stderr) == (reference.stdout, b"") and b"Usage: " in piped.stdout
    for env in (_terminal_env(), {**_terminal_env(), "NO_COLOR": "1"}):
        coloured = "NO_COLOR" not in env
        seen = _on_a_terminal(script, env)
        assert seen == _on_a_terminal(_as_typer_renders_it(script), env)
        assert (b"\x1b[" in seen) == coloured and b"Usage" in seen


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_never_imports_what_it_does_not_use(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(BIN / command[0]), *command[1:], "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"typer.rich_utils", "rich.table", "rich.columns"} <= imported
    assert not imported & NOT_ON_THE_HELP_PATH


def _long_options(tool: str) -> set[str]:
    from importlib import import_module

    from dockit.options import specs

    options = import_module(f"{tool}.command").Options
    return {name for spec in specs(options) for name in spec.names if name.startswith("--")}


@pytest.mark.parametrize("tool", cases("completion", DOCKIT_TOOLS))
def test_bash_completion_installed_and_asked_for_by_bash(tool: Tool, tmp_path: Path) -> None:
    """--install-completion writes the script bash sources; bash's completion function then asks the tool for the
    words (the _TOOL_COMPLETE request) and offers every long option; none of that loads rich."""
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{BIN}:{os.environ['PATH']}"}
    # '; :' keeps bash from exec-ing the tool, so that bash is its parent: the shell the completion is for
    install = subprocess.run(["bash", "-c", f"{tool.name} --install-completion; :"], env=env, capture_output=True)
    assert install.returncode == 0, install.stderr
    script = tmp_path / ".bash_completions" / f"{tool.name}.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    shown = subprocess.run(["bash", "-c", f"{tool.name} --show-completion; :"], env=env, capture_output=True)
    assert (
        shown.stdout.decode().rstrip() == script.read_text().rstrip()
        and f"_{tool.name.upper()}_COMPLETE" in shown.stdout.decode()
    )
    ask = f"source {script}; COMP_WORDS=({tool.name} --); COMP_CWORD=1; _{tool.name}_completion {tool.name}; "
    ask += 'printf "%s\\n" "${COMPREPLY[@]}"'
    offered = subprocess.run(["bash", "-c", ask], env=env, capture_output=True, text=True, check=True)
    assert _long_options(tool.name) <= set(offered.stdout.split()), offered.stderr
    assert "--version" in offered.stdout.split()
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", str(BIN / tool.name)],
        env={
            **env,
            f"_{tool.name.upper()}_COMPLETE": "complete_bash",
            "COMP_WORDS": f"{tool.name} --",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert traced.stdout.split() == offered.stdout.split()
    assert not {line.split("|")[-1].strip() for line in traced.stderr.splitlines() if "import time:" in line} & {
        "rich",
        "typer.rich_utils",
    }


@pytest.mark.parametrize("tool", cases("completion-zsh", DOCKIT_TOOLS))
def test_zsh_completion_describes_options_as_typer_does_with_the_real_modules(tool: Tool) -> None:
    """zsh's request gets each option with its help, which typer renders through rich (typer.rich_utils)."""
    env = {**os.environ, f"_{tool.name.upper()}_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": f"{tool.name} --"}
    script = [str(BIN / tool.name)]
    done = subprocess.run(script, env=env, capture_output=True, check=True)
    assert done.stdout == subprocess.run(_as_typer_renders_it(script), env=env, capture_output=True, check=True).stdout
    assert _long_options(tool.name) <= {word.decode() for word in re.findall(rb'"(--[\w-]+)":', done.stdout)}
