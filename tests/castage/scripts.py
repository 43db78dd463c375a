"""Helpers for castage's tests: shellcheck a generated script, and run it with bash to see what docker receives.

``run_script`` defines ``docker`` as a bash function that records its arguments, then sources the script: the words
recorded are the words bash itself made of the script's quoting, which is what the real docker would receive. The
function can be told to fail for one stage, to see that a failure fails the script.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.system.docker_fixtures import require

RECORDING_DOCKER = r"""
record() {
    # NUL ends each word (no argument can hold one): the kind, the number of arguments, the arguments.
    local kind=$1
    shift
    printf '%s\0' "$kind" "$#" "$@" >>"$CASTAGE_CALLS"
}
docker() {
    record start "$@"
    if [[ "$1" == buildx || "$1" == build ]]; then
        # A buildx build takes a moment: a script that did not wait for one would go on before it ends.
        [[ "$1" == build ]] || sleep 0.2
        if [[ -n "${CASTAGE_FAIL_TARGET:-}" && " $* " == *" --target $CASTAGE_FAIL_TARGET "* ]]; then
            record failed "$@"
            return 1
        fi
    fi
    record done "$@"
}
source "$1"
"""


def shellcheck(script: str) -> None:
    """Fail the test with shellcheck's report unless the script is clean (every severity, bash)."""
    binary = require("shellcheck")["shellcheck"]
    proc = subprocess.run([binary, "--shell=bash", "-"], input=script, text=True, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@dataclass(frozen=True)
class Run:
    """What a script run did: ``events`` in order, each ``(kind, argv after docker)`` with kind ``start``, ``done``
    or ``failed``; ``returncode`` and ``stderr`` (where ``set -x`` writes)."""

    returncode: int
    events: list[tuple[str, list[str]]]
    stderr: str

    @property
    def calls(self) -> list[list[str]]:
        """The docker commands run, in the order they started."""
        return [argv for kind, argv in self.events if kind == "start"]


def run_script(script: str, cwd: Path, fail_target: str | None = None) -> Run:
    """Run ``script`` with bash in ``cwd`` with the recording ``docker`` function."""
    path = cwd / "castage-run.sh"
    path.write_text(script)
    calls = cwd / "castage-calls"
    calls.write_text("")
    env = {**os.environ, "CASTAGE_CALLS": str(calls), "CASTAGE_FAIL_TARGET": fail_target or ""}
    proc = subprocess.run(
        ["bash", "-c", RECORDING_DOCKER, "castage-test", str(path)],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    words = calls.read_bytes().decode().split("\0")[:-1]
    events = []
    while words:
        kind, count, *words = words
        events.append((kind, words[: int(count)]))
        words = words[int(count) :]
    return Run(proc.returncode, events, proc.stderr)
