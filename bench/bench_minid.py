"""minid side by side with its anchor, the Go original (orisano/minid), on the corpus of tests/minid and targd:
layers after each (the original's merge rule as its main.go states it, modelled here because no Go toolchain
reaches this machine), how many of the original's merges change what a step does (by minid's own checks), and
minid's time per file (in process, and a whole process as users run it)."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dockit.dockerfile import Instruction, parse
from dockit.merge import minify
from dockit.merge.shell import analyze

ROOT = Path(__file__).resolve().parent.parent

MINID = str(Path(sys.executable).parent / "minid")
FILES = sorted((ROOT / "tests" / "minid" / "corpus").glob("*.Dockerfile"))
FILES += sorted((ROOT / "tests" / "targd" / "corpus").glob("*.Dockerfile"))
FILES += [ROOT / "examples" / "minid" / "Dockerfile", ROOT / "examples" / "minid" / "Dockerfile.pitfalls"]


def go_groups(insts: list[Instruction]) -> list[list[Instruction]]:
    """orisano/minid: consecutive instructions with the same keyword form a group; COPY/ADD groups split where the
    flags (joined) or the last argument differ; RUN, ENV, LABEL groups become one instruction each."""
    groups: list[list[Instruction]] = []
    for inst in insts:
        prev = groups[-1][-1] if groups else None
        same = prev is not None and prev.keyword == inst.keyword
        if same and inst.keyword in ("COPY", "ADD"):
            assert prev is not None
            same = "".join(prev.flag_list) == "".join(inst.flag_list) and prev.args[-1:] == inst.args[-1:]
        if same and inst.keyword in ("RUN", "ENV", "LABEL", "COPY", "ADD"):
            groups[-1].append(inst)
        else:
            groups.append([inst])
    return groups


def go_breaks(group: list[Instruction]) -> bool:
    """A RUN group the bare ` && ` join changes: exec form, heredoc, different flags, or a command that is not
    an AND-OR list of simple commands without comment (cd/export/set/exit... leak, `;` and `||` regroup)."""
    if len(group) < 2 or group[0].keyword != "RUN":
        return False
    for inst in group:
        if inst.json or inst.heredocs or inst.flag_list != group[0].flag_list:
            return True
        a = analyze(inst.args[0])
        if not a.ok or a.comment is not None or not a.simple:
            return True
        words = {w for w in a.words if w is not None}
        if words & {"cd", "export", "unset", "umask", "set", "exit", "trap", "alias", "source", ".", "eval"}:
            return True
    return False


def measure(cmd: list[str], runs: int = 20) -> tuple[float, float]:
    """Fastest wall time and median CPU time of ``runs`` runs, in ms."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    print(f"{'file':32} {'layers':>6} {'go':>4} {'minid':>5} {'go RUN merges that change the build':>36} {'ms':>6}")
    totals = [0, 0, 0, 0, 0]
    for path in FILES:
        text = path.read_text()
        df = parse(text)
        groups = [g for s in df.stages for g in go_groups(s.instructions)]
        go_layers = sum(1 for g in groups if g[0].keyword in ("RUN", "COPY", "ADD"))
        run_merges = [g for g in groups if g[0].keyword == "RUN" and len(g) > 1]
        broken = sum(go_breaks(g) for g in run_merges)
        start = time.perf_counter()
        for _ in range(20):
            result = minify(text)
        ms = (time.perf_counter() - start) / 20 * 1000
        before = sum(s.before for s in result.stats)
        after = sum(s.after for s in result.stats)
        totals = [a + b for a, b in zip(totals, [before, go_layers, after, broken, len(run_merges)], strict=True)]
        print(f"{path.name:32} {before:6} {go_layers:4} {after:5} {f'{broken} of {len(run_merges)}':>36} {ms:6.2f}")
    before, go_layers, after, broken, merges = totals
    print(f"{'total':32} {before:6} {go_layers:4} {after:5} {f'{broken} of {merges}':>36}")
    print(
        f"layers removed: minid {before - after}, go {before - go_layers} "
        f"(minid/go = {(before - after) / max(1, before - go_layers):.2f}); "
        f"go RUN merges that change the build: {broken}/{merges}"
    )
    wall, cpu = measure([MINID, str(ROOT / "examples" / "minid" / "Dockerfile")])
    base_wall, base_cpu = measure([sys.executable, "-c", "pass"])
    print(
        f"minid process: {wall:.0f} ms wall (fastest), {cpu:.0f} ms CPU; "
        f"python -c pass: {base_wall:.0f} ms / {base_cpu:.0f} ms"
    )
    print("(the Go original starts in ~5 ms; it was not run here: no Go toolchain reaches this machine)")


if __name__ == "__main__":
    main()
