#!/usr/bin/env bash
# The 1 GB image dlayer's benchmark reads, made once per machine under .cache/bench-dlayer/ (a few minutes):
# a debootstrap minbase bookworm root as the base layer, then layers adding 4x150 MB of random data, 100 MB of
# zeros and 20,000 small files, then one deleting and overwriting some of them. Built with buildah (vfs, chroot),
# written as a docker-archive and as a gzip OCI archive. Then its next release (the last step changed, every layer
# below it shared, as a rebuild with the cache makes it) as docker-archive-next.tar: what `dlayer diff` compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench-dlayer
[[ -e $out/done && -e $out/docker-archive-next.tar ]] && exit 0
mkdir -p .cache
work=$(mktemp -d "$PWD/.cache/bench-dlayer-work.XXXXXX")
B=(buildah --root "$work/root" --runroot "$work/runroot" --storage-driver vfs)
cleanup() { "${B[@]}" rm --all >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/ctx"
debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
tar -C "$work/rootfs" -cf "$work/ctx/rootfs.tar" .
rm -rf "$work/rootfs"
cat >"$work/ctx/Containerfile" <<'CF'
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
RUN mkdir /data && head -c 150M /dev/urandom > /data/random1 && head -c 150M /dev/urandom > /data/random2
RUN head -c 150M /dev/urandom > /data/random3 && head -c 150M /dev/urandom > /data/random4
RUN head -c 100M /dev/zero > /data/zeros
RUN mkdir -p /srv/small && cd /srv/small && for d in $(seq 0 99); do mkdir $d; for f in $(seq 0 199); do echo "$d/$f" > $d/$f; done; done
RUN rm /data/random1 /data/zeros && rm -rf /srv/small/1? && head -c 10M /dev/urandom > /data/random2
CF
"${B[@]}" bud -q --isolation chroot --layers -t localhost/dlayer-bench:latest "$work/ctx" >/dev/null
sed '$s|$| \&\& echo 1.1 > /version|' "$work/ctx/Containerfile" >"$work/ctx/Containerfile.next"
"${B[@]}" bud -q --isolation chroot --layers -f "$work/ctx/Containerfile.next" -t localhost/dlayer-bench:next "$work/ctx" >/dev/null
mkdir -p "$work/out"
"${B[@]}" push -q localhost/dlayer-bench:latest "docker-archive:$work/out/docker-archive.tar:localhost/dlayer-bench:latest"
"${B[@]}" push -q localhost/dlayer-bench:latest "oci-archive:$work/out/oci-gzip.tar:localhost/dlayer-bench:latest"
"${B[@]}" push -q localhost/dlayer-bench:next "docker-archive:$work/out/docker-archive-next.tar:localhost/dlayer-bench:next"
touch "$work/out/done"
rm -rf "$out"
mv "$work/out" "$out"
ls -l "$out"
