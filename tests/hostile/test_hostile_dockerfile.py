"""Issue 21, Dockerfile tools: each hostile input through every installed console script is one line and exit 1,
within 2 s of CPU and 200 MB; each limit is met at the limit itself."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.inputs import AT_LIMIT, BAD, ODD, chain
from tests.hostile.runner import Ahead, Run, run

# How each Dockerfile tool reads a Dockerfile at PATH (dignore also needs a directory to keep: `svc`).
TOOLS: dict[str, list[str]] = {
    "targd": ["targd", "PATH"],
    "targd-graph": ["targd", "--graph", "PATH"],
    "targd-json": ["targd", "--json", "PATH"],
    "minid": ["minid", "PATH"],
    "castage": ["castage", "-i", "x", "-f", "PATH"],
    "dignore": ["dignore", "-f", "PATH", "svc"],
}
BASIC = ("targd", "minid", "castage", "dignore")


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("context")
    (root / "svc").mkdir()
    return root


def command(tool: str, path: str) -> tuple[str, list[str]]:
    name, *args = TOOLS[tool]
    return name, [path if a == "PATH" else a for a in args]


# test -> the Dockerfile its run reads: each run gets a directory of its own, so that two can run at once
DOCKERFILES: dict[str, Callable[[str], bytes]] = {
    "test_bad_dockerfile_is_one_line": lambda case: BAD[case][0],
    "test_odd_dockerfile_is_taken": lambda case: ODD[case].encode(),
    "test_dockerfile_at_the_limits": lambda shape: AT_LIMIT[shape].encode(),
}


def _endless(tool: str, source: str, where: Path) -> Run:
    """``TOOL /dev/zero``, or ``yes | TOOL -``."""
    if source == "/dev/zero":
        name, args = command(tool, source)
        return run(name, *args, cwd=where)
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        assert yes.stdout is not None
        name, args = command(tool, "-")
        return run(name, *args, stdin=yes.stdout.fileno(), cwd=where)
    finally:
        yes.kill()
        yes.wait()


def _start(test: str, tool: str, **params: str) -> Run:
    where = RUNS.directory()
    (where / "svc").mkdir()
    if test == "test_endless_inputs_stop_at_the_size_limit":
        return _endless(tool, params["source"], where)
    (where / "Dockerfile").write_bytes(DOCKERFILES[test](*params.values()))
    name, args = command(tool, "Dockerfile")
    return run(name, *args, cwd=where)


RUNS = Ahead(_start)  # started by tests/hostile/conftest.py, checked by the tests below
AHEAD = [*DOCKERFILES, "test_endless_inputs_stop_at_the_size_limit"]


# The inputs go through every tool; the variations on them through targd and minid (the parse is shared).
EVERY_TOOL = {"from-digits", "utf8-in-flag", "utf8-healthcheck", "over-size", "too-many-instructions"}
EVERY_TOOL |= {"unterminated-heredoc", "many-continuations", "control-characters", "long-word"}
BAD_RUNS = [(case, tool) for case in sorted(BAD) for tool in (BASIC if case in EVERY_TOOL else ("targd", "minid"))]


@pytest.mark.parametrize(("case", "tool"), BAD_RUNS)
def test_bad_dockerfile_is_one_line(case: str, tool: str) -> None:
    expected = BAD[case][1]
    name = TOOLS[tool][0]
    line = RUNS.result("test_bad_dockerfile_is_one_line", case=case, tool=tool).check_one_line_error(1)
    assert line.startswith(f"{name}: Dockerfile"), line
    assert expected in line, line
    assert len(line) < 700 and "\x1b" not in line  # messages are cut at 500 characters


@pytest.mark.parametrize("tool", BASIC)
@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_dockerfile_is_taken(case: str, tool: str) -> None:
    result = RUNS.result("test_odd_dockerfile_is_taken", case=case, tool=tool)
    result.check_limits()
    assert "Traceback" not in result.stderr
    assert result.code == 0 or (result.code == 1 and result.stderr.count("\n") == 1), result.stderr[-2000:]


@pytest.mark.parametrize("source", ["/dev/zero", "yes"])
@pytest.mark.parametrize("tool", BASIC)
def test_endless_inputs_stop_at_the_size_limit(tool: str, source: str) -> None:
    result = RUNS.result("test_endless_inputs_stop_at_the_size_limit", tool=tool, source=source)
    shown = "/dev/zero" if source == "/dev/zero" else "<stdin>"
    assert f"{shown}: larger than 1 MiB" in result.check_one_line_error(1)


# Every shape through targd (the parse all tools share), and through each tool the shapes that stress its own code.
AT_LIMIT_RUNS = [
    *((shape, "targd") for shape in sorted(AT_LIMIT)),
    *((shape, "minid") for shape in ("instructions", "labels", "heredoc", "continuation", "words")),
    *((shape, tool) for shape in ("stages", "stages-copying") for tool in ("targd-graph", "targd-json")),
    *((shape, tool) for shape in ("instructions", "stages-copying") for tool in ("castage", "dignore")),
    *((shape, tool) for shape in ("deep-json-continued", "deep-json-many-lines") for tool in BASIC[1:]),
]


@pytest.mark.parametrize(("shape", "tool"), AT_LIMIT_RUNS)
def test_dockerfile_at_the_limits(shape: str, tool: str) -> None:
    result = RUNS.result("test_dockerfile_at_the_limits", shape=shape, tool=tool)
    result.check_limits()
    assert "Traceback" not in result.stderr
    if result.code != 0:  # castage: no named stage / too many for a script; dignore: nothing to keep
        assert result.code == 1 and result.stderr.count("\n") == 1, result.stderr[-2000:]


def test_castage_plans_a_5000_stage_chain_within_its_limit(context: Path) -> None:
    (context / "Dockerfile").write_text(chain(5000))
    line = run("castage", "-i", "x", "-f", "Dockerfile", cwd=context).check_one_line_error(1)
    assert line == "castage: Dockerfile:501: 5000 stages to build, more than castage's limit of 500"
    (context / "Dockerfile").write_text(chain(500))
    # legacy: each build reads every image built before it; buildx: its own cache and its parent's (mode=max).
    for mode, cache_flags in (("legacy", 500 * 501 // 2), ("buildx", 1 + 2 * 499)):
        result = run("castage", "-i", "x", "--mode", mode, "-f", "Dockerfile", cwd=context)
        assert result.code == 0, result.stderr
        result.check_limits()
        assert result.stdout.count(b"--cache-from") == cache_flags
