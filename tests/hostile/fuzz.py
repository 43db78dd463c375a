"""``make fuzz``: the property tests' generators run for minutes, each target in its own worker under prlimit.

    .venv/bin/python -m tests.hostile.fuzz [--minutes 10] [--jobs 2] [--memory-mb 4096]

Targets: the in-process entry points of tests/hostile/generators.py (drawn larger than in ``make test``; ``http`` is
rget against drawn servers, see http_cases.py) and ``cli``, which runs generated Dockerfiles, archives and servers
through the installed console scripts (one line, exit 0/1/2, 2 s of CPU, 200 MB; rget to a file and to stdout).
A finding is an exception other than a one-line DockitError, more than 2 s of CPU on one input, or a worker that
dies (MemoryError, a signal). Prints one line per distinct finding and a summary with the
inputs tried per target; exit 1 when anything was found. Each finding's input is kept under .cache/fuzz/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "fuzz"
CPU_PER_INPUT = 2.0
HANG = 30  # seconds of wall time on one input: a hang, whatever the load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("FUZZ_MINUTES", 10)))
    parser.add_argument("--jobs", type=int, default=2)
    # address space, not RSS: the Go runtime inside the parser reserves far more than it touches
    parser.add_argument("--memory-mb", type=int, default=4096, help="address-space limit per worker (prlimit)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _work(args.worker, args.seconds, Path(args.out))
    return _campaign(args.minutes, args.jobs, args.memory_mb)


def _names() -> list[str]:
    from tests.hostile.generators import targets

    return [t.name for t in targets()] + ["cli"]


def _campaign(minutes: float, jobs: int, memory_mb: int) -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    names = _names()
    rounds = max(1, -(-len(names) // jobs))
    share = minutes * 60 / rounds  # every target gets the same wall time, `jobs` of them at once
    print(f"fuzz: {len(names)} targets, {share:.0f} s each, {jobs} at a time, {memory_mb} MB per worker", flush=True)
    counts: dict[str, int] = {}
    findings: dict[str, dict[str, Any]] = {}
    pending = list(names)
    running: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            out = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-", dir=CACHE))
            command = [
                "prlimit",
                f"--as={memory_mb * 1024 * 1024}",
                "--",
                sys.executable,
                "-m",
                "tests.hostile.fuzz",
                "--worker",
                name,
                "--seconds",
                str(share),
                "--out",
                str(out),
            ]
            running.append((name, subprocess.Popen(command, cwd=REPO), out))
        time.sleep(1)
        for item in list(running):
            name, proc, out = item
            if proc.poll() is None:
                continue
            running.remove(item)
            summary = out / "summary.json"
            if summary.exists():
                result = json.loads(summary.read_text())
                counts[name] = result["inputs"]
                for f in result["findings"]:
                    findings.setdefault(f["key"], f)
            else:
                counts[name] = -1
                key = f"{name}: worker died (exit {proc.returncode})"
                findings[key] = {"key": key, "input": str(out / "last-input.bin")}
    for f in findings.values():
        print(f"FINDING {f['key']}  (input: {f['input']})")
    tried = ", ".join(f"{n} {c}" for n, c in counts.items())
    print(f"fuzz: {sum(max(c, 0) for c in counts.values())} inputs ({tried}); {len(findings)} distinct findings")
    return 1 if findings else 0


def _work(name: str, seconds: float, out: Path) -> int:
    from hypothesis import HealthCheck, given, settings

    from tests.hostile.generators import targets

    if name == "cli":
        strategy, check = _cli_target()
    else:
        target = next(t for t in targets(scale=20) if t.name == name)
        strategy, check = target.strategy, target.check
    deadline = time.monotonic() + seconds
    inputs = 0
    findings: dict[str, dict[str, Any]] = {}
    last = out / "last-input.bin"

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"more than {HANG} s on one input")

    signal.signal(signal.SIGALRM, on_alarm)

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(value: Any) -> None:
        nonlocal inputs
        if time.monotonic() > deadline:
            return
        inputs += 1
        raw = value if isinstance(value, bytes) else repr(value).encode("utf-8", "surrogatepass")
        last.write_bytes(raw)
        started = time.process_time()
        signal.alarm(HANG)
        try:
            check(value)
            problem = None
            if time.process_time() - started > CPU_PER_INPUT:
                problem = f"slow: {time.process_time() - started:.1f} s of CPU on one input"
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
            where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
            problem = f"{type(e).__name__}{where}: {str(e)[:160]}"
        finally:
            signal.alarm(0)
        if problem is not None:
            key = f"{name}: " + re.sub(r"\d+", "N", problem)[:200]
            if key not in findings:
                kept = out / f"finding-{len(findings)}.bin"
                kept.write_bytes(raw)
                findings[key] = {"key": key, "input": str(kept)}

    while time.monotonic() < deadline:
        try:
            one()
        except Exception as e:  # the generator or hypothesis itself failed: report it, stop this worker
            key = f"{name}: the fuzzer itself failed: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]}"
            findings.setdefault(key, {"key": key, "input": str(last)})
            break
    (out / "summary.json").write_text(json.dumps({"inputs": inputs, "findings": list(findings.values())}))
    return 0


def _cli_target() -> tuple[Any, Any]:
    """Generated Dockerfiles through the four Dockerfile tools, archives through dlayer and drawn servers through
    rget (to a file or streamed to stdout), as users run them."""
    from hypothesis import strategies as st

    from tests.hostile import http_cases
    from tests.hostile.generators import Finding, dockerfile_bytes, image_archive
    from tests.hostile.runner import run

    work = Path(tempfile.mkdtemp(prefix="fuzz-cli-", dir=CACHE))
    (work / "svc").mkdir()
    tools = {
        "targd": ["targd", "Dockerfile"],
        "minid": ["minid", "Dockerfile"],
        "castage": ["castage", "-i", "x", "-f", "Dockerfile"],
        "dignore": ["dignore", "-f", "Dockerfile", "svc"],
    }
    servers = http_cases.http_case(max_answers=6) | http_cases.http_case(max_answers=6, stream=True)
    names = st.sampled_from([*tools, "dlayer", "rget"])
    strategy = st.tuples(names, dockerfile_bytes(200, 3000), image_archive(), servers)

    def check(case: tuple[str, bytes, bytes, http_cases.HttpCase]) -> None:
        tool, dockerfile, archive, server = case
        if tool == "rget":
            http_cases.check(server, script=True)  # its own limits and properties
            return
        if tool == "dlayer":
            (work / "image.tar").write_bytes(archive)
            name, args = "dlayer", ["image.tar"]
        else:
            (work / "Dockerfile").write_bytes(dockerfile)
            name, *args = tools[tool]
        result = run(name, *args, cwd=work)
        if result.cpu > CPU_PER_INPUT or result.rss > 200 * 1024 * 1024:
            raise Finding(f"{tool}: {result.cpu:.1f} s of CPU, {result.rss >> 20} MiB")
        if "Traceback" in result.stderr or result.code not in (0, 1, 2):
            raise Finding(f"{tool}: exit {result.code}: {result.stderr.strip().splitlines()[-1:]}")
        if result.code != 0 and result.stderr.count("\n") != 1:
            raise Finding(f"{tool}: exit {result.code} with {result.stderr.count(chr(10))} lines on stderr")
        if "\x1b" in result.stderr:
            raise Finding(f"{tool}: a raw control character on stderr")

    return strategy, check


if __name__ == "__main__":
    raise SystemExit(main())
