"""Where rget writes: -o - and pipes streamed in order, FIFOs/devices/symlinks written through, the server's name.

Every case runs the installed console script against the misbehaving servers of tests/rget/servers.py.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

from rget.args import OPTIONS
from tests.rget.runners import RGET, rget
from tests.rget.servers import Site, pattern

KIB = 1024


def put(site: Site, name: str, size: int, seed: int = 0) -> bytes:
    data = pattern(size, seed)
    site.files[name] = data
    return data


def test_dash_streams_the_ranges_in_order_to_stdout(site: Site) -> None:
    data = put(site, "stream.bin", 900 * KIB + 5, seed=4)
    proc = subprocess.run(
        [str(RGET), site.url("/f/stream.bin"), "-o", "-", "-P", "4", "-b", "0.0625", "-v"],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data
    assert len(site.ranges_served("/f/stream.bin")) > 4  # really parallel ranges, not one stream


def test_stream_of_a_server_ignoring_range_and_a_chunked_one(site: Site) -> None:
    data = put(site, "stream-ignore.bin", 200 * KIB)
    site.files["stream-chunked.bin"] = data
    for path in ("/ignore/stream-ignore.bin", "/chunked/stream-chunked.bin"):
        proc = subprocess.run([str(RGET), site.url(path), "-o", "-"], capture_output=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout == data, proc.stderr


def test_stream_sha256_mismatch_exits_1_and_says_the_bytes_went_out(site: Site) -> None:
    data = put(site, "stream-sum.bin", 100 * KIB)
    bad = hashlib.sha256(b"x").hexdigest()
    proc = subprocess.run(
        [str(RGET), site.url("/f/stream-sum.bin"), "-o", "-", "--sha256", bad], capture_output=True, timeout=60
    )
    assert proc.returncode == 1 and proc.stdout == data
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "sha256 mismatch" in err and "set -o pipefail" in err


def test_fifo_is_written_through_never_replaced(site: Site, tmp_path: Path) -> None:
    data = put(site, "fifo.bin", 300 * KIB, seed=5)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = rget(site.url("/f/fifo.bin"), "-o", fifo, "-P", "3", "-b", "0.0625")
    reader.join(30)
    assert result.returncode == 0, result.stderr
    assert got == [data]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_symlink_target_is_replaced_and_the_link_stays(site: Site, tmp_path: Path) -> None:
    data = put(site, "link.bin", 100 * KIB)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "tool"
    target.write_bytes(b"old")
    link = tmp_path / "link"
    link.symlink_to(target)
    result = rget(site.url("/f/link.bin"), "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == data
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "real" / "new")
    assert rget(site.url("/f/link.bin"), "-o", dangling).returncode == 0
    assert dangling.is_symlink() and (tmp_path / "real" / "new").read_bytes() == data


def test_dev_null_stays_a_character_device(site: Site) -> None:
    put(site, "null.bin", 100 * KIB)
    before = os.stat("/dev/null")
    result = rget(site.url("/f/null.bin"), "-o", "/dev/null", "-P", "2")
    assert result.returncode == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_no_output_saves_under_the_servers_name_and_never_overwrites(site: Site, tmp_path: Path) -> None:
    data = put(site, "named.tar.gz", 50 * KIB)
    argv = [str(RGET), site.url("/f/named.tar.gz?X-Amz-Signature=s3cr3t")]
    first = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "named.tar.gz").read_bytes() == data
    (tmp_path / "named.tar.gz").write_bytes(b"mine")
    again = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert again.returncode == 1 and "exists" in again.stderr and "-f" in again.stderr
    assert "s3cr3t" not in again.stderr
    assert (tmp_path / "named.tar.gz").read_bytes() == b"mine"
    forced = subprocess.run([*argv, "-f"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert forced.returncode == 0 and (tmp_path / "named.tar.gz").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.tar.gz"]


def test_dir_slash_saves_into_it_and_a_directory_without_it_is_usage(site: Site, tmp_path: Path) -> None:
    data = put(site, "into.bin", 10 * KIB)
    (tmp_path / "d").mkdir()
    assert rget(site.url("/f/into.bin"), "-o", f"{tmp_path / 'd'}/").returncode == 0
    assert (tmp_path / "d" / "into.bin").read_bytes() == data
    plain = rget(site.url("/f/into.bin"), "-o", tmp_path / "d")
    assert plain.returncode == 2 and "is a directory" in plain.stderr and plain.stderr.count("\n") == 1


def test_signed_query_values_never_printed(site: Site, tmp_path: Path) -> None:
    put(site, "secret.bin", 10 * KIB)
    url = site.url("/f/secret.bin?X-Amz-Credential=AKIAXX&X-Amz-Signature=deadbeef&token=tok123&sig=s1")
    ok = rget(url, "-o", tmp_path / "o", "-v")
    assert ok.returncode == 0 and "secret.bin" in ok.stderr
    bad = rget(site.url("/status/403?X-Amz-Signature=deadbeef&Signature=x2"), "-o", tmp_path / "p")
    for result in (ok, bad):
        for secret in ("AKIAXX", "deadbeef", "tok123", "s1&", "x2"):
            assert secret not in result.stderr, result.stderr
    assert "X-Amz-Signature=REDACTED" in bad.stderr


def test_a_plain_run_imports_neither_typer_nor_rich(site: Site, tmp_path: Path) -> None:
    data = put(site, "imports.bin", 100 * KIB)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(RGET), site.url("/f/imports.bin"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and (tmp_path / "o").read_bytes() == data, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert {"rget.download", "requests"} <= imported
    assert not imported & {"typer", "click", "rich", "rget.extract", "rget.manifest", "dataclasses", "inspect"}


def test_help_is_typers_rendering_of_the_one_declaration() -> None:
    """-h/--help goes through typer (its plain formatter: no typer.rich_utils, no rich), from rget.args' options."""
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(RGET), "--help"], capture_output=True, text=True, timeout=60, env=env
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert proc.returncode == 0 and {"typer", "typer.core", "rget.help"} <= imported, proc.stderr
    assert not imported & {"typer.rich_utils", "rich", "requests"}

    app = "from rget.help import command; command()(prog_name='rget')"  # typer's own run of the app
    typers = subprocess.run([sys.executable, "-c", app, "--help"], capture_output=True, text=True, env=env, check=True)
    assert typers.stdout.startswith("Usage: rget [OPTIONS] [URL]\n")
    # the same text, but for the help option's words: rget.args' "show this message", not click's
    assert proc.stdout == typers.stdout.replace("Show this message and exit.", "show this message")
    for opt in OPTIONS[1:]:
        assert ", ".join(opt.names) in proc.stdout


