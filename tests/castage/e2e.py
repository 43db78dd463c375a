"""The end-to-end scenarios shared by castage's system tests and bench/bench_castage.py.

A 3-stage Dockerfile (a slow dependency stage, a build stage, a slim runtime stage) in a context directory whose name
holds a space and a ``$``. Each approach is a bash script run against the private daemon and registry, cold (empty
registry) and then again after the daemon has been emptied, as on a fresh CI machine:

- castage: the legacy script castage prints, with ``--push``;
- original: what CI did before (and what the Go original's users got): only the final image is pulled, used as
  ``--cache-from`` and pushed.

On BuildKit, :func:`run_on_buildkit` runs a script as castage prints it, with ``--network none`` added to each
``docker build`` (a bash function in front of the real client: the harness daemon has no bridge network), and reads
which steps each build executed from BuildKit's plain progress output.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from castage.generate import generate
from tests.system.buildkit import Step as BuildKitStep
from tests.system.buildkit import parse_steps

CONTEXT = "app ctx $HOME"
SLOW_STEP = "RUN sleep 3 && mkdir /deps && echo dep > /deps/lib.txt"
DOCKERFILE = f"""\
ARG BASE=busybox

# The slow dependency stage (a toolchain or package install in real life).
FROM ${{BASE}} AS deps
{SLOW_STEP}

FROM deps AS build
COPY src/ /src/
RUN cat /deps/lib.txt /src/main.txt > /app.txt

FROM ${{BASE}} AS runtime
COPY --from=build /app.txt /app.txt
CMD ["cat", "/app.txt"]
"""

_BUILD_START = "Sending build context to Docker daemon"
_STEP = re.compile(r"^Step \d+/\d+ : (.*)$", re.MULTILINE)
_CACHED = re.compile(r"^ ---> Using cache$", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    instruction: str
    cached: bool


S = TypeVar("S")


@dataclass(frozen=True)
class ScriptRun(Generic[S]):
    """One run of an approach's script: wall time, its output, and the steps of each ``docker build`` in it (classic
    builder: :class:`Step`; BuildKit: :class:`tests.system.buildkit.Step`)."""

    seconds: float
    output: str
    builds: list[list[S]]

    def steps(self) -> list[S]:
        return [s for b in self.builds for s in b]


def make_context(workdir: Path) -> Path:
    """The build context (``workdir/CONTEXT``) with its Dockerfile and one source file."""
    context = workdir / CONTEXT
    (context / "src").mkdir(parents=True)
    (context / "src" / "main.txt").write_text("main\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / BUILDER_THEN_FINAL_FILE).write_text(BUILDER_THEN_FINAL)
    return context


def castage_script(image: str, base: str, file: str = "Dockerfile") -> str:
    """What ``castage -i IMAGE --push --build-arg BASE=... -f 'CONTEXT/FILE' -p CONTEXT`` prints (``FILE``:
    ``Dockerfile``, the 3-stage file, or :data:`BUILDER_THEN_FINAL_FILE`)."""
    dockerfile = BUILDER_THEN_FINAL if file == BUILDER_THEN_FINAL_FILE else DOCKERFILE
    return generate(
        dockerfile,
        image=image,
        path=f"{CONTEXT}/{file}",
        file_given=True,
        context=CONTEXT,
        build_args=[f"BASE={base}"],
        push=True,
    ).text


def original_script(image: str, base: str, dockerfile: str = "Dockerfile", inline_cache: bool = False) -> str:
    """The approach castage replaces: only the final image is pulled, used as cache and pushed (on BuildKit the
    image must carry its cache: ``inline_cache``)."""
    final = shlex.quote(f"{image}:latest")
    inline = " --build-arg BUILDKIT_INLINE_CACHE=1" if inline_cache else ""
    return (
        "set -euo pipefail\n"
        "set -x\n"
        f"docker pull {final} || true\n"
        f"docker build --cache-from {final} -t {final} --build-arg {shlex.quote('BASE=' + base)}{inline} "
        f"-f {shlex.quote(CONTEXT + '/' + dockerfile)} {shlex.quote(CONTEXT)}\n"
        f"docker push {final}\n"
    )


# The most common layout on BuildKit: the slow work in a named builder, the image users ship an unnamed last stage.
BUILDER_THEN_FINAL = f"""\
ARG BASE=busybox
FROM ${{BASE}} AS builder
{SLOW_STEP}
COPY src/ /src/
RUN cat /deps/lib.txt /src/main.txt > /app.txt

FROM ${{BASE}}
COPY --from=builder /app.txt /app.txt
CMD ["cat", "/app.txt"]
"""
BUILDER_THEN_FINAL_FILE = "Dockerfile.common"


def run_script(script: str, workdir: Path, env: Mapping[str, str]) -> ScriptRun[Step]:
    """Run ``script`` with bash in ``workdir`` (the context's parent); fail with its output if it fails."""
    seconds, output = _bash(script, workdir, env)
    return ScriptRun(seconds, output, parse_builds(output))


def _bash(script: str, workdir: Path, env: Mapping[str, str], runner: str | None = None) -> tuple[float, str]:
    """Run ``script`` with bash in ``workdir`` (through ``runner``, a bash snippet that sources ``$1``, if given):
    its wall time and output (stdout and stderr, in order); fail with the output if it fails."""
    path = workdir / f"ci-{time.monotonic_ns()}.sh"
    path.write_text(script)
    argv = ["bash", str(path)] if runner is None else ["bash", "-c", runner, "castage-ci", str(path)]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=workdir, env=dict(env), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-4000:]
    return seconds, proc.stdout


def parse_builds(output: str) -> list[list[Step]]:
    """The steps of each classic-builder build in ``output``, each with whether it said ``Using cache``."""
    builds = []
    for chunk in output.split(_BUILD_START)[1:]:
        steps = []
        matches = list(_STEP.finditer(chunk))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(chunk)
            steps.append(Step(m.group(1), bool(_CACHED.search(chunk, m.end(), end))))
        builds.append(steps)
    return builds


BUILDKIT_RUNNER = r"""
docker() {
    if [[ "$1" == build ]]; then
        shift
        command docker build --network none "$@"
    else
        command docker "$@"
    fi
}
source "$1"
"""


def run_on_buildkit(script: str, workdir: Path, env: Mapping[str, str]) -> ScriptRun[BuildKitStep]:
    """Run ``script`` with bash in ``workdir`` (``env``: BuildKit's); fail with its output if it fails."""
    seconds, output = _bash(script, workdir, {**env, "BUILDKIT_PROGRESS": "plain"}, BUILDKIT_RUNNER)
    # set -x prints each command before it runs (a + per level of nesting): one chunk of output per build.
    chunks = re.split(r"^\++ docker build ", output, flags=re.MULTILINE)[1:]
    return ScriptRun(seconds, output, [parse_steps(chunk) for chunk in chunks])
