# rget: a release asset over 4 connections from a local server, verified; the busybox twin; a clean failure.
rget_demo() {
    local tmp port server
    tmp=$(mktemp -d)
    head -c 3000000 /dev/urandom >"$tmp/tool-v1.2.3.tar.gz"
    python3 examples/rget/serve.py "$tmp" "$tmp/port" &
    server=$!
    for _ in $(seq 50); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
    port=$(cat "$tmp/port")
    local url="http://127.0.0.1:$port/tool-v1.2.3.tar.gz" sum
    sum=$(sha256sum "$tmp/tool-v1.2.3.tar.gz" | cut -d' ' -f1)
    show rget -v -P 4 "$url" -o "$tmp/tool.tar.gz" --sha256 "$sum"
    show rget --print-sh -o "$tmp/rget.sh"
    mkdir "$tmp/busybox" && busybox --install -s "$tmp/busybox"  # an alpine-like PATH: busybox applets only
    show env PATH="$tmp/busybox" sh "$tmp/rget.sh" -P 4 -u "$url" -o "$tmp/tool-sh.tar.gz"
    show cmp "$tmp/tool.tar.gz" "$tmp/tool-sh.tar.gz" && echo "identical"
    show rget "http://127.0.0.1:$port/missing.tar.gz" -o "$tmp/missing"
    echo "(exit $?)"
    kill "$server"
    rm -rf "$tmp"
}
rget_demo
