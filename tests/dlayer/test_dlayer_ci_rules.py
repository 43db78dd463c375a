"""--ci on our figures: the real waste, path budgets, config files (ours and dive's), on the example image."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "dlayer" / "app.tar"  # 230 kB in 4 layers; 90 kB pip cache deleted later, 9 B rewritten
DLAYER = Path(sys.executable).with_name("dlayer")


def ci(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DLAYER, "-q", str(APP), "--ci", *args], capture_output=True, text=True, cwd=cwd)


def statuses(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    out = {}
    for line in proc.stdout.splitlines():
        status, _, rest = line.strip().partition(": ")
        if status in ("PASS", "FAIL", "SKIP"):
            out[rest.split(":")[0]] = status
    return out


def test_dive_rules_pass_while_the_real_waste_fails() -> None:
    # the example wastes 39% of its bytes, but dive's figures (99.99% efficiency, 18 B) pass
    assert ci().returncode == 0
    proc = ci("--highest-wasted-percent", "10%", "--highest-wasted-bytes-true", "50kB")
    assert proc.returncode == 1
    assert statuses(proc) == {
        "highestUserWastedPercent": "PASS",
        "highestWastedBytes": "SKIP",
        "highestWastedBytesTrue": "FAIL",
        "highestWastedPercent": "FAIL",
        "lowestEfficiency": "PASS",
    }
    assert "39.1% of the image is hidden by later layers (threshold 10.0%)" in proc.stdout
    assert "the image carries 90 kB that later layers hid (threshold 50 kB)" in proc.stdout
    assert ci("--highest-wasted-percent", "0.5", "--highest-wasted-bytes-true", "1MB").returncode == 0


def test_forbid_finds_paths_deleted_later_and_still_shipped() -> None:
    proc = ci("--forbid", "/root/.cache/**", "--forbid", "**/*.pem")
    assert proc.returncode == 1
    assert "      /root/.cache/pip in layer 2, deleted by layer 3 but still shipped in layer 2" in proc.stdout
    assert statuses(ci("--forbid", "**/*.pem"))["forbid"] == "PASS"


def test_max_file_size_leaves_the_base_layers_out() -> None:
    proc = ci("--max-file-size", "50kB")
    assert proc.returncode == 1
    assert "2 files over 50 kB above the base layers (1)" in proc.stdout
    assert "      /root/.cache/pip/wheel-1.0.whl 90 kB in layer 2" in proc.stdout
    assert ci("--max-file-size", "50kB", "--base-layers", "3").returncode == 0
    assert ci("--max-file-size", "100kB").returncode == 0


def test_rules_from_our_config_file_and_from_dive_s(tmp_path: Path) -> None:
    (tmp_path / ".dlayer-ci.yaml").write_text(
        "rules:\n  highestWastedPercent: 10%\n  forbid: ['**/.cache']\n  lowestEfficiency: false\n"
    )
    proc = ci(cwd=tmp_path)
    assert proc.returncode == 1
    assert statuses(proc) == {
        "forbid": "FAIL",
        "highestUserWastedPercent": "PASS",
        "highestWastedBytes": "SKIP",
        "highestWastedPercent": "FAIL",
        "lowestEfficiency": "SKIP",
    }
    # the command line wins over the file
    assert statuses(ci("--highest-wasted-percent", "50%", cwd=tmp_path))["highestWastedPercent"] == "PASS"
    dive = tmp_path / "dive"
    dive.mkdir()
    (dive / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 10B\n")
    assert statuses(ci(cwd=dive))["highestWastedBytes"] == "FAIL"  # dive's 18 inefficient bytes
    assert statuses(ci("--ci-config", str(dive / ".dive-ci")))["highestWastedBytes"] == "FAIL"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("rules:\n  highestWastedPercent: [\n", ".dlayer-ci.yaml:3: not a CI config"),
        ("rules:\n  mostBytes: 1\n", "unknown rule 'mostBytes'"),
        ("rules: 7\n", "expected a mapping 'rules:'"),
        ("rules:\n  forbid: '**/.git'\n", "rules.forbid: expected a list"),
        ("rules:\n  lowestEfficiency: [1]\n", "rules.lowestEfficiency: not a number"),
        ("rules: {}\nbaseLayers: true\n", "baseLayers: expected a whole number"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_file(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / ".dlayer-ci.yaml").write_text(config)
    proc = ci(cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("dlayer: ") and ".dlayer-ci.yaml" in proc.stderr and message in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--highest-wasted-percent", "5"], "'5' is not a share from 0 to 1 (a fraction like 0.1, or 10%)"),
        (["--highest-wasted-percent", "nan"], "is not a share from 0 to 1"),
        (["--highest-wasted-percent", "150%"], "is not a share from 0 to 1"),
        (["--lowest-efficiency", "-1"], "is not a share from 0 to 1"),
        (["--ci-config", "/"], "/: is a directory"),
        (["--target", "app"], "--target names a stage of --dockerfile"),
        (["--max-file-size", "big"], "not a size: 'big'"),
        (["--ci-config", "/nonexistent/ci.yaml"], "no such file"),
    ],
)
def test_bad_rules_are_usage_errors(args: list[str], message: str) -> None:
    proc = ci(*args)
    assert proc.returncode == 2 and proc.stdout == "" and message in proc.stderr, proc.stderr


def test_stdin_cannot_be_both_the_image_and_the_dockerfile() -> None:
    with APP.open("rb") as f:
        proc = subprocess.run([DLAYER, "-q", "-", "--dockerfile", "-"], stdin=f, capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot both come from stdin" in proc.stderr, proc.stderr
