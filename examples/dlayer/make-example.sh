#!/usr/bin/env bash
# shellcheck disable=SC2016  # the quoted snippets run in the image root, unexpanded here on purpose
# Re-make examples/dlayer/app.tar (and app-1.5.tar, its next release; NEXT_ONLY=1 makes only that one): a small real image (buildah, from scratch, no RUN needed) whose layers show what
# dlayer is for: a pip cache left in one layer and deleted in a later one, a file overwritten, a big asset.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
B=(buildah --root "$work/root" --runroot "$work/runroot" --storage-driver vfs)
trap '"${B[@]}" rm --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
step() {  # step "created_by" command...: run the command on the mounted root, commit one layer
    local by=$1; shift
    local mnt; mnt=$("${B[@]}" mount "$c")
    (cd "$mnt" && "$@")
    "${B[@]}" umount "$c" >/dev/null
    "${B[@]}" config --created-by "$by" "$c"
    "${B[@]}" commit -q "$c" example:wip >/dev/null
    "${B[@]}" rm "$c" >/dev/null
    c=$("${B[@]}" from example:wip)
}
if [[ -z ${NEXT_ONLY:-} ]]; then
c=$("${B[@]}" from scratch)
step "/bin/sh -c #(nop) ADD file:base in / " sh -c 'mkdir -p etc usr/share/doc/base && echo "NAME=demo" > etc/os-release && for i in $(seq 1 20); do head -c 2000 /dev/zero > usr/share/doc/base/doc$i; done'
step "/bin/sh -c #(nop) COPY dir:app in /app " sh -c 'mkdir -p app/assets && echo "print(1)" > app/main.py && head -c 60000 /dev/urandom > app/assets/logo.png'
step "/bin/sh -c pip install -r requirements.txt" sh -c 'mkdir -p root/.cache/pip usr/lib/python3/site-packages/lib && head -c 90000 /dev/urandom > root/.cache/pip/wheel-1.0.whl && head -c 40000 /dev/urandom > usr/lib/python3/site-packages/lib/core.so'
"${B[@]}" config --cmd '["python3", "/app/main.py"]' "$c"
step "/bin/sh -c rm -rf /root/.cache && sed -i s/1/2/ /app/main.py" sh -c 'rm -rf root/.cache && echo "print(2)" > app/main.py'
"${B[@]}" tag example:wip example:latest
rm -f app.tar
"${B[@]}" push -q example:latest docker-archive:app.tar:example:latest
ls -l app.tar
fi
# app-1.5.tar: the next release on top of app.tar (its four layers shared), for `dlayer diff app.tar app-1.5.tar`.
make_next() {
    "${B[@]}" pull -q docker-archive:app.tar >/dev/null
    c=$("${B[@]}" from example:latest)
    step "/bin/sh -c pip install -r requirements.txt && sed -i s/2/3/ /app/main.py" sh -c 'mkdir -p usr/lib/python3/site-packages/extra && head -c 80000 /dev/urandom > usr/lib/python3/site-packages/extra/_speedups.so && echo "print(3.0)" > app/main.py && chmod 0700 app/main.py && rm usr/share/doc/base/doc20'
    "${B[@]}" tag example:wip example:1.5
    rm -f app-1.5.tar
    "${B[@]}" push -q example:1.5 docker-archive:app-1.5.tar:example:1.5
    ls -l app-1.5.tar
}
make_next
