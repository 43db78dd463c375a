# dlayer: why is this image big? (examples/dlayer/app.tar: a 4-layer image made by examples/dlayer/make-example.sh)
# Sourced by examples/demo.sh, which defines `show`.
# shellcheck shell=bash
show dlayer -f examples/dlayer/app.tar -n 3 -l 80
show dlayer -f examples/dlayer/app.tar --ci --lowest-efficiency 0.95
show dlayer -f examples/dlayer/app.tar -n 2 -d 2 -a
show dlayer examples/dlayer/app.tar --ci --highest-wasted-percent 10% --forbid '**/.cache'
show dlayer diff examples/dlayer/app.tar examples/dlayer/app-1.5.tar
