#!/usr/bin/env bash
# make dist: a wheel and an sdist of each of the seven distributions in dist/, built from the committed tree (what
# `git archive HEAD` holds: nothing untracked or uncommitted gets in), checked with `twine check --strict`, and each
# sdist built again from itself alone (outside the workspace) into a wheel with the same files as dist/'s.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -z "$(git status --porcelain --untracked-files=no)" ]] \
    || echo "dist: uncommitted changes are not in the build (it builds HEAD $(git rev-parse --short HEAD))" >&2
python3 release/version.py >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/tree"
git archive HEAD | tar -x -C "$work/tree"
(cd "$work/tree" && uv build --quiet --all-packages --out-dir "$work/dist")
.venv/bin/twine check --strict "$work"/dist/*.whl "$work"/dist/*.tar.gz >"$work/twine.log" \
    || { cat "$work/twine.log" >&2; exit 1; }
members() {  # a wheel's file names, sorted (python's zipfile: nothing to install)
    python3 -c 'import sys, zipfile; print("\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))' "$1"
}
mkdir "$work/again"
for sdist in "$work"/dist/*.tar.gz; do
    base=$(basename "$sdist" .tar.gz)
    tar -xzf "$sdist" -C "$work/again"
    (cd "$work/again/$base" && uv build --quiet --wheel --out-dir "$work/again/wheels" .)
    wheel=$(basename "$work"/dist/"$base"-*.whl)
    built=$(members "$work/dist/$wheel")  # an assignment: a failed listing fails the script (set -e)
    again=$(members "$work/again/wheels/$wheel")
    if [[ -z "$built" || "$built" != "$again" ]]; then
        diff <(echo "$built") <(echo "$again") >&2 || true
        echo "dist: $base: the wheel built from its own sdist holds other files than dist/$wheel" >&2
        exit 1
    fi
done
rm -rf dist
mv "$work/dist" dist
rm -f dist/.gitignore
ls -l dist | awk 'NR > 1 { printf "%9d  %s\n", $5, $9 }'
