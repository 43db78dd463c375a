"""targd end to end (a process per run, as users run it) on a typical Dockerfile and on a 60-stage one, side by side
with the interpreter's bare start-up and with what typer alone would cost. Goal: under 120 ms for the typical file."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGD = str(Path(PYTHON).parent / "targd")
TYPICAL = ROOT / "tests" / "targd" / "corpus" / "go-service.Dockerfile"
RUNS = 40


def sixty_stages() -> str:
    """60 stages: a toolchain, 57 components each copying from an earlier one by index, a release and a debug."""
    parts = [
        "# syntax=docker/dockerfile:1\nARG GO_VERSION=1.22\n\nFROM golang:${GO_VERSION} AS toolchain\nRUN go version\n"
    ]
    for i in range(1, 58):
        parts.append(
            f"\n# component {i}\nFROM toolchain{' AS c' + str(i) if i % 3 else ''}\n"
            f"COPY --from={i // 2} /out /deps/\nRUN --mount=type=cache,target=/root/.cache \\\n"
            f"    go build -o /out/c{i} ./c{i}\n"
        )
    parts.append("\nFROM scratch AS release\nCOPY --from=57 /out /app\nCOPY --from=40 /out /app\n")
    parts.append("\nFROM release AS debug\nCOPY --from=busybox:1.36 /bin/busybox /bin/\n")
    return "".join(parts)


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """Median and fastest wall time and median CPU time (user + system) of RUNS runs, in ms, after a warm-up run.

    CPU time is what a loaded machine distorts least; the fastest wall time is the closest to an idle machine.
    """
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls) * 1000, min(walls) * 1000, statistics.median(cpus) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "Dockerfile.60"
        big.write_text(sixty_stages())
        rows = [
            ("python -c pass (the floor)", [PYTHON, "-c", "pass"]),
            ("python -c 'import typer'", [PYTHON, "-c", "import typer"]),
            ("targd -t release typical", [TARGD, "-t", "release", str(TYPICAL)]),
            ("targd -t release 60 stages", [TARGD, "-t", "release", str(big)]),
            ("targd --list 60 stages", [TARGD, "--list", str(big)]),
            ("targd --json 60 stages", [TARGD, "--json", str(big)]),
            ("targd --help (typer path)", [TARGD, "--help"]),
        ]
        results = [(name, *measure(cmd)) for name, cmd in rows]
    floor = results[0]
    print(f"{'command':30} {'wall ms':>8} {'fastest':>8} {'cpu ms':>7} {'x python (wall, cpu)':>21}   ({RUNS} runs)")
    for name, median, fastest, cpu in results:
        print(f"{name:30} {median:8.1f} {fastest:8.1f} {cpu:7.1f} {median / floor[1]:10.2f} {cpu / floor[3]:10.2f}")
    typical = results[2][1]
    print(f"goal: typical file under 120 ms wall: {'met' if typical < 120 else 'MISSED'} ({typical:.0f} ms median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
