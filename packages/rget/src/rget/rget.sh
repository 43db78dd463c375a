#!/bin/sh
# rget.sh: download one file over parallel HTTP Range requests with busybox tools only (wget, xargs, seq, awk, tail).
# The busybox-only twin of rget (https://pypi.org/project/rget): `rget --print-sh > rget.sh` writes it out.
#
# usage: rget.sh -u URL -o PATH [-P connections (4)] [-b block MiB (size / connections)]
#        (-o - writes to stdout: the ordered parts, once every one of them arrived and checked)
#
# Every range must come back 206 with exactly the Content-Range asked for and the probe's ETag and Last-Modified
# (If-Range pins the version, and servers that ignore it are caught by the validators); otherwise the file is
# fetched again as one stream. A server with neither validator gets one stream from the start. Output appears at
# PATH only when complete; a FIFO or device is written through, a symlink's target replaced. Exit 0 on success,
# 1 on failure, 2 on bad usage, 130 on Ctrl-C; the temporary directory is removed in every case.
set -u

me=rget.sh
usage() {
    echo "usage: $me -u URL -o PATH [-P connections] [-b block-MiB]" >&2
    exit 2
}
die() {
    echo "$me: $*" >&2
    exit 1
}

url='' out='' conns=4 bmib=''
while getopts u:o:P:b:h opt; do
    case $opt in
    u) url=$OPTARG ;;
    o) out=$OPTARG ;;
    P) conns=$OPTARG ;;
    b) bmib=$OPTARG ;;
    *) usage ;;
    esac
done
if [ -z "$url" ] || [ -z "$out" ]; then usage; fi
case $conns in '' | *[!0-9]* | 0) usage ;; esac
case $bmib in *[!0-9]* | 0) usage ;; esac
[ -d "$out" ] && die "$out: is a directory"
# Where the finished file goes: stdout, written through (FIFO, device, socket), or renamed onto the path (a
# symlink's target, so the link stays).
through=''
if [ "$out" = - ]; then
    through=-
    here=${TMPDIR:-/tmp}
elif [ -p "$out" ] || [ -c "$out" ] || [ -b "$out" ] || [ -S "$out" ]; then
    through=$out
    here=${TMPDIR:-/tmp}
else
    [ -L "$out" ] && out=$(readlink -f -- "$out")
    here=$(dirname -- "$out")
fi

tmp=$(mktemp -d "$here/.rget.XXXXXX") || die "$out: cannot create a temporary directory in $here"
xargs_pid=''
cleanup() {
    [ -n "$xargs_pid" ] && kill "$xargs_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Size of a file without reading it (busybox wc -c reads every byte: 4 s for 512 MiB).
# shellcheck disable=SC2012 # one path we made ourselves, and busybox builds may lack stat
size_of() { ls -ln -- "$1" | awk '{ print $5 }'; }

# The final response's status, Content-Range, Content-Length, ETag and Last-Modified from `wget -S` output
# (after redirects, only the last response counts).
headers() {
    awk 'BEGIN { st = cr = cl = et = lm = "-" }
        { sub(/\r$/, "") }
        $1 ~ /^HTTP\// { st = $2; cr = "-"; cl = "-"; et = "-"; lm = "-"; next }
        tolower($1) == "content-range:" { cr = $NF }
        tolower($1) == "content-length:" { cl = $2 }
        tolower($1) == "etag:" { et = $2 }
        tolower($1) == "last-modified:" { lm = $0; sub(/^[^:]*:[ \t]*/, "", lm); gsub(/ /, "_", lm) }
        END { print st, cr, cl, et, lm }' "$1"
}

# Probe with a one-byte range (HEAD is refused by signed S3 URLs). busybox wget only accepts a 206 when it
# believes it is continuing a file, hence -c on a one-byte placeholder. A server that ignores Range answers 200
# and busybox restarts the file from its first byte: that file is then the whole download.
printf x >"$tmp/probe"
wget -q -S -c --header 'Range: bytes=0-0' -O "$tmp/probe" "$url" 2>"$tmp/probe.h"
probe_rc=$?
# shellcheck disable=SC2046 # word splitting of the five fields is the point
set -- $(headers "$tmp/probe.h")
status=$1 crange=$2 clength=$3 etag=$4 modified=$(echo "$5" | tr _ ' ')
size=${crange#*/}
case $size in '' | *[!0-9]*) size='' ;; esac

single() {
    # One plain GET (redirects followed), checked against Content-Length when the server sends one.
    if [ "$status" = 200 ] && [ "$probe_rc" = 0 ]; then
        mv "$tmp/probe" "$tmp/out" || die "$url: cannot write in $tmp"
    else
        wget -q -S -O "$tmp/out" "$url" 2>"$tmp/single.h" || die "$url: download failed ($(tail -n 1 "$tmp/single.h"))"
        # shellcheck disable=SC2046
        set -- $(headers "$tmp/single.h")
        [ "$1" = 200 ] || die "$url: HTTP $1"
        clength=$3
    fi
    got=$(size_of "$tmp/out")
    case $clength in
    '' | *[!0-9]*) ;;
    *) [ "$got" -eq "$clength" ] || die "$url: got $got bytes, expected $clength" ;;
    esac
}

