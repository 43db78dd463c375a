"""One version for all seven distributions: the workspace root's ``[project] version`` is the one place it is set.

``python release/version.py`` checks that every member's pyproject, every ``__version__`` and every tool's pin on the
shared library agree with it (exit 1 naming each file that does not); ``python release/version.py 0.2.0`` sets the
root's version and writes it into all of them (a release bumps all seven). Each member keeps a static copy so that
its sdist stands alone and its metadata is readable without running code.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = "better-image-dockit"
VERSION_LINE = re.compile(r'^version = "([^"]+)"$', re.M)
DUNDER = re.compile(r'^__version__ = "([^"]+)"$', re.M)
PIN = re.compile(rf'"{LIBRARY}(\[[a-z,]+\])?==([^"]+)"')


def members(root: Path = ROOT) -> list[Path]:
    """The seven member directories: the shared library first, then the tools."""
    return [root / "shared", *sorted(p.parent for p in (root / "packages").glob("*/pyproject.toml"))]


def init_file(member: Path) -> Path:
    """The member's ``__init__.py``: its import package is the only directory under ``src/``."""
    (package,) = [p for p in (member / "src").iterdir() if (p / "__init__.py").exists()]
    return package / "__init__.py"


def root_version(root: Path = ROOT) -> str:
    return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def mismatches(version: str, root: Path = ROOT) -> list[str]:
    """One line per file whose version (or pin on the library) is not ``version``."""
    problems = []
    for member in members(root):
        pyproject = member / "pyproject.toml"
        text = pyproject.read_text()
        found = VERSION_LINE.search(text)
        if found is None or found.group(1) != version:
            problems.append(f"{pyproject.relative_to(root)}: version {found and found.group(1)!r}, not {version!r}")
        for pin in PIN.finditer(text):
            if pin.group(2) != version:
                problems.append(f"{pyproject.relative_to(root)}: pins {LIBRARY}=={pin.group(2)}, not {version}")
        init = init_file(member)
        dunder = DUNDER.search(init.read_text())
        if dunder is None or dunder.group(1) != version:
            problems.append(f"{init.relative_to(root)}: __version__ {dunder and dunder.group(1)!r}, not {version!r}")
    return problems


def set_version(version: str, root: Path = ROOT) -> None:
    files = [root / "pyproject.toml", *(m / "pyproject.toml" for m in members(root))]
    for path in files:
        text = VERSION_LINE.sub(f'version = "{version}"', path.read_text(), count=1)
        path.write_text(PIN.sub(lambda m: f'"{LIBRARY}{m.group(1) or ""}=={version}"', text))
    for member in members(root):
        init = init_file(member)
        init.write_text(DUNDER.sub(f'__version__ = "{version}"', init.read_text(), count=1))


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and not re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", argv[0])):
        print("usage: release/version.py [X.Y.Z]", file=sys.stderr)
        return 2
    if argv:
        set_version(argv[0])
    problems = mismatches(root_version())
    for line in problems:
        print(f"version: {line}", file=sys.stderr)
    if not problems:
        print(f"version: all seven distributions at {root_version()}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
