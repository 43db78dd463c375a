"""Start-up of every dockit tool, side by side with the interpreter's bare start-up: the plain path (``-V``: the
command line read without typer) and the help path (``--help``: typer renders it). Goal: every ``--help`` under
150 ms wall (fastest run: the closest to an idle machine), plain runs as before.

The commands run in turn, a round at a time, so that a load that comes and goes weighs on all rows alike.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
BIN = Path(PYTHON).parent
TOOLS = ["targd", "minid", "castage", "dignore", "dlayer"]
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
GOAL_MS = 150.0
# as on a user's machine, byte-code is written once and then read: a source edited since `make install` is not
# compiled again at every start (which PYTHONDONTWRITEBYTECODE, set in some shells here, would make it)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> int:
    rows = [("python -c pass (the floor)", [PYTHON, "-c", "pass"])]
    rows += [(f"{tool} -V (plain path)", [str(BIN / tool), "-V"]) for tool in TOOLS]
    helps = [(f"{tool} --help", [str(BIN / tool), "--help"]) for tool in TOOLS]
    helps.append(("dlayer diff --help", [str(BIN / "dlayer"), "diff", "--help"]))
    rows += helps
    walls: dict[str, list[float]] = {name: [] for name, _ in rows}
    cpus: dict[str, list[float]] = {name: [] for name, _ in rows}
    for _, cmd in rows:  # warm-up: byte-code written, files in the page cache
        run_once(cmd)
    for _ in range(RUNS):
        for name, cmd in rows:
            wall, cpu = run_once(cmd)
            walls[name].append(wall * 1000)
            cpus[name].append(cpu * 1000)
    floor_wall, floor_cpu = min(walls[rows[0][0]]), statistics.median(cpus[rows[0][0]])
    load = os.getloadavg()[0]
    print(f"{'command':28} {'fastest':>8} {'median':>8} {'cpu ms':>7} {'x python (fastest, cpu)':>24}")
    print(f"{'':28} {'wall ms':>8} {'wall ms':>8}   ({RUNS} runs each, interleaved; load average {load:.1f})")
    for name, _ in rows:
        fastest, median, cpu = min(walls[name]), statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:28} {fastest:8.1f} {median:8.1f} {cpu:7.1f} {fastest / floor_wall:11.2f} {cpu / floor_cpu:11.2f}")
    slowest = max(helps, key=lambda row: min(walls[row[0]]))[0]
    worst = min(walls[slowest])
    verdict = "met" if worst < GOAL_MS else "MISSED"
    print(
        f"goal: every --help under {GOAL_MS:.0f} ms wall (fastest run): {verdict} (slowest: {slowest}, {worst:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
