# castage: the CI script that builds, tags and pushes every stage of examples/castage/Dockerfile, so each is cached.
# Sourced by examples/demo.sh, which defines `show`.
df=examples/castage/Dockerfile
show castage -i ghcr.io/acme/shop -f "$df" -p examples/castage -t build --push
show castage -i ghcr.io/acme/shop -f "$df" -p examples/castage --mode buildx -t runtime
# the common layout, a named builder then an unnamed final stage: the final one is built too, as IMAGE:latest
show castage -i ghcr.io/acme/api -f examples/castage/Dockerfile.go -p examples/castage --push
show castage -i ghcr.io/acme/api -f examples/castage/Dockerfile.go -p examples/castage --mode bake --push --branch feature/login
show castage -i ghcr.io/acme/shop:v1 -f "$df"
show castage -i ghcr.io/acme/shop -f "$df" -t tests
