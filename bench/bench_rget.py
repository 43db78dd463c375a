"""rget side by side with aria2c and axel (and curl, rget.sh) on the harness's servers, in one run.

Sections (the targets of issue 14):

1. start-up: ``python -c pass``, the imports a download needs, and a 1-byte download (rget, curl), as their own line
2. 16 MiB through the shaper (40 ms RTT, 8 MiB/s per connection): latency and start-up dominate; the same behind
   a redirect (a release URL's 302 to its CDN, each host behind a shaper of its own)
3. uniform caps: 256 MiB through the shaper (40 ms RTT, 8 MiB/s per connection) at -P 4, 8, 16
4. stragglers: the same, one connection in four at an eighth of the cap
5. ``-o -`` at -P 16 from nginx ``limit_rate 10m``: MiB/s against the ideal and peak RSS, the reader ``sha256sum``
   and a reader that sleeps (backpressure)
6. ``-X`` of a 256 MiB tar.gz: against the download alone at the same -P plus ``tar xzf`` of the file

Wall time includes each tool's start-up. One run per cell for the 256 MiB transfers (median of 3 for 16 MiB); the
machine is shared, so the ratios of one run are what counts. Run: ``make bench TOOLS=rget``.
"""

from __future__ import annotations

import os
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
from tests.system.web_fixtures import start_redirector, start_shaper  # noqa: E402

MIB = 1024 * 1024
TIME = shutil.which("time") or "/usr/bin/time"  # GNU time (Debian package "time")
RTT = 0.04
CAP_MIB = 8


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float


def measure(argv: list[str], out: Path, size: int, env: dict[str, str] | None = None, shell: bool = False) -> Run:
    """Run once under GNU time: wall clock, CPU (user+sys) and peak RSS of the biggest process."""
    report = out.parent.parent / "time.txt"
    t0 = time.monotonic()
    cmd = [TIME, "-f", "%U %S %M", "-o", str(report), *(["sh", "-c", argv[0]] if shell else argv)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    got = out.stat().st_size if out.exists() else -1
    if proc.returncode != 0 or (size >= 0 and got != size):
        raise SystemExit(f"bench_rget: {argv[0][:80]} failed ({got} bytes): {proc.stderr[-500:]}")
    for leftover in out.parent.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    user, system, rss_kb = report.read_text().split()[-3:]
    return Run(wall, float(user) + float(system), int(rss_kb) / 1024)


def median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, k) for r in runs) for k in ("wall", "cpu", "rss_mb")))


def commands(url: str, n: int, out: Path, busybox: Path) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    return {
        "rget": ([str(RGET), "-q", "-P", str(n), url, "-o", str(out)], None),
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
                out.name,
                url,
            ],
            None,
        ),
        "axel": (["axel", "-q", "-n", str(n), "-o", str(out), url], None),
        "curl": (["curl", "-sS", "-o", str(out), url], None),
    }


