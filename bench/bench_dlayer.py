"""dlayer vs dive on the same 1 GB image (bench/dlayer_image.sh builds it once per machine, a few minutes):
as a docker-archive and as a gzip OCI archive, from a file and through a pipe (``cat FILE | tool``, as
``docker save | dlayer`` does). Wall time and peak RSS, median of 3.

Both tools write their JSON report (dive has no other non-interactive mode); dlayer's text report is timed too.

Then where images live (one run each, side by side): from a private Docker daemon, ``dlayer IMAGE`` against
``docker save IMAGE > /dev/null`` (what reading the image costs at all) and ``dive IMAGE`` (``--source docker``);
from a loopback registry holding the gzip OCI image, ``dlayer REF`` against ``skopeo copy docker://REF
oci-archive:/tmp/x.tar`` (just fetching it).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IMAGES = ROOT / ".cache" / "bench-dlayer"
RUNS = 3


def measure(cmd: list[str], piped: Path | None, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system, its workers too) of one run of ``cmd``; with
    ``piped``, fed through ``cat FILE |``."""
    start = time.perf_counter()
    cat = subprocess.Popen(["cat", str(piped)], stdout=subprocess.PIPE) if piped else None
    stdin = cat.stdout if cat else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if cat and cat.stdout:
        cat.stdout.close()  # the tool holds the read end now
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if cat:
        cat.wait()
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err[-500:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def median(cmd: list[str], stdin: Path | None = None) -> tuple[float, float, float]:
    runs = [measure(cmd, stdin) for _ in range(RUNS)]
    walls, rss, cpu = zip(*runs, strict=True)
    return statistics.median(walls), statistics.median(rss), statistics.median(cpu)


def main() -> int:
    if not (IMAGES / "done").exists() or not (IMAGES / "docker-archive-next.tar").exists():
        print("building the bench image (bench/dlayer_image.sh, once per machine)...", flush=True)
        subprocess.run(["bash", str(ROOT / "bench" / "dlayer_image.sh")], check=True)
    dlayer, dive = str(BIN / "dlayer"), str(BIN / "dive")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.json")
        rows = []
        for name in ("docker-archive.tar", "oci-gzip.tar"):
            archive = IMAGES / name
            size = archive.stat().st_size / 1e6
            for how in ("file", "a pipe"):
                src = str(archive) if how == "file" else "-"
                dive_src = str(archive) if how == "file" else "/dev/stdin"
                stdin = None if how == "file" else archive
                d = median([dive, "--source", "docker-archive", dive_src, "-j", out], stdin)
                j = median([dlayer, "-f", src, "-j", out], stdin)
                t = median([dlayer, "-f", src], stdin)
                rows.append((f"{name} ({size:.0f} MB) from {how}", d, j, t))
    print(f"{'archive':40} {'dive':>14} {'dlayer -j':>22} {'dlayer (text)':>22}")
    for label, d, j, t in rows:
        print(
            f"{label:40} {d[0]:6.2f}s {d[1]:5.0f}MB"
            f" {j[0]:6.2f}s {j[0] / d[0]:4.2f}x {j[1]:4.0f}MB"
            f" {t[0]:6.2f}s {t[0] / d[0]:4.2f}x {t[1]:4.0f}MB"
        )
    print(f"median of {RUNS}; ratios are dlayer / dive wall time; MB is peak RSS; a pipe is `cat FILE | tool`")
    explains()
    sources()
    return 0


def explains() -> None:
    """What explaining costs over the plain report (issue 16): the CI path rules, the duplicates, and `dlayer diff`
    of the image and its next release (every layer but the last shared) against reading the larger one; then the
    same image as a gzip OCI archive (every layer shared, none scanned twice) and the next release through a pipe
    (a stream is read whole before its config is known: the sum of two reads)."""
    dlayer = str(BIN / "dlayer")
    archive = str(IMAGES / "docker-archive.tar")
    nxt = str(IMAGES / "docker-archive-next.tar")  # the next release: the last step changed
    other = str(IMAGES / "oci-gzip.tar")  # the same image as a gzip OCI archive: same diff ids
    larger = max((archive, nxt), key=lambda p: Path(p).stat().st_size)
    plain = median([dlayer, "-q", archive])
    larger_read = median([dlayer, "-q", larger])
    oci_read = median([dlayer, "-q", other])
    rows = [
        ("dlayer FILE (the plain report)", plain, plain),
        (
            "dlayer FILE --ci --forbid x3 --max-file-size ...",
            median([dlayer, "-q", archive, "--ci", "--forbid", "**/.git", "--forbid", "**/*.pem", "--forbid",
                    "/root/.cache/**", "--max-file-size", "50MB", "--highest-wasted-percent", "50%"]),
            plain,
        ),
        ("dlayer FILE --duplicates", median([dlayer, "-q", archive, "--duplicates"]), plain),
        ("dlayer NEXT (the larger of FILE and NEXT)", larger_read, larger_read),
        ("dlayer diff FILE NEXT", median([dlayer, "diff", "-q", archive, nxt]), larger_read),
        ("dlayer OCI-FILE (gzip, the same image)", oci_read, oci_read),
        ("dlayer diff FILE OCI-FILE", median([dlayer, "diff", "-q", archive, other]), oci_read),
        ("cat NEXT | dlayer diff FILE -", median([dlayer, "diff", "-q", archive, "-"], Path(nxt)), larger_read),
    ]  # fmt: skip
    print(f"\n{'explaining (1 GB image)':46} {'wall':>8} {'ratio':>6} {'CPU':>7} {'ratio':>6} {'peak RSS':>9}")
    for label, (wall, rss, cpu), (anchor, _, anchor_cpu) in rows:
        print(f"{label:46} {wall:7.2f}s {wall / anchor:5.2f}x {cpu:6.2f}s {cpu / anchor_cpu:5.2f}x {rss:7.0f}MB")
    print(f"median of {RUNS}; ratio: against the plain report; a diff against reading its larger side (NEXT: the")
    print("image's next release, built with the cache, every layer but the last shared); CPU: user + system")


def sources() -> None:
    """The image in a private daemon and in a loopback registry: dlayer beside what fetching it costs anyway."""
    sys.path.insert(0, str(ROOT))
    from tests.system.docker_fixtures import Dockerd, Registry, base_image

    work = Path(tempfile.mkdtemp(prefix="bi-bench-dlayer-", dir="/tmp"))
    daemon = Dockerd(work / "d", base_image(), "overlay2")
    (work / "r").mkdir()
    registry = Registry(work / "r")
    image = "localhost/dlayer-bench:latest"
    try:
        daemon.start()
        daemon.load(IMAGES / "docker-archive.tar")
        registry.start()
        ref = f"{registry.host}/dlayer-bench:gzip"
        skopeo = ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--src-tls-verify=false"]
        subprocess.run([*skopeo, f"oci-archive:{IMAGES / 'oci-gzip.tar'}", f"docker://{ref}"], check=True)
        env = daemon.env
        out = str(work / "out.json")
        fetched = work / "x.tar"
        rows = [
            ("daemon", "docker save IMAGE > /dev/null", measure([daemon.client, "save", image], None, env)),
            ("daemon", "dive IMAGE (--source docker, -j)", measure([str(BIN / "dive"), image, "-j", out], None, env)),
            ("daemon", "dlayer IMAGE", measure([str(BIN / "dlayer"), image, "-q"], None, env)),
            ("daemon", "dlayer IMAGE -j", measure([str(BIN / "dlayer"), image, "-q", "-j", out], None, env)),
            (
                "registry",
                "skopeo copy docker://REF oci-archive:x.tar",
                measure([*skopeo, f"docker://{ref}", f"oci-archive:{fetched}"], None),
            ),
            ("registry", "dlayer REF (-P 4)", measure([str(BIN / "dlayer"), ref, "-q"], None)),
            ("registry", "dlayer REF -P 1", measure([str(BIN / "dlayer"), ref, "-q", "-P", "1"], None)),
        ]
    finally:
        registry.stop()
        daemon.stop()
        shutil.rmtree(work, ignore_errors=True)
    anchors = {"daemon": rows[0][2][0], "registry": rows[4][2][0]}
    print(f"\n{'source':9} {'command':44} {'wall':>8} {'ratio':>6} {'peak RSS':>9}")
    for where, label, (wall, rss, _) in rows:
        print(f"{where:9} {label:44} {wall:7.2f}s {wall / anchors[where]:5.2f}x {rss:7.0f}MB")
    print("one run each; ratio: against `docker save` (daemon) and `skopeo copy` (registry), in the same run")


if __name__ == "__main__":
    raise SystemExit(main())
