"""One version for all seven distributions, set in the workspace root and copied by release/version.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from release import version

ROOT = Path(__file__).resolve().parents[2]


def test_all_seven_agree_with_the_root_version() -> None:
    assert len(version.members()) == 7
    assert version.mismatches(version.root_version()) == []


def test_each_tool_pins_the_library_at_exactly_its_own_release() -> None:
    v = version.root_version()
    for member in version.members()[1:]:
        deps = tomllib.loads((member / "pyproject.toml").read_text())["project"]["dependencies"]
        pins = [d for d in deps if d.startswith(version.LIBRARY)]
        if member.name == "rget":
            assert pins == [], "rget stands alone: it must not depend on the library"
        else:
            assert len(pins) == 1 and pins[0].endswith(f"=={v}"), (member.name, pins)


def test_a_release_bumps_all_seven(tmp_path: Path) -> None:
    for rel in ["pyproject.toml", *(str(m.relative_to(ROOT)) for m in version.members())]:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        else:
            shutil.copy(src, tmp_path / rel)
    version.set_version("9.8.7", tmp_path)
    assert version.root_version(tmp_path) == "9.8.7"
    assert version.mismatches("9.8.7", tmp_path) == []
    dlayer = (tmp_path / "packages" / "dlayer" / "pyproject.toml").read_text()
    assert re.search(r'"better-image-dockit\[[a-z,]+\]==9\.8\.7"', dlayer), "the pin keeps its extras"
    # and a stray copy is caught, naming the file
    init = tmp_path / "packages" / "targd" / "src" / "targd" / "__init__.py"
    init.write_text(init.read_text().replace("9.8.7", "9.8.6"))
    assert version.mismatches("9.8.7", tmp_path) == [
        "packages/targd/src/targd/__init__.py: __version__ '9.8.6', not '9.8.7'"
    ]


def test_the_script_exits_1_on_a_mismatch_and_2_on_a_bad_version() -> None:
    ok = subprocess.run([sys.executable, "release/version.py"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "release/version.py", "one"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_every_distribution_has_the_metadata_an_index_shows() -> None:
    for member in version.members():
        project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
        name = project["name"]
        for field in (
            "description",
            "readme",
            "requires-python",
            "license",
            "authors",
            "keywords",
            "classifiers",
            "urls",
        ):
            assert project.get(field), f"{name}: no {field}"
        assert (member / "LICENSE").read_text() == (ROOT / "LICENSE").read_text(), name
        assert project["requires-python"] == ">=3.11", name


def test_readmes_have_no_relative_links_which_are_dead_on_an_index_page() -> None:
    # PyPI renders the README alone: a link into the repository (../../examples/x) leads nowhere there
    link = re.compile(r"\]\((?!https?://|#)([^)]+)\)")
    for member in version.members():
        readme = (member / "README.md").read_text()
        assert link.findall(readme) == [], member.name
