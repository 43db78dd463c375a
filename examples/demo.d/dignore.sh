# dignore: the .dockerignore that keeps one service's build context small (examples/dignore/monorepo).
# Sourced by examples/demo.sh, which defines `show`.
# shellcheck shell=bash
repo=examples/dignore/monorepo
show dignore -C "$repo" svc/api lib/common --stats
show dignore -C "$repo" -f "$repo/svc/api/Dockerfile" --exclude-root-files
show dignore -C "$repo" -f "$repo/svc/api/Dockerfile" -t test svc/api
# every service of the compose file at once; the files it writes are removed again so the example stays as it is
(cd "$repo" && show dignore --compose && show dignore --compose --check && show cat svc/web/Dockerfile.dockerignore)
rm -f "$repo"/svc/*/Dockerfile.dockerignore
show dignore -C "$repo" svc/nope
