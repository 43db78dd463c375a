"""docker build with dignore's .dockerignore: the context each builder gets is the one dignore promised.

One build per builder (classic: the Debian docker CLI walks the context; BuildKit: its own file sync; buildah) of a
made-up monorepo with every case at once: a nested service with its own rules (rooted, ``**``, exceptions, an
exception that docker does not let into an excluded directory), a shared library, root files, symlinks, a directory
named like a pattern, and a .git and node_modules to leave out. On BuildKit only, a ``<Dockerfile>.dockerignore``
written by dignore decides the context instead of the root file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dockit.build_context import ContextSize, walk_context
from dockit.ignore import PatternMatcher
from tests.dignore.conftest import MONOREPO, write_tree
from tests.system.docker_fixtures import BASE_IMAGE, Builder, BuildKit, Dockerd

pytestmark = pytest.mark.system

EXTRA = {
    "svc/api/vendor/mod/a.go": "package a\n",
    "svc/api/vendor/keep.txt": "re-included by name\n",
    "svc/api/cache/x.txt": "matched by !**/x.txt, yet docker never opens cache/\n",
    "svc/api/x.txt": "x\n",
    "a*b/literal": "a directory named like a pattern\n",
    "axxb/matched-by-a-star-b": "left out\n",
    "elsewhere/target": "outside the kept paths\n",
}
SERVICE_RULES = MONOREPO["svc/api/.dockerignore"] + "vendor\n!vendor/keep.txt\ncache\n!**/x.txt\n"
LIST_START, LIST_END = "--- context ---", "--- end ---"
DOCKERFILE = f"""FROM {BASE_IMAGE}
COPY . /ctx
RUN echo '{LIST_START}' && cd /ctx && find . ! -type d | sort && echo '{LIST_END}'
"""
# BuildKit's --progress plain prefixes each line a RUN prints with its vertex and time: "#7 0.213 ./a.txt".
_RUN_OUTPUT = re.compile(r"^#\d+ \d+\.\d+ ", re.MULTILINE)


def _listing(output: str) -> list[str]:
    """The files the RUN above listed, as it printed them (``./``-less), whichever builder ran it."""
    text = _RUN_OUTPUT.sub("", output)
    return [p.removeprefix("./") for p in text.split(LIST_START + "\n")[-1].split(LIST_END)[0].split()]


def test_docker_build_gets_exactly_the_promised_context(builder: Builder, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {**MONOREPO, **EXTRA, "svc/api/.dockerignore": SERVICE_RULES})
    os.symlink("../../elsewhere/target", root / "svc/api/link")
    os.symlink("svc", root / "alias")
    dignore = Path(sys.executable).with_name("dignore")
    proc = subprocess.run(
        [dignore, "-C", str(root), "svc/api", "lib/common", "a*b", "--stats", "-o", str(root / ".dockerignore")],
        capture_output=True,
        text=True,
        check=True,
    )
    promised = list(walk_context(root, PatternMatcher.parse((root / ".dockerignore").read_bytes())))
    promised_files = sorted(e.path for e in promised if e.kind != "dir")
    size = ContextSize.of(promised)
    assert f"dignore: after:  {size.files} files, {size.bytes} bytes (" in proc.stderr

    build = builder.build(root, DOCKERFILE, tag=f"dignore-system-{builder.name}:ctx")
    assert _listing(build.output) == promised_files

    files = {p.removeprefix("/ctx/"): f for p, f in builder.export(build.ref).files.items() if p.startswith("/ctx/")}
    sent = {p: (f.type, f.size if f.type == "file" else 0) for p, f in files.items() if f.type != "dir"}
    assert sent == {e.path: (e.kind, e.size) for e in promised if e.kind != "dir"}
    assert {e.path for e in promised if e.kind == "dir"} <= {p for p, f in files.items() if f.type == "dir"}
    # the cases that matter, spelled out
    assert "svc/api/vendor/keep.txt" in sent and "svc/api/x.txt" in sent and "a*b/literal" in sent
    assert not {"svc/api/cache/x.txt", "svc/api/vendor/mod/a.go", "axxb/matched-by-a-star-b", ".git/HEAD"} & set(sent)
    assert sent["alias"] == ("symlink", 0) and sent["svc/api/link"] == ("symlink", 0)
    assert not any(p.startswith(("svc/web/", "lib/other/", "svc/api/node_modules/left-pad")) for p in sent)


def test_context_inferred_from_the_dockerfile(builder: Builder, tmp_path: Path) -> None:
    # Stage "list" shows the context docker got; the last stage is the build dignore -f plans for (glob, file, dir).
    root = write_tree(
        tmp_path / "repo", {**MONOREPO, "svc/api/requirements.txt": "r\n", "svc/api/requirements-dev.txt": ""}
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        DOCKERFILE.replace(f"FROM {BASE_IMAGE}", f"FROM {BASE_IMAGE} AS list", 1)
        + f"FROM {BASE_IMAGE}\nCOPY svc/api/requirements*.txt /app/\nCOPY lib/common /app/lib\n"
        "COPY ./svc/api/main.py /app/\n"
    )
    dignore = Path(sys.executable).with_name("dignore")
    subprocess.run(
        [dignore, "-C", str(root), "-f", str(dockerfile), "--exclude-root-files", "-o", str(root / ".dockerignore")],
        check=True,
    )
    promised = sorted(
        e.path
        for e in walk_context(root, PatternMatcher.parse((root / ".dockerignore").read_bytes()))
        if e.kind != "dir"
    )
    assert promised == [
        "lib/common/deep/er/x.py",
        "lib/common/util.py",
        "svc/api/main.py",
        "svc/api/requirements-dev.txt",
        "svc/api/requirements.txt",
    ]
    assert _listing(builder.build(root, dockerfile, target="list").output) == promised
    final = builder.build(root, dockerfile, tag=f"dignore-system-{builder.name}:final")
    app = {p for p, f in builder.export(final.ref).files.items() if p.startswith("/app/") and f.type == "file"}
    assert app == {
        "/app/requirements.txt",
        "/app/requirements-dev.txt",
        "/app/lib/util.py",
        "/app/lib/deep/er/x.py",
        "/app/main.py",
    }


def test_a_dockerfiles_own_dockerignore_decides_what_buildkit_sends(
    buildkit: BuildKit, dockerd: Dockerd, tmp_path: Path
) -> None:
    """BuildKit only: ``svc/api/Dockerfile.dockerignore`` beside ``-f svc/api/Dockerfile`` replaces the root
    ``.dockerignore`` (the classic builder reads the root file only). dignore carries the root file's rules into it."""
    root_rules = "# the repository's own rules\n**/*.md\nsvc/api/x.txt\n"
    root = write_tree(
        tmp_path / "repo",
        {**MONOREPO, **EXTRA, "svc/api/.dockerignore": SERVICE_RULES, ".dockerignore": root_rules, "svc/api/R.md": ""},
    )
    dockerfile = root / "svc/api/Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    own = root / "svc/api/Dockerfile.dockerignore"
    dignore = Path(sys.executable).with_name("dignore")
    # DIRs, not -f: the Dockerfile's COPY . reads the whole context.
    subprocess.run([dignore, "-C", str(root), "svc/api", "lib/common", "-o", str(own)], check=True)
    assert (root / ".dockerignore").read_text() == root_rules, "the root file is left alone"
    promised = list(walk_context(root, PatternMatcher.parse(own.read_bytes())))
    promised_files = sorted(e.path for e in promised if e.kind != "dir")
    assert "svc/api/main.py" in promised_files and "lib/common/util.py" in promised_files
    assert not {"svc/api/x.txt", "svc/api/R.md", "docs/index.md", "svc/web/index.js"} & set(promised_files)

    build = buildkit.build(root, dockerfile, tag="dignore-system-buildkit:own")
    assert _listing(build.output) == promised_files
    files = buildkit.export(build.ref).files
    sent = {
        p.removeprefix("/ctx/"): (f.type, f.size) for p, f in files.items() if p.startswith("/ctx/") and f.type != "dir"
    }
    assert sent == {e.path: (e.kind, e.size if e.kind == "file" else 0) for e in promised if e.kind != "dir"}

    classic = _listing(dockerd.build(root, dockerfile).output)
    assert "svc/web/index.js" in classic and "svc/api/x.txt" not in classic  # the root file's rules, and only those