if [ "$status" = 206 ] && [ -n "$size" ] && [ "$size" -gt 0 ] && { [ "$etag" != - ] || [ "$modified" != - ]; }; then
    if [ -n "$bmib" ]; then
        bs=$((bmib * 1048576))
    else
        bs=$(((size + conns - 1) / conns))
    fi
    n=$(((size + bs - 1) / bs))
    validator=''
    case $etag in W/* | -) ;; *) validator=$etag ;; esac
    [ -z "$validator" ] && [ "$modified" != - ] && validator=$modified
    export url size bs tmp validator etag modified
    # One range per xargs job: placeholder byte + body, kept only when the answer is 206 with exactly our range.
    # shellcheck disable=SC2016 # expanded by the worker's own sh
    worker='
        i=$1 s=$(($1 * bs)) e=$(($1 * bs + bs - 1))
        [ "$e" -ge "$size" ] && e=$((size - 1))
        f=$tmp/$i
        printf x >"$f"
        if [ -n "$validator" ]; then
            wget -q -S -c --header "Range: bytes=$s-$e" --header "If-Range: $validator" -O "$f" "$url" 2>"$f.h"
        else
            wget -q -S -c --header "Range: bytes=$s-$e" -O "$f" "$url" 2>"$f.h"
        fi || exit 1
        got=$(awk "{ sub(/\r\$/, \"\") } \$1 ~ /^HTTP\\// { st = \$2; cr = \"\"; et = \"-\"; lm = \"-\" }
            tolower(\$1) == \"content-range:\" { cr = \$NF }
            tolower(\$1) == \"etag:\" { et = \$2 }
            tolower(\$1) == \"last-modified:\" { lm = \$0; sub(/^[^:]*:[ \t]*/, \"\", lm); gsub(/ /, \"_\", lm) }
            END { print st, cr, et, lm }" "$f.h")
        # the validators too: a server that ignores If-Range answers the new version with its new ETag
        [ "$got" = "206 $s-$e/$size $etag $(echo "$modified" | tr " " _)" ] || exit 1
        [ "$(ls -ln -- "$f" | awk "{ print \$5 }")" -eq $((e - s + 2)) ] || exit 1
        : >"$f.ok"
    '
    seq 0 $((n - 1)) | xargs -n 1 -P "$conns" sh -c "$worker" rget-range &
    xargs_pid=$!
    wait "$xargs_pid"
    xargs_pid=''
    ok=1
    i=0
    while [ "$i" -lt "$n" ]; do
        [ -e "$tmp/$i.ok" ] || ok=''
        i=$((i + 1))
    done
    if [ -n "$ok" ] && [ -n "$through" ]; then
        # every part is here and checked: concatenated in order straight to stdout (or the FIFO / device, opened
        # once: a FIFO's reader sees the end of the file when its writer closes)
        parts() {
            i=0
            while [ "$i" -lt "$n" ]; do
                tail -c +2 "$tmp/$i" || return 1
                rm -f "$tmp/$i"
                i=$((i + 1))
            done
        }
        if [ "$through" = - ]; then
            parts || die "stdout: cannot write"
        else
            parts >"$through" || die "$through: cannot write"
        fi
        exit 0
    elif [ -n "$ok" ]; then
        : >"$tmp/out"
        i=0
        while [ "$i" -lt "$n" ]; do
            tail -c +2 "$tmp/$i" >>"$tmp/out" || die "$out: cannot write"
            rm -f "$tmp/$i"
            i=$((i + 1))
        done
        [ "$(size_of "$tmp/out")" -eq "$size" ] || die "$url: assembled the wrong size"
    else
        echo "$me: a range did not come back as asked (server ignores ranges or the file changed); one stream" >&2
        status=''
        single
    fi
elif [ "$status" = 200 ] || [ "$status" = 206 ] || [ "$status" = 416 ]; then
    single
else
    [ "$status" = - ] && die "$url: $(sed -n 's/^wget: //p' "$tmp/probe.h" | tail -n 1)"
    die "$url: HTTP $status"
fi
if [ "$through" = - ]; then
    cat "$tmp/out" || die "stdout: cannot write"
elif [ -n "$through" ]; then
    cat "$tmp/out" >"$through" || die "$through: cannot write"
else
    mv "$tmp/out" "$out" || die "$out: cannot write"
fi
