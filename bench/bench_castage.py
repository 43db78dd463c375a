"""castage side by side with the approach it replaces (only the final image pushed and used as --cache-from).

The scenario of tests/castage/e2e.py on a private dockerd and docker-registry: a 3-stage Dockerfile whose dependency
stage takes 3 s. Each approach runs cold (empty registry), then on an emptied daemon as a fresh CI machine would.
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

from tests.castage.e2e import castage_script, make_context, original_script, run_script  # noqa: E402
from tests.system.docker_fixtures import Dockerd, Registry, base_image  # noqa: E402


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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
