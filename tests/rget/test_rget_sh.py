"""rget.sh under real busybox (nothing else on PATH) against nginx and the misbehaving servers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.rget.runners import RGET_SH, interruptible, rget_sh
from tests.rget.servers import Site, pattern
from tests.system.http_fixtures import Nginx, free_port

pytestmark = pytest.mark.system
KIB = 1024


def test_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing (tests/system/debian-packages.txt)"
    result = subprocess.run([shellcheck, "-s", "sh", str(RGET_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("server", ["plain", "redirect", "noranges"])
def test_nginx(nginx: Nginx, busybox_path: Path, server: str, tmp_path: Path) -> None:
    src = nginx.root / "rget-sh.bin"
    if not src.exists():
        src.write_bytes(pattern(2 * 1024 * KIB + 5, seed=4))
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", nginx.url(server, src.name), "-o", out, "-P", "4")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == src.read_bytes()  # the original wrote N times the file when Range was ignored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_block_size_flag_makes_more_ranges_than_connections(nginx: Nginx, busybox_path: Path, tmp_path: Path) -> None:
    src = nginx.root / "rget-sh-blocks.bin"
    src.write_bytes(pattern(3 * 1024 * KIB + 1, seed=5))
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", nginx.url("plain", src.name), "-o", out, "-P", "2", "-b", "1")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == src.read_bytes()
    log = (nginx.root.parent / "access.log").read_text()
    assert log.count(f"GET /{src.name} ") == 1 + 4  # probe + four 1 MiB blocks


@pytest.mark.parametrize("kind", ["ignore", "chunked", "cut", "signed", "other", "nohead"])
def test_misbehaving_servers(site: Site, other_site: Site, busybox_path: Path, kind: str, tmp_path: Path) -> None:
    name = f"sh-{kind}.bin"
    data = pattern(200 * KIB + 3, seed=6)
    site.files[name] = other_site.files[name] = data
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", site.url(f"/{kind}/{name}"), "-o", out, "-P", "3")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_file_replaced_mid_download_is_never_mixed(site: Site, busybox_path: Path, tmp_path: Path) -> None:
    site.files["sh-changing.bin"] = pattern(300 * KIB, seed=7)
    site.files["sh-changing.bin.v2"] = new = pattern(300 * KIB, seed=8)
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", site.url("/changing/sh-changing.bin"), "-o", out, "-P", "3")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == new
    assert "one stream" in result.stderr


@pytest.mark.parametrize("path", ["/status/404", "/status/500"])
def test_http_error_fails_cleanly(site: Site, busybox_path: Path, path: str, tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", site.url(path), "-o", out)
    assert result.returncode == 1
    assert result.stderr.strip() == f"rget.sh: {site.url(path)}: HTTP {path[-3:]}"
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_fails_cleanly(busybox_path: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    result = rget_sh(busybox_path, "-u", url, "-o", tmp_path / "o")
    assert result.returncode == 1 and "Connection refused" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [[], ["-u", "http://x/y"], ["-u", "http://x/y", "-o", "o", "-P", "zero"]])
def test_usage(busybox_path: Path, args: list[str]) -> None:
    result = rget_sh(busybox_path, *args)
    assert result.returncode == 2 and result.stderr.startswith("usage: rget.sh")


def test_ctrl_c_exits_130_and_cleans_up(site: Site, busybox_path: Path, tmp_path: Path) -> None:
    site.rate = 128 * KIB
    site.files["sh-slow.bin"] = pattern(1024 * KIB)
    proc = subprocess.Popen(
        [str(busybox_path / "sh"), str(RGET_SH), "-u", site.url("/throttle/sh-slow.bin"), "-o", str(tmp_path / "o")],
        env={"PATH": str(busybox_path)},
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=interruptible,
    )
    deadline = time.monotonic() + 10
    while not any(tmp_path.glob(".rget.*/0")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    proc.wait(timeout=10)
    assert proc.returncode == 130
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["nginx", "site"])
def test_empty_file(nginx: Nginx, site: Site, busybox_path: Path, where: str, tmp_path: Path) -> None:
    (nginx.root / "rget-sh-empty").write_bytes(b"")
    site.files["sh-empty"] = b""  # answers 416 with bytes */0 to the probe
    url = nginx.url("plain", "rget-sh-empty") if where == "nginx" else site.url("/f/sh-empty")
    result = rget_sh(busybox_path, "-u", url, "-o", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o").read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_dash_writes_the_ordered_parts_to_stdout(site: Site, busybox_path: Path, tmp_path: Path) -> None:
    data = pattern(300 * KIB + 1, seed=21)
    site.files["sh-stdout.bin"] = data
    for kind in ("f", "ignore"):
        proc = subprocess.run(
            [str(busybox_path / "sh"), str(RGET_SH), "-u", site.url(f"/{kind}/sh-stdout.bin"), "-o", "-", "-P", "3"],
            capture_output=True,
            timeout=60,
            env={"PATH": str(busybox_path)},
            cwd=tmp_path,
        )
        assert proc.returncode == 0 and proc.stdout == data, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_fifo_and_symlink_outputs_are_written_through(site: Site, busybox_path: Path, tmp_path: Path) -> None:
    import threading

    data = pattern(100 * KIB, seed=22)
    site.files["sh-through.bin"] = data
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert rget_sh(busybox_path, "-u", site.url("/f/sh-through.bin"), "-o", fifo, "-P", "2").returncode == 0
    reader.join(30)
    assert got == [data] and fifo.is_fifo()
    (tmp_path / "target").write_bytes(b"old")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert rget_sh(busybox_path, "-u", site.url("/f/sh-through.bin"), "-o", tmp_path / "link").returncode == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "target").read_bytes() == data


def test_a_server_ignoring_if_range_is_caught_by_the_validators(site: Site, busybox_path: Path, tmp_path: Path) -> None:
    site.files["sh-swap.bin"] = pattern(200 * KIB, seed=23)
    new = site.files["sh-swap.bin.v2"] = pattern(200 * KIB, seed=24)
    out = tmp_path / "o"
    result = rget_sh(busybox_path, "-u", site.url("/swapped/sh-swap.bin"), "-o", out, "-P", "4")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == new and "one stream" in result.stderr
    site.files["sh-noval.bin"] = data = pattern(100 * KIB, seed=25)
    assert rget_sh(busybox_path, "-u", site.url("/novalidator/sh-noval.bin"), "-o", out, "-P", "4").returncode == 0
    assert out.read_bytes() == data and len(site.ranges_served("/novalidator/sh-noval.bin")) == 2  # probe, 1 GET