def compile_bytecode() -> None:
    """Byte-compile rget and its dependencies, as ``pip install`` does in a build image."""
    import importlib.util

    dirs = []
    for name in ("rget", "requests", "urllib3", "idna", "certifi", "charset_normalizer", "rich"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    subprocess.run([sys.executable, "-m", "compileall", "-q", *dirs], check=True)


def startup(tiny_url: str, out: Path) -> None:
    """Python and the imports a download needs, and a whole download of a 1-byte file (no shaper): the fixed cost."""

    def wall(argv: list[str]) -> float:
        runs = []
        for _ in range(5):
            t0 = time.monotonic()
            # an empty working directory: `python -c` puts it first on sys.path (the repository's root costs ~0.2 s)
            subprocess.run(argv, check=True, capture_output=True, cwd=out.parent)
            runs.append(time.monotonic() - t0)
            out.unlink(missing_ok=True)
        return statistics.median(runs)

    bare = wall([sys.executable, "-c", "pass"])
    imports = wall([sys.executable, "-c", "import rget.cli, rget.download, requests"])
    version = wall([str(RGET), "-V"])
    tiny = wall([str(RGET), "-q", tiny_url, "-o", str(out)])
    curl = wall(["curl", "-sS", tiny_url, "-o", str(out)])
    print(
        f"\nrget start-up (median of 5): python -c pass {bare * 1000:.0f} ms; the imports of a download "
        f"(rget.cli, rget.download, requests) {imports * 1000:.0f} ms; rget -V {version * 1000:.0f} ms; "
        f"a 1-byte download from nginx: rget {tiny * 1000:.0f} ms, curl {curl * 1000:.0f} ms"
    )


def side_by_side(title: str, url: str, size: int, ns: tuple[int, ...], out: Path, busybox: Path, repeat: int) -> None:
    print(f"\n{title}")
    print(f"{'N':>3}{'tool':>8}{'wall s':>9}{'MiB/s':>8}{'CPU s':>8}{'RSS MB':>8}{'rget/aria2c':>13}{'rget/axel':>11}")
    for n in ns:
        results = {}
        for tool in ("aria2c", "axel", "rget"):
            argv, env = commands(url, n, out, busybox)[tool]
            results[tool] = median([measure(argv, out, size, env) for _ in range(repeat)])
        for tool, r in results.items():
            extra = ""
            if tool == "rget":
                extra = f"{results['aria2c'].wall / r.wall:>13.2f}{results['axel'].wall / r.wall:>11.2f}"
            print(f"{n:>3}{tool:>8}{r.wall:>9.2f}{size / MIB / r.wall:>8.1f}{r.cpu:>8.2f}{r.rss_mb:>8.1f}{extra}")
        print(flush=True)


def make_tar_gz(path: Path, size: int) -> None:
    """A release-like tar.gz of ``size`` bytes of incompressible files (gzip -1: the bench is not about gzip)."""
    src = path.parent / "tree"
    (src / "tool").mkdir(parents=True)
    for i in range(size // (8 * MIB)):
        (src / "tool" / f"part{i:03}.bin").write_bytes(os.urandom(8 * MIB))
    subprocess.run(f"tar -C {src} -cf - tool | gzip -1 > {path}", shell=True, check=True)
    shutil.rmtree(src)


def main() -> int:
    missing = [t for t in ("curl", "aria2c", "axel", "busybox", "time", "tar", "sha256sum") if not shutil.which(t)]
    if missing:
        print(f"bench_rget: missing {' '.join(missing)} (make debs)", file=sys.stderr)
        return 1
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="bench-rget-") as tmp_:
        tmp = Path(tmp_)
        www = tmp / "www"
        www.mkdir()
        big, small = 256 * MIB, 16 * MIB
        with open(www / "asset.bin", "wb") as f:
            for _ in range(big // (64 * MIB)):
                f.write(os.urandom(64 * MIB))
        (www / "small.bin").write_bytes(os.urandom(small))
        (www / "tiny.bin").write_bytes(b"x")
        make_tar_gz(www / "tool.tar.gz", big)
        busybox = install_busybox(tmp / "busybox")
        dl = tmp / "dl"
        dl.mkdir()
        out = dl / "asset.bin"
        with start_nginx(tmp / "nginx", root=www, rate="10m") as nginx:
            plain = nginx.ports["plain"]
            startup(nginx.url("plain", "tiny.bin"), out)
            with start_shaper(plain, rtt=RTT, rate=f"{CAP_MIB}m") as port:
                side_by_side(
                    f"16 MiB through the shaper: {RTT * 1000:.0f} ms RTT, {CAP_MIB} MiB/s per connection (median of 3)",
                    f"http://127.0.0.1:{port}/small.bin",
                    small,
                    (4, 8, 16),
                    out,
                    busybox,
                    3,
                )
                with (
                    start_redirector(port) as redirector,
                    start_shaper(redirector, rtt=RTT, rate=f"{CAP_MIB}m") as front,
                ):
                    side_by_side(
                        f"16 MiB behind a redirect: a 302 to another host, each {RTT * 1000:.0f} ms RTT away,"
                        f" {CAP_MIB} MiB/s per connection (median of 3)",
                        f"http://127.0.0.1:{front}/small.bin",
                        small,
                        (4, 16),
                        out,
                        busybox,
                        3,
                    )
                side_by_side(
                    f"uniform: 256 MiB, {RTT * 1000:.0f} ms RTT, {CAP_MIB} MiB/s per connection (one run each)",
                    f"http://127.0.0.1:{port}/asset.bin",
                    big,
                    (4, 8, 16),
                    out,
                    busybox,
                    1,
                )
            with start_shaper(plain, rtt=RTT, rate=f"{CAP_MIB}m", straggle=4, fraction=0.125) as port:
                side_by_side(
                    f"stragglers: 256 MiB, {RTT * 1000:.0f} ms RTT, {CAP_MIB} MiB/s per connection, one connection in"
                    f" four at {CAP_MIB / 8:g} MiB/s (one run each)",
                    f"http://127.0.0.1:{port}/asset.bin",
                    big,
                    (4, 8, 16),
                    out,
                    busybox,
                    1,
                )
            stream(nginx.url("limited", "asset.bin"), big, out)
            extraction(nginx.url("limited", "tool.tar.gz"), www / "tool.tar.gz", out)
    return 0


def stream(url: str, size: int, out: Path) -> None:
    ideal = 16 * 10
    print(f"\n-o - at -P 16 from nginx limit_rate 10m (ideal {ideal} MiB/s), 256 MiB (one run each)")
    print(f"{'reader':<34}{'wall s':>8}{'MiB/s':>8}{'/ideal':>8}{'RSS MB':>8}")
    sink = out.parent / "sum.txt"
    readers = {
        "sha256sum": f"sha256sum > {sink}",
        "cat (a reader that costs no CPU)": f"cat > /dev/null && echo done > {sink}",
        "a sleeping reader (1 MiB per 20 ms)": (
            f'{sys.executable} -c "import sys,time\n'
            'while sys.stdin.buffer.read(1048576): time.sleep(0.02)" && echo done > ' + str(sink)
        ),
    }
    report = out.parent.parent / "time.txt"
    for name, reader in readers.items():
        t0 = time.monotonic()
        cmd = f"{TIME} -f '%U %S %M' -o {report} {RGET} -q -P 16 {url} -o - | {reader}"
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise SystemExit(f"bench_rget: stream to {name} failed: {proc.stderr[-500:]}")
        rss = int(report.read_text().split()[-1]) / 1024
        speed = size / MIB / wall
        print(f"{name:<34}{wall:>8.2f}{speed:>8.1f}{speed / ideal:>8.2f}{rss:>8.1f}", flush=True)
        sink.unlink()


def extraction(url: str, archive: Path, out: Path) -> None:
    size = archive.stat().st_size
    dl = measure([str(RGET), "-q", "-P", "16", url, "-o", str(out)], out, size)
    dest = out.parent / "ref"
    dest.mkdir()
    t0 = time.monotonic()
    subprocess.run(["tar", "xzf", str(archive), "-C", str(dest)], check=True)
    untar = time.monotonic() - t0
    shutil.rmtree(dest)
    x = out.parent / "x"
    ex = measure([str(RGET), "-q", "-P", "16", url, "-X", str(x)], x, -1)
    budget = 1.1 * dl.wall + untar
    print(
        f"\n-X of a {size / MIB:.0f} MiB tar.gz at -P 16 (nginx limit_rate 10m): rget -X {ex.wall:.2f} s"
        f" (RSS {ex.rss_mb:.1f} MB); download alone {dl.wall:.2f} s, tar xzf {untar:.2f} s;"
        f" target <= 1.1 x download + tar = {budget:.2f} s: {ex.wall / budget:.2f} of it"
    )


if __name__ == "__main__":
    raise SystemExit(main())
