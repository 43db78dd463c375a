"""`make bench`: run every bench/bench_*.py in turn (each prints its tool side by side with its anchor)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    only = set(sys.argv[1:])
    failed = []
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode:
            failed.append(name)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
