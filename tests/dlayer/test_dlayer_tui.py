"""dlayer -i, driven headlessly with textual's pilot: layers expand into directories and files, biggest first, and
the detail line gives a command that really extracts the selected file."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dlayer.findings import trace
from dlayer.report import build_report
from dlayer.tui import make_app
from dockit.archive import read_image
from tests.dlayer.archives import archives

__all__ = ["archives"]
pytestmark = pytest.mark.system


def test_browse_to_a_file_and_extract_it(archives: dict[str, Path]) -> None:
    archive = str(archives["oci-gzip"])
    app = make_app(build_report(read_image(archive)), archive)
    seen: dict[str, Any] = {}

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            tree = app.query_one("#layers")
            assert [str(n.label).split()[0] for n in tree.root.children] == ["[0]", "[1]", "[2]", "[3]"]
            await pilot.press("down", "down", "enter")  # layer 1 expanded
            layer1 = tree.root.children[1]
            seen["layer1"] = [str(n.label) for n in layer1.children]
            await pilot.press("down", "enter")  # app/
            await pilot.press("down", "enter")  # app/data/ (the biggest directory)
            await pilot.press("down")  # big.bin, its biggest file
            seen["detail"] = str(app.query_one("#detail").render())
            await pilot.press("q")

    asyncio.run(drive())
    assert seen["layer1"][0].strip().startswith("305 kB  app/")
    detail = seen["detail"]
    assert detail.startswith("/app/data/big.bin  300 kB")
    command = detail.split("$ ", 1)[1].strip()
    data = subprocess.run(command, shell=True, capture_output=True, check=True).stdout
    assert len(data) == 300_000


def test_a_layer_shows_its_findings() -> None:
    archive = str(Path(__file__).resolve().parents[2] / "examples" / "dlayer" / "app.tar")
    report = build_report(read_image(archive))
    app = make_app(report, archive, trace(report.image, report.stack))
    seen: dict[str, str] = {}

    async def drive() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("down", "down", "down")  # layer 2: pip install
            seen["added"] = str(app.query_one("#detail").render())
            await pilot.press("down")  # layer 3: rm -rf /root/.cache
            seen["deleted"] = str(app.query_one("#detail").render())
            await pilot.press("q")

    asyncio.run(drive())
    assert "adds 90 kB that layer 3 deletes (pip cache: use `pip install --no-cache-dir`" in seen["added"]
    assert "deletes 90 kB that layer 2 added (pip cache:" in seen["deleted"]
    assert "overwrites 9 B that layer 1 added" in seen["deleted"]


def test_dlayer_i_hands_the_browser_the_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    import dlayer.tui
    from dlayer.command import Options, run_dlayer

    handed: list[int] = []
    monkeypatch.setattr(dlayer.tui, "browse", lambda report, archive, findings=(): handed.append(len(findings)))
    archive = str(Path(__file__).resolve().parents[2] / "examples" / "dlayer" / "app.tar")
    assert run_dlayer(Options(spec=archive, interactive=True, quiet=True)) == 0
    assert handed == [2]  # the pip cache deleted later, and main.py rewritten
