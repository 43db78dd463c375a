"""rget vs curl, aria2c and axel on nginx capped at 10 MiB/s per connection (GitHub/S3-like), 512 MiB.

Prints wall time, MiB/s, CPU seconds and peak RSS (median of 3 runs; curl once: it alone takes ~50 s), as ratios
to the ideal (N x 10 MiB/s) and to aria2c at the same N; then the uncapped loopback against curl. For rget also
the transfer alone ("xfer": probe to rename, as ``rget -v`` reports it), since wall time includes ~0.15 s of
Python start-up (importing requests, byte-compiled as pip leaves it) that the C tools do not pay.
Run: ``.venv/bin/python bench/bench_rget.py`` (or ``make bench TOOLS=rget``).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.rget.runners import RGET, RGET_SH  # noqa: E402
from tests.system.http_fixtures import install_busybox, start_nginx  # noqa: E402

MIB = 1024 * 1024
SIZE = 512 * MIB
RATE_MIB = 10
TIME = shutil.which("time") or "/usr/bin/time"  # GNU time (Debian package "time")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    xfer: float = 0.0  # rget only: seconds from its probe to the rename (what -v reports), start-up excluded


def measure(argv: list[str], out: Path, env: dict[str, str] | None = None) -> Run:
    """Run once under GNU time: wall clock, CPU (user+sys, children included) and peak RSS of the biggest process.

    GNU time forks the tool from its own tiny process; wait4 from this Python would add our own high-water mark.
    """
    report = out.parent.parent / "time.txt"
    t0 = time.monotonic()
    proc = subprocess.run([TIME, "-f", "%U %S %M", "-o", str(report), *argv], capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    if proc.returncode != 0 or out.stat().st_size != SIZE:
        raise SystemExit(f"bench_rget: {argv[0]} failed: {proc.stderr[-500:]}")
    for leftover in out.parent.iterdir():
        leftover.unlink()
    user, system, rss_kb = report.read_text().split()[-3:]
    saved = re.search(r"saved .* in ([0-9.]+) s", proc.stderr)
    return Run(wall, float(user) + float(system), int(rss_kb) / 1024, float(saved.group(1)) if saved else 0.0)


def median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, k) for r in runs) for k in ("wall", "cpu", "rss_mb", "xfer")))


def commands(url: str, n: int, out: Path, busybox: Path) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    name = out.name
    return {
        "rget": ([str(RGET), "-v", "-P", str(n), url, "-o", str(out)], None),
        "rget.sh": (
            [str(busybox / "sh"), str(RGET_SH), "-P", str(n), "-u", url, "-o", str(out)],
            {"PATH": str(busybox)},
        ),
        "aria2c": (
            [
                "aria2c",
                "-q",
                f"-x{n}",
                f"-s{n}",
                "--min-split-size=1M",
                "--file-allocation=none",
                "--allow-overwrite=true",
                "--auto-file-renaming=false",
                "-d",
                str(out.parent),
                "-o",
                name,
                url,
            ],
            None,
        ),
        "axel": (["axel", "-q", "-n", str(n), "-o", str(out), url], None),
        "curl": (["curl", "-sS", "-o", str(out), url], None),
    }


def compile_bytecode() -> None:
    """Byte-compile rget and its dependencies, as ``pip install`` does in a build image.

    uv does not compile on install, and with PYTHONDONTWRITEBYTECODE=1 (set here) every run would recompile
    requests & co. from source: 0.1 s more start-up that no real install pays.
    """
    import importlib.util

    dirs = []
    for name in ("rget", "requests", "urllib3", "idna", "certifi", "charset_normalizer", "typer", "shellingham"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    subprocess.run([sys.executable, "-m", "compileall", "-q", *dirs], check=True)


def table(rows: list[tuple[str, int, Run, float | None, float | None]], title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'tool':<10}{'N':>3}{'wall s':>9}{'MiB/s':>9}{'/ideal':>8}{'/aria2c':>9}{'CPU s':>8}{'RSS MB':>8}"
        f"{'xfer MiB/s':>12}{'/ideal':>8}"
    )
    for tool, n, r, ideal, aria in rows:
        speed = SIZE / MIB / r.wall
        ri = f"{speed / ideal:.2f}" if ideal else "-"
        ra = f"{speed / aria:.2f}" if aria else "-"
        xfer = SIZE / MIB / r.xfer if r.xfer else 0.0
        xs = f"{xfer:.1f}" if xfer else "-"
        xi = f"{xfer / ideal:.2f}" if xfer and ideal else "-"
        print(f"{tool:<10}{n:>3}{r.wall:>9.2f}{speed:>9.1f}{ri:>8}{ra:>9}{r.cpu:>8.2f}{r.rss_mb:>8.1f}{xs:>12}{xi:>8}")


def main() -> int:
    missing = [t for t in ("curl", "aria2c", "axel", "busybox", "time") if not shutil.which(t)]
    if missing:
        print(f"bench_rget: missing {' '.join(missing)} (make debs)", file=sys.stderr)
        return 1
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="bench-rget-") as tmp_:
        tmp = Path(tmp_)
        www = tmp / "www"
        www.mkdir()
        with open(www / "asset.bin", "wb") as f:
            for _ in range(SIZE // (64 * MIB)):
                f.write(os.urandom(64 * MIB))
        busybox = install_busybox(tmp / "busybox")
        dl = tmp / "dl"
        dl.mkdir()
        out = dl / "asset.bin"
        with start_nginx(tmp / "nginx", root=www, rate=f"{RATE_MIB}m") as nginx:
            capped = nginx.url("limited", "asset.bin")
            rows: list[tuple[str, int, Run, float | None, float | None]] = []
            for n in (4, 8, 16):
                tools = ["aria2c", "rget", "axel"] + (["rget.sh"] if n == 16 else [])
                results: dict[str, Run] = {}
                for tool in tools:
                    argv, env = commands(capped, n, out, busybox)[tool]
                    results[tool] = median([measure(argv, out, env) for _ in range(3)])
                    print(f"  {tool} -P {n}: {results[tool].wall:.2f} s", file=sys.stderr, flush=True)
                aria = SIZE / MIB / results["aria2c"].wall
                for tool in tools:
                    rows.append((tool, n, results[tool], n * RATE_MIB, aria if tool != "aria2c" else None))
            argv, env = commands(capped, 1, out, busybox)["curl"]
            rows.append(("curl", 1, measure(argv, out, env), RATE_MIB, None))
            table(rows, f"nginx limit_rate {RATE_MIB}m per connection, sendfile_max_chunk 512k, 512 MiB (median of 3)")

            plain = nginx.url("plain", "asset.bin")
            loop: list[tuple[str, int, Run, float | None, float | None]] = []
            for tool, n in (("curl", 1), ("rget", 1), ("rget", 2), ("rget", 4), ("rget", 16)):
                argv, env = commands(plain, n, out, busybox)[tool]
                loop.append((tool, n, median([measure(argv, out, env) for _ in range(3)]), None, None))
            table(loop, "uncapped loopback, 512 MiB (median of 3)")
            curl = SIZE / MIB / loop[0][2].wall
            best = max(SIZE / MIB / r.wall for t, _, r, _, _ in loop if t == "rget")
            best_xfer = max(SIZE / MIB / r.xfer for t, _, r, _, _ in loop if t == "rget" and r.xfer)
            print(f"rget best / curl on loopback: {best / curl:.2f} wall, {best_xfer / curl:.2f} transfer alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
