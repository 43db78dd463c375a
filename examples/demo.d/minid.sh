# minid: the Go original's README example (8 layers -> 6), then the pitfalls a bare ` && ` join gets wrong.
show minid examples/minid/Dockerfile --stats
show minid --check examples/minid/Dockerfile.pitfalls
show minid examples/minid/Dockerfile.pitfalls
