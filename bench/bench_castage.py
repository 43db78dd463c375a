"""castage side by side with the approach it replaces (only the final image pushed and used as --cache-from).

The scenarios of tests/castage/e2e.py on a private dockerd and docker-registry: a 3-stage Dockerfile whose dependency
stage takes 3 s (classic builder), and a named builder (3 s) + unnamed final stage (BuildKit). Each approach runs
cold (empty registry), then on an emptied daemon as a fresh CI machine would.
Also castage's own run time (start-up + parse + script) on the example Dockerfile.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.castage.e2e import (  # noqa: E402
    BUILDER_THEN_FINAL_FILE,
    CONTEXT,
    SLOW_STEP,
    castage_script,
    make_context,
    original_script,
    run_on_buildkit,
    run_script,
)
from tests.system.docker_fixtures import BuildKit, Dockerd, Registry, base_image  # noqa: E402

CASTAGE_BK = "castage (every stage, the unnamed final too)"
ORIGINAL_BK = "original (final image only, inline cache)"


def castage_seconds(dockerfile: Path, *flags: str, runs: int = 5) -> float:
    """Best wall time of ``castage -i r/app -f DOCKERFILE FLAGS``."""
    binary = Path(sys.executable).parent / "castage"
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([binary, "-i", "r/app", "-f", dockerfile, *flags], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def many_stages(path: Path, count: int) -> Path:
    """A Dockerfile of ``count`` stages, every other one unnamed, each copying from the one before."""
    lines = ["FROM alpine AS s0"]
    for i in range(1, count):
        lines.append(f"FROM s{i - 1} AS s{i}" if i % 2 else "FROM alpine")
        lines.append(f"COPY --from={i - 1} / /x{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    example = castage_seconds(REPO / "examples/castage/Dockerfile")
    print(f"castage on examples/castage/Dockerfile: {example * 1000:.0f} ms wall (best of 5)")
    with tempfile.TemporaryDirectory() as tmp:
        big = castage_seconds(many_stages(Path(tmp) / "Dockerfile", 400), "--mode", "buildx", runs=3)
    print(f"castage on a 400-stage chain (buildx mode): {big * 1000:.0f} ms wall (best of 3)")
    workdir = Path(tempfile.mkdtemp(prefix="bi-bench-castage-", dir="/tmp"))
    daemon = Dockerd(workdir / "d", base_image())
    registry = Registry(workdir / "r")
    (workdir / "r").mkdir()
    try:
        daemon.start()
        registry.start()
        make_context(workdir)
        image = f"{registry.host}/bench/{uuid.uuid4().hex[:8]}"
        base = daemon.base.tag
        times: dict[str, tuple[float, float]] = {}
        for name, script in (
            ("castage (every stage)", castage_script(image, base)),
            ("original (final image only)", original_script(image + "-original", base)),
        ):
            daemon.prune()
            cold = run_script(script, workdir, daemon.env).seconds
            daemon.prune()
            cached = run_script(script, workdir, daemon.env).seconds
            times[name] = (cold, cached)
        buildkit = BuildKit(daemon)
        source = workdir / CONTEXT / "src" / "main.txt"
        bk: dict[str, list[tuple[float, bool]]] = {}  # approach -> (seconds, slow step ran) per run
        for name, script in (
            (CASTAGE_BK, castage_script(image + "-bk", base, BUILDER_THEN_FINAL_FILE)),
            (ORIGINAL_BK, original_script(image + "-bk-original", base, BUILDER_THEN_FINAL_FILE, inline_cache=True)),
        ):
            runs = []
            for change in (None, None, "main v2\n"):  # cold; fresh runner; fresh runner after a source change
                if change is not None:
                    source.write_text(change)
                buildkit.prune()
                run = run_on_buildkit(script, workdir, buildkit.env)
                runs.append((run.seconds, any(s.executed and s.instruction == SLOW_STEP for s in run.steps())))
            source.write_text("main\n")
            bk[name] = runs
    finally:
        registry.stop()
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{'CI build of a 3-stage Dockerfile (3 s dependency stage)':<58} {'cold':>7} {'fresh CI':>9} {'ratio':>6}")
    for name, (cold, cached) in times.items():
        print(f"{name:<58} {cold:>6.1f}s {cached:>8.1f}s {cached / cold:>6.2f}")
    castage_cached = times["castage (every stage)"][1]
    original_cached = times["original (final image only)"][1]
    print(f"fresh CI machine: castage takes {castage_cached / original_cached:.2f}x the original approach's time")

    print("\nBuildKit, named builder (3 s step, then COPY src/) + unnamed final stage; (slow) = the 3 s step ran")
    print(f"{'':<46} {'cold':>9} {'fresh CI':>10} {'fresh CI, src/ changed':>24}")
    for name, runs in bk.items():
        cells = [f"{t:.1f}s{' (slow)' if slow else ''}" for t, slow in runs]
        print(f"{name:<46} {cells[0]:>9} {cells[1]:>10} {cells[2]:>24}")
    ratio = bk[CASTAGE_BK][2][0] / bk[ORIGINAL_BK][2][0]
    print(f"fresh CI machine after a source change, BuildKit: castage takes {ratio:.2f}x the original approach's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
