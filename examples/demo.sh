#!/usr/bin/env bash
# Runs every tool that exists on the inputs in examples/ and shows what it prints.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bin=.venv/bin
show() { printf '\n$ %s\n' "$*"; "$@"; }
for script in examples/demo.d/*.sh; do
    [[ -e "$script" ]] || continue
    tool=$(basename "$script" .sh)
    [[ -x "$bin/$tool" ]] || continue
    printf '\n=== %s ===\n' "$tool"
    # demos end with a deliberate mistake (exit 1/2 and its one-line error): that is not the demo failing
    # shellcheck source=/dev/null
    PATH="$PWD/$bin:$PATH" source "$script" || true
done
