"""dignore on a generated monorepo (60 services with node_modules, 20 libraries, ~100k files, made once per machine
under .cache/bench-dignore), against docker-py's ``exclude_paths`` as the anchor for the matcher.

Rows, each the median of 3 runs in this process (walk + match, no tar):
- the context walk with the generated .dockerignore (few patterns, most of the tree excluded and skipped);
- the same walk with a typical hand-written root .dockerignore (``**/node_modules``, ``**/*.log``, ...);
- ``dignore --stats`` end to end (a subprocess: start-up, generate, two walks);
- ``dignore --compose`` for 20 services of a compose file (each with a Dockerfile and a go.mod that replaces a library;
  the root .dockerignore is the hand-written one) and ``--compose --check`` once the files are written, against the
  anchor of 20 single-service runs (``dignore svc/sNN lib/lNN -o svc/sNN/Dockerfile.dockerignore``), the way a team
  scripts it without --compose.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from docker.utils.build import exclude_paths

from dockit.build_context import walk_context
from dockit.ignore import PatternMatcher

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / ".cache" / "bench-dignore"
DONE = ROOT / ".cache" / "bench-dignore.done"  # outside the tree: a root file would be kept
COMPOSE_DONE = ROOT / ".cache" / "bench-dignore-compose.done"
SERVICES = 20
RUNS = 3
HAND_WRITTEN = "**/node_modules\n**/*.log\n.git\n**/dist\n!svc/s00/dist/keep.js\n**/__pycache__\n"


def make_tree(root: Path) -> None:
    """60 services (src, tests, node_modules with 1,200 small files, dist, logs), 20 libraries, root files."""
    blob = b"x" * 2000
    for s in range(60):
        svc = root / "svc" / f"s{s:02d}"
        for d, n in (("src", 80), ("tests", 40), ("dist", 20)):
            (svc / d).mkdir(parents=True)
            for i in range(n):
                (svc / d / f"f{i}.js").write_bytes(blob)
        for p in range(40):
            pkg = svc / "node_modules" / f"pkg{p}" / "lib"
            pkg.mkdir(parents=True)
            for i in range(30):
                (pkg / f"m{i}.js").write_bytes(blob[:500])
        (svc / "app.log").write_bytes(blob)
        (svc / ".dockerignore").write_text("node_modules\n*.log\n/dist\n!dist/keep.js\n**/*.tmp\n")
    for lib in range(20):
        libdir = root / "lib" / f"l{lib:02d}"
        libdir.mkdir(parents=True)
        for i in range(50):
            (libdir / f"m{i}.py").write_bytes(blob)
    (root / ".git" / "objects").mkdir(parents=True)
    for i in range(2000):
        (root / ".git" / "objects" / f"o{i}").write_bytes(blob[:100])
    for name in ("package.json", "pnpm-lock.yaml", "go.work", "Makefile"):
        (root / name).write_bytes(blob)
    DONE.write_text("")


def add_compose(root: Path) -> None:
    """20 of the services in a compose file: a Dockerfile and a go.mod each, the hand-written root .dockerignore."""
    lines = ["services:"]
    for s in range(SERVICES):
        svc = root / "svc" / f"s{s:02d}"
        (svc / "Dockerfile").write_text(
            f"FROM busybox AS build\nCOPY svc/s{s:02d}/go.mod /src/\nCOPY lib/l{s:02d} /lib/\n"
            f"FROM busybox\nCOPY --from=build /src /src\nCOPY . /app\n"
        )
        (svc / "go.mod").write_text(f"module example.com/s{s:02d}\n\nreplace example.com/l => ../../lib/l{s:02d}\n")
        lines += [f"  s{s:02d}:", "    build:", "      context: .", f"      dockerfile: svc/s{s:02d}/Dockerfile"]
    (root / "compose.yaml").write_text("\n".join(lines) + "\n")
    (root / ".dockerignore").write_text(HAND_WRITTEN)
    COMPOSE_DONE.write_text("")


def median(fn: Callable[[], object]) -> tuple[float, object]:
    runs = []
    result: object = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def ours(patterns: str) -> set[str]:
    matcher = PatternMatcher.parse(patterns)
    return {e.path for e in walk_context(TREE, matcher) if e.kind != "dir"}


def docker_py(patterns: str) -> set[str]:
    lines = [line.strip() for line in patterns.splitlines()]
    found = exclude_paths(str(TREE), [p for p in lines if p and not p.startswith("#")])
    return {p for p in found if not os.path.isdir(TREE / p) or os.path.islink(TREE / p)}


def main() -> int:
    if not DONE.exists():
        print(f"generating the monorepo under {TREE} (once per machine)...", flush=True)
        make_tree(TREE)
    if not COMPOSE_DONE.exists():
        add_compose(TREE)
    dignore = str(Path(sys.executable).with_name("dignore"))
    generated = subprocess.run(
        [dignore, "-C", str(TREE), "svc/s07", "lib/l03"], capture_output=True, text=True, check=True
    ).stdout
    total = sum(1 for _ in walk_context(TREE))
    print(f"tree: {total} entries; generated .dockerignore: {len(generated.splitlines()) - 1} patterns")
    print(f"{'case':<44} {'docker-py':>10} {'dockit':>10} {'ratio':>7}  files sent")
    for label, patterns in (
        ("walk, dignore's .dockerignore", generated),
        ("walk, hand-written .dockerignore", HAND_WRITTEN),
    ):
        ref_t, ref = median(partial(docker_py, patterns))
        our_t, got = median(partial(ours, patterns))
        assert isinstance(ref, set) and isinstance(got, set)
        # docker-py re-includes .dockerignore (and a root Dockerfile) even where the patterns exclude it
        diff = sorted(got ^ (ref if ".dockerignore" in got else ref - {".dockerignore"}))
        same = "same" if not diff else f"{len(diff)} differ, e.g. {diff[0]}"
        print(f"{label:<44} {ref_t:>9.3f}s {our_t:>9.3f}s {ref_t / our_t:>6.1f}x  {len(got)} ({same})")
    check_t, _ = median(
        lambda: subprocess.run(
            [dignore, "-C", str(TREE), "svc/s07", "lib/l03", "--stats"], capture_output=True, check=True
        )
    )
    check = subprocess.run([dignore, "-C", str(TREE), "svc/s07", "lib/l03", "--stats"], capture_output=True, text=True)
    print(f"{'dignore --stats (whole command)':<44} {'':>10} {check_t:>9.3f}s")
    print(check.stderr, end="")
    compose_rows(dignore)
    print(
        "docker-py checks one parent per pattern (moby's deprecated Matches): with '!svc/s00/dist/keep.js' it walks"
        " into svc/s00/dist and keeps its files, which '**/dist' excludes through their parent in moby."
    )
    return 0


def compose_rows(dignore: str) -> None:
    """--compose for 20 services against 20 single-service runs; then --compose --check (all files current)."""

    def one_by_one() -> None:
        for s in range(SERVICES):
            out = f"svc/s{s:02d}/Dockerfile.dockerignore"
            subprocess.run([dignore, f"svc/s{s:02d}", f"lib/l{s:02d}", "-o", out], cwd=TREE, check=True)

    def compose(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([dignore, "--compose", *extra], cwd=TREE, capture_output=True, text=True, check=True)

    anchor_t, _ = median(one_by_one)
    compose_t, _ = median(compose)
    check_t, _ = median(lambda: compose("--check"))
    print(f"{'case':<44} {'20 runs':>10} {'--compose':>10} {'ratio':>7}  target")
    print(
        f"{'write 20 services Dockerfile.dockerignore':<44} {anchor_t:>9.3f}s {compose_t:>9.3f}s "
        f"{anchor_t / compose_t:>6.1f}x  <= 2 s"
    )
    print(f"{'--compose --check (all current)':<44} {'':>10} {check_t:>9.3f}s {'':>7}  <= 2 s")
    print(compose().stderr.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
