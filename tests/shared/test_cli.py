"""dockit.cli and dockit.output: the write rule (atomic, or through), stdin/stdout, error lines and exit codes."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from dockit.cli import read_bytes, write_output
from dockit.errors import DockitError, UsageError
from dockit.output import compare_output


def test_write_output_replaces_atomically_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("old")
    target.chmod(0o751)
    write_output(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert os.listdir(tmp_path) == ["out"]


def test_write_output_failure_leaves_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out"
    with pytest.raises(DockitError, match="cannot write"):
        write_output(target, "x")
    assert not target.parent.exists()


def test_write_output_follows_a_symlink_and_replaces_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real" / "Dockerfile"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "Dockerfile"
    link.symlink_to(real)
    write_output(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "real" / "created")
    write_output(dangling, "made\n")
    assert dangling.is_symlink() and (tmp_path / "real" / "created").read_text() == "made\n"
    assert sorted(os.listdir(tmp_path / "real")) == ["Dockerfile", "created"]


def test_write_output_writes_through_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, "through\n")
    reader.join(10)
    assert got == [b"through\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and os.listdir(tmp_path) == ["fifo"]


def test_write_output_writes_through_a_device_and_a_socket(tmp_path: Path) -> None:
    write_output("/dev/null", "gone\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        write_output(path, "to the socket\n")
        conn, _ = server.accept()
        with conn:
            assert conn.recv(100) == b"to the socket\n"
    assert stat.S_ISSOCK(path.stat().st_mode)


def test_write_output_onto_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as e:
        write_output(tmp_path, "x")
    assert str(e.value) == f"{tmp_path}: is a directory; give a file name"
    assert os.listdir(tmp_path) == []


def test_compare_output_is_black_style_check_and_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert compare_output("tool", str(out), "a\n", check=True, diff=False) == 1
    assert capsys.readouterr() == ("", f"tool: {out}: would be created\n")
    out.write_text("a\n")
    assert compare_output("tool", str(out), "a\n", check=True, diff=True) == 0
    assert capsys.readouterr() == ("", "")
    assert compare_output("tool", str(out), "b\n", check=False, diff=True) == 0
    assert capsys.readouterr().out == f"--- a/{out}\n+++ b/{out}\n@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(UsageError, match="give -o PATH"):
        compare_output("tool", "-", "a\n", check=True, diff=False)
    with pytest.raises(UsageError, match="is a directory"):
        compare_output("tool", str(tmp_path), "a\n", check=True, diff=False)
    assert out.read_text() == "a\n"


def test_read_bytes_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DockitError) as e:
        read_bytes(tmp_path / "nope")
    assert str(e.value) == f"{tmp_path / 'nope'}: no such file"


def test_build_args_like_docker_build() -> None:
    from dockit.cli import build_args

    env = {"HOME": "/root", "EMPTY": ""}
    assert build_args(["A=1", "B==2", "C=", "HOME", "EMPTY", "UNSET"], env) == {
        "A": "1",
        "B": "=2",
        "C": "",
        "HOME": "/root",
        "EMPTY": "",
    }
    for bad in ["=x", "A B=1", ""]:
        with pytest.raises(UsageError, match="expected NAME=VALUE or NAME"):
            build_args([bad], env)


def test_the_library_and_the_cli_layer_import_without_typer() -> None:
    """Only dockit.typer_command (``--help``, completion) may load typer; the core and the parser never do."""
    import subprocess
    import sys

    modules = "dockit.dockerfile, dockit.archive, dockit.ignore, dockit.cli, dockit.options, dockit.argv, dockit.output"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"], capture_output=True, text=True, check=True
    )
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"dockit.archive", "dockit.ignore", "dockit.argv"} <= imported
    assert not imported & {"typer", "rich", "click", "dockit.typer_command"}
