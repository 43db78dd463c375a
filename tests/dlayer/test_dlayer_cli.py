"""The dlayer command on real archives: the text report, its flags, JSON output, --ci, and bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.dlayer.archives import LAYOUTS, TAG, archives

__all__ = ["archives"]
pytestmark = pytest.mark.system

DLAYER = Path(sys.executable).with_name("dlayer")


def dlayer(*args: str, stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
    with open(stdin or os.devnull, "rb") as f:
        return subprocess.run([DLAYER, *args], stdin=f, capture_output=True, text=True)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("dlayer: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr


def test_text_report_shows_each_layer_with_its_command_and_biggest_files(archives: dict[str, Path]) -> None:
    proc = dlayer("-f", str(archives["docker-save"]))
    assert proc.returncode == 0, proc.stderr
    blocks = re.split(r"\n(?=\[\d\] )", proc.stdout)
    assert len(blocks) == 5  # title, then one block per layer
    layer1, layer2, layer3 = blocks[2], blocks[3], blocks[4].split("\n\n")[0]
    assert layer1.startswith("[1]   305 kB") and "mkdir -p /app/data /app/cache \\\n" in layer1
    assert re.search(r"300 kB  /app/data/big.bin\n", layer1)
    assert layer2.startswith("[2]   200 kB") and "deletes 305 kB below" in layer2
    assert layer3.startswith("[3]   7.0 kB") and "kB  /app/deep/a/b/c/d/e/f/g/h/i/leaf" not in layer3  # depth 8
    assert "7.0 kB  /app/deep/a/b/c/d/e/f/" in layer3
    summary = blocks[4].split("\n\n", 1)[1]
    assert "Wasted:             505 kB (20.2%) overwritten or deleted later" in summary
    assert "Efficiency (dive):  79.99%" in summary
    assert re.search(r"300 kB  1x  /app/data/big.bin", summary)


def test_max_files_depth_attributes_and_width(archives: dict[str, Path]) -> None:
    proc = dlayer("-f", str(archives["oci-zstd"]), "-n", "1", "-d", "2", "-a", "-l", "60")
    assert proc.returncode == 0, proc.stderr
    assert all(len(line) <= 60 for line in proc.stdout.splitlines())
    assert "300 kB                          /app/data/" in proc.stdout  # aggregated to depth 2: no attributes
    assert "… 2 more" in proc.stdout
    full = dlayer("-f", str(archives["oci-zstd"]), "-a", "-d", "3")
    assert re.search(r"4 B  -rwsr-xr-x\s+0:0  /app/data/n.txt", full.stdout)


def test_stdin_pipe_and_file_give_the_same_report(archives: dict[str, Path]) -> None:
    from_file = dlayer("-f", str(archives["oci-gzip"]))
    from_stdin = dlayer(stdin=archives["oci-gzip"])
    with subprocess.Popen(["cat", str(archives["oci-gzip"])], stdout=subprocess.PIPE) as cat:
        from_pipe = subprocess.run([DLAYER], stdin=cat.stdout, capture_output=True, text=True)
    assert from_file.returncode == from_stdin.returncode == from_pipe.returncode == 0
    assert from_file.stdout == from_stdin.stdout == from_pipe.stdout


def test_every_layout_gives_the_same_report_body(archives: dict[str, Path]) -> None:
    bodies = set()
    for layout in LAYOUTS:
        proc = dlayer("-f", str(archives[layout]), "--tag", TAG)
        assert proc.returncode == 0, (layout, proc.stderr)
        bodies.add(proc.stdout.split("\n", 1)[1])  # the title names the format
    assert len(bodies) == 1


def test_json_to_a_file_and_not_on_failure(archives: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = dlayer("-f", str(archives["docker25"]), "-j", str(out))
    assert proc.returncode == 0
    doc = json.loads(out.read_text())
    assert [layer["sizeBytes"] for layer in doc["layer"]][1:] == [305006, 200000, 7004]
    assert doc["image"]["wastedBytes"] == 505006
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(os.urandom(2048))
    out.write_text("keep me")
    one_line_error(dlayer("-f", str(garbage), "-j", str(out)), 1, "garbage.tar", "not a tar")
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.tar", "report.json"]


def test_json_never_overwrites_the_archive_read(archives: dict[str, Path], tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    shutil.copyfile(archives["docker-save"], archive)
    before = archive.read_bytes()
    one_line_error(dlayer("-f", str(archive), "-j", str(archive)), 2, "would overwrite the archive")
    layout = tmp_path / "layout"
    shutil.copytree(archives["oci-dir"], layout)
    index = (layout / "index.json").read_bytes()
    one_line_error(dlayer("-f", str(layout), "-j", str(layout / "index.json")), 2, "would overwrite the archive")
    assert archive.read_bytes() == before and (layout / "index.json").read_bytes() == index


def test_ci_exit_codes(archives: dict[str, Path]) -> None:
    failing = dlayer("-f", str(archives["docker-save"]), "--ci")
    assert failing.returncode == 1
    assert "FAIL: lowestEfficiency" in failing.stdout and "Result:FAIL" in failing.stdout
    passing = dlayer(
        "-f",
        str(archives["docker-save"]),
        "--ci",
        "--lowest-efficiency",
        "0.5",
        "--highestUserWastedPercent",
        "disabled",
    )
    assert passing.returncode == 0 and "Result:PASS" in passing.stdout
    one_line_error(dlayer("-f", str(archives["docker-save"]), "--ci", "--lowest-efficiency", "high"), 2, "not a number")


def test_bad_input_is_one_line(tmp_path: Path, archives: dict[str, Path]) -> None:
    one_line_error(dlayer("-f", str(tmp_path / "missing.tar")), 1, "missing.tar: no such file")
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archives["docker-save"].read_bytes()[:400_000])
    one_line_error(dlayer("-f", str(truncated)), 1, "truncated")
    one_line_error(dlayer(stdin=truncated), 1, "<stdin>", "truncated")
    with subprocess.Popen(["cat", str(truncated)], stdout=subprocess.PIPE) as cat:
        piped = subprocess.run([DLAYER], stdin=cat.stdout, capture_output=True, text=True)
    one_line_error(piped, 1, "<stdin>", "truncated")
    one_line_error(dlayer("-f", str(archives["two-images"])), 2, "2 images; choose with --tag")
    one_line_error(dlayer("-f", str(archives["two-images"]), "--tag", "nope"), 2, "no image matches tag nope")
    one_line_error(dlayer("-n", "x"), 2, "'-n'")


def test_version() -> None:
    proc = dlayer("--version")
    assert proc.returncode == 0 and re.fullmatch(r"dlayer \d+\.\d+\.\d+\n", proc.stdout)


def test_text_report_to_a_file_beside_json_on_stdout(archives: dict[str, Path], tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    both = dlayer(str(archives["oci-zstd"]), "-q", "-o", str(report), "-j", "-")
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)["image"]["wastedBytes"] == 505006
    assert report.read_text() == dlayer(str(archives["oci-zstd"]), "-q").stdout
    ci = dlayer(str(archives["oci-zstd"]), "-q", "--ci", "-j", "-")
    assert ci.returncode == 1 and "Result:FAIL" in ci.stderr and json.loads(ci.stdout)["ci"]
    one_line_error(dlayer(str(archives["oci-zstd"]), "-o", str(archives["oci-zstd"])), 2, "would overwrite the archive")


def test_numbers_and_sources_are_usage_errors(archives: dict[str, Path]) -> None:
    one_line_error(dlayer("-n", "-1"), 2, "'-n' / '--max-files': -1 is not in the range x>=0")
    one_line_error(dlayer("-l", "wide"), 2, "'-l' / '--line-width': 'wide' is not a valid integer")
    one_line_error(dlayer(str(archives["oci-gzip"]), "-f", str(archives["oci-zstd"])), 2, "give one")


def test_usage_errors_about_the_terminal(archives: dict[str, Path]) -> None:
    primary, secondary = os.openpty()
    try:
        on_tty = subprocess.run([DLAYER], stdin=secondary, capture_output=True, text=True, start_new_session=True)
    finally:
        os.close(primary)
        os.close(secondary)
    one_line_error(on_tty, 2, "no archive on stdin")
    one_line_error(dlayer("-f", str(archives["oci-gzip"]), "-i", "-j", "-"), 2, "-i and -j - both want the terminal")
    # no controlling terminal at all (a new session, stdin from a file): the browser cannot start
    with archives["oci-gzip"].open("rb") as f:
        headless = subprocess.run([DLAYER, "-i"], stdin=f, capture_output=True, text=True, start_new_session=True)
    one_line_error(headless, 2, "-i needs a terminal")


def test_diff_command_line(archives: dict[str, Path]) -> None:
    for args, message in (
        ([str(archives["oci-gzip"])], "Missing argument 'B'. (see 'dlayer diff --help')"),
        (["-", "-"], "A and B cannot both be stdin"),
        (["a", "b", "-n", "x"], "Invalid value for '-n' / '--max-files': 'x' is not a valid integer."),
    ):
        done = dlayer("diff", *args)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", f"dlayer diff: {message}\n"), args
    assert dlayer("diff", "-V").stdout == dlayer("-V").stdout.replace("dlayer", "dlayer diff")
    helped = dlayer("diff", "-h")
    assert helped.returncode == 0 and "Usage: dlayer diff [OPTIONS]" in helped.stdout
    same = dlayer("diff", "-q", str(archives["oci-gzip"]), str(archives["oci-zstd"]), "-n", "3")
    assert same.returncode == 0 and "Shared layers: 4" in same.stdout


def test_a_dockerfile_on_stdin_gets_a_minid_command_that_reads_stdin(archives: dict[str, Path], tmp_path: Path) -> None:
    """`--dockerfile -`: the merge command is `minid -`, said to read the Dockerfile on stdin (`minid -o - -` ran, but
    reads as "write the file -"), and running it on the same Dockerfile merges the two RUNs the finding names."""
    from tests.dlayer.archives import CONTAINERFILE

    dockerfile = tmp_path / "Containerfile"
    dockerfile.write_text(CONTAINERFILE)
    archive = str(archives["docker-save"])
    text = dlayer("-q", archive, "--dockerfile", "-", "-l", "400", stdin=dockerfile)
    assert text.returncode == 0, text.stderr
    merges = [line.strip() for line in text.stdout.splitlines() if "minid would merge" in line]
    assert merges == ["minid would merge these: `minid -` (the Dockerfile on stdin)"] * 2
    doc = json.loads(dlayer("-q", archive, "--dockerfile", "-", "-j", "-", stdin=dockerfile).stdout)
    commands = [f["minid"]["command"] for f in doc["findings"]]
    assert commands == ["minid -", None, "minid -"]
    with open(dockerfile, "rb") as f:
        argv = [str(DLAYER.with_name("minid")), *commands[0].split()[1:]]
        done = subprocess.run(argv, stdin=f, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and list(tmp_path.iterdir()) == [dockerfile], done.stderr
    assert done.stdout.count("\nRUN ") == CONTAINERFILE.count("\nRUN ") - 1


@pytest.mark.parametrize(
    ("dockerfile", "calls"),
    [
        ("FROM localhost/busybox:base\nCOPY hello.txt /hello.txt\n", 0),  # no finding has both its steps mapped
        (None, 1),  # CONTAINERFILE: every finding has them
    ],
)
def test_the_merge_engine_runs_only_for_a_finding_with_both_steps_mapped(
    dockerfile: str | None,
    calls: int,
    archives: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It costs about a second on a 10,000-RUN Dockerfile, for findings that may not need it."""
    import dockit.merge
    from dlayer import __version__
    from dlayer.cli import HELP
    from dlayer.command import Options, run_dlayer
    from dockit.cli import main
    from tests.dlayer.archives import CONTAINERFILE

    real, made = dockit.merge.minify_dockerfile, []

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(dockit.merge, "minify_dockerfile", counted)
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile or CONTAINERFILE)
    with pytest.raises(SystemExit) as done:
        # dlayer.cli.main as it runs, in this process (its hard exit would end pytest too)
        main(
            "dlayer",
            __version__,
            Options,
            run_dlayer,
            HELP,
            ["-q", str(archives["docker-save"]), "--dockerfile", str(path)],
        )
    out = capsys.readouterr().out
    assert done.value.code == 0 and "Findings:" in out
    assert len(made) == calls
    assert ("minid would merge these" in out) == bool(calls)
