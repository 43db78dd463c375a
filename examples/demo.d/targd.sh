# targd: only the stages one target needs, verbatim (examples/targd/Dockerfile: 6 stages, release needs 3).
# Sourced by examples/demo.sh, which defines `show`.
# shellcheck shell=bash
df=examples/targd/Dockerfile
show targd -t release "$df"
show targd --list -t release "$df"
show targd --graph -t test "$df"
show targd -t nope "$df"
