"""The end-to-end scenario shared by castage's system test and bench/bench_castage.py.

A 3-stage Dockerfile (a slow dependency stage, a build stage, a slim runtime stage) in a context directory whose name
holds a space and a ``$``. Each approach is a bash script run against the private daemon and registry, cold (empty
registry) and then again after the daemon has been emptied, as on a fresh CI machine:

- castage: the legacy script castage prints, with ``--push``;
- original: what CI did before (and what the Go original's users got): only the final image is pulled, used as
  ``--cache-from`` and pushed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from castage.generate import generate

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


@dataclass(frozen=True)
class ScriptRun:
    """One run of an approach's script: wall time, its output, and the steps of each ``docker build`` in it."""

    seconds: float
    output: str
    builds: list[list[Step]]

    def steps(self) -> list[Step]:
        return [s for b in self.builds for s in b]


def make_context(workdir: Path) -> Path:
    """The build context (``workdir/CONTEXT``) with its Dockerfile and one source file."""
    context = workdir / CONTEXT
    (context / "src").mkdir(parents=True)
    (context / "src" / "main.txt").write_text("main\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    return context


def castage_script(image: str, base: str) -> str:
    """What ``castage -i IMAGE --push --build-arg BASE=... -f 'CONTEXT/Dockerfile' -p CONTEXT`` prints."""
    return generate(
        DOCKERFILE,
        image=image,
        path=f"{CONTEXT}/Dockerfile",
        file_given=True,
        context=CONTEXT,
        build_args=[f"BASE={base}"],
        push=True,
    ).text


def original_script(image: str, base: str) -> str:
    """The approach castage replaces: only the final image is pulled, used as cache and pushed."""
    final = shlex.quote(f"{image}:latest")
    return (
        "set -euo pipefail\n"
        f"docker pull {final} || true\n"
        f"docker build --cache-from {final} -t {final} --build-arg {shlex.quote('BASE=' + base)} "
        f"-f {shlex.quote(CONTEXT + '/Dockerfile')} {shlex.quote(CONTEXT)}\n"
        f"docker push {final}\n"
    )


def run_script(script: str, workdir: Path, env: Mapping[str, str]) -> ScriptRun:
    """Run ``script`` with bash in ``workdir`` (the context's parent); fail with its output if it fails."""
    path = workdir / f"ci-{time.monotonic_ns()}.sh"
    path.write_text(script)
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", str(path)], cwd=workdir, env=dict(env), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-4000:]
    return ScriptRun(seconds, proc.stdout, parse_builds(proc.stdout))


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
