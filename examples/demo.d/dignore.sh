# dignore: the .dockerignore that keeps one service's build context small (examples/dignore/monorepo).
# Sourced by examples/demo.sh, which defines `show`.
# shellcheck shell=bash
repo=examples/dignore/monorepo
show dignore -C "$repo" svc/api lib/common --check
show dignore -C "$repo" -f "$repo/svc/api/Dockerfile" --exclude-root-files
show dignore -C "$repo" -f "$repo/svc/api/Dockerfile" -t test svc/api
show dignore -C "$repo" svc/nope