def test_stdout_appending_to_a_file_takes_the_copying_path(site: Site, tmp_path: Path) -> None:
    """`rget -o - URL >> log`: os.sendfile refuses an O_APPEND file (EINVAL); the writer copies instead, from the
    first byte, and nothing already in the file is lost."""
    data = put(site, "append.bin", 700 * KIB, seed=6)
    log = tmp_path / "log"
    log.write_bytes(b"kept\n")
    with open(log, "ab") as out:
        proc = subprocess.run(
            [str(RGET), site.url("/f/append.bin"), "-o", "-", "-P", "4", "-b", "0.0625"],
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert log.read_bytes() == b"kept\n" + data


def test_help_and_version_bundled_with_other_flags_win_over_the_download(site: Site, tmp_path: Path) -> None:
    """`rget -qh URL` shows the help and `rget -vV URL` the version, as click's expansion of bundled flags did: no
    request, no output file."""
    put(site, "bundled.bin", 10 * KIB, seed=12)
    out = tmp_path / "out"
    before = len(site.requests)
    helped = rget("-qh", site.url("/f/bundled.bin"), "-o", out)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: rget [OPTIONS] [URL]\n"), helped.stderr
    version = rget("-fvV", site.url("/f/bundled.bin"), "-o", out)
    assert version.returncode == 0 and version.stdout.startswith("rget "), version.stderr
    assert len(site.requests) == before and not out.exists()
    valued = rget("-Ph", site.url("/f/bundled.bin"), "-o", out)  # -P takes the rest of the word: h, not help
    assert valued.returncode == 2 and "'h' is not a valid integer" in valued.stderr


def test_a_non_finite_number_is_a_usage_error(tmp_path: Path) -> None:
    """nan passes every range check and inf passes a minimum; both ended in a traceback from the socket."""
    for option, text in (("--timeout", "nan"), ("--timeout", "inf"), ("--block-size", "inf"), ("-b", "NaN")):
        done = rget(option, text, "http://127.0.0.1:9/x", "-o", tmp_path / "out")
        assert done.returncode == 2, (option, text, done.stderr)
        assert done.stderr.endswith(f"'{text}' is not a finite number. (see 'rget --help')\n")
        assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_non_blocking_stdout_pipe_waits_for_the_reader(site: Site) -> None:
    """`-o -` into a pipe its creator made O_NONBLOCK (as some event loops leave it), read slowly: a full pipe is
    EAGAIN, not an error; the writer waits until the pipe takes more, by os.sendfile and by the copying path."""
    import fcntl
    import hashlib
    import time

    data = put(site, "nonblock.bin", 2 * 1024 * KIB, seed=13)
    for extra in ([], ["--sha256", hashlib.sha256(data).hexdigest()]):
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
        proc = subprocess.Popen(
            [str(RGET), site.url("/f/nonblock.bin"), "-o", "-", *extra], stdout=write_end, stderr=subprocess.PIPE
        )
        os.close(write_end)
        got = bytearray()
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(64 * KIB):
                got += chunk
                time.sleep(0.005)  # slower than the server: the pipe fills
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (extra, err)
        assert bytes(got) == data


def test_print_sh_follows_the_output_rule(tmp_path: Path) -> None:
    """`--print-sh -o` writes rget.sh as every output is written: through a FIFO (it used to replace it with a
    regular file, and /dev/null with it, as root), into a symlink's target (the link stays), into DIR/rget.sh."""
    script = rget("--print-sh").stdout
    assert script.startswith("#!/bin/sh")
    fifo, target, link, folder = tmp_path / "fifo", tmp_path / "target", tmp_path / "link", tmp_path / "dir"
    os.mkfifo(fifo)
    target.write_text("old\n")
    link.symlink_to(target.name)
    folder.mkdir()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert rget("--print-sh", "-o", fifo).returncode == 0
    reader.join(10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and got == [script.encode()]
    assert rget("--print-sh", "-o", link).returncode == 0
    assert link.is_symlink() and target.read_text() == script and target.stat().st_mode & 0o111
    assert rget("--print-sh", "-o", f"{folder}/").returncode == 0
    assert (folder / "rget.sh").read_text() == script
