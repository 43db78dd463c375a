"""Real BuildKit builds (Docker 20.10's built-in BuildKit, which reads <Dockerfile>.dockerignore) of the made-up
monorepos: for each service, ``COPY . /ctx`` receives exactly the service's files, its dependencies' files and the
root files, and nothing the root .dockerignore leaves out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockit.ignore import PatternMatcher
from tests.dignore.conftest import write_tree
from tests.dignore.monorepos import ECOSYSTEMS, MIXED, ROOT_IGNORE, Monorepo
from tests.system.docker_fixtures import BuildKit

pytestmark = pytest.mark.system
DIGNORE = str(Path(sys.executable).with_name("dignore"))


def received(buildkit: BuildKit, context: Path, dockerfile: Path, tag: str, target: str | None = None) -> set[str]:
    """The files (not directories) a build copied from its context into /ctx."""
    build = buildkit.build(context, dockerfile, tag=tag, target=target)
    files = buildkit.export(build.ref).files
    return {p.removeprefix("/ctx/") for p, f in files.items() if p.startswith("/ctx/") and f.type != "dir"}


def never_excluded(files: set[str]) -> None:
    root = PatternMatcher.parse(ROOT_IGNORE)
    assert not [f for f in files if root.matches(f)]
    assert not {".git/HEAD", ".env", "debug.log"} & files


@pytest.mark.parametrize("repo", ECOSYSTEMS, ids=[r.name for r in ECOSYSTEMS])
def test_each_ecosystem_service_receives_exactly_its_files(repo: Monorepo, buildkit: BuildKit, tmp_path: Path) -> None:
    root = write_tree(tmp_path / repo.name, repo.tree(str(buildkit.base)))
    for service, files in repo.services.items():
        ignore = f"{service}/Dockerfile.dockerignore"
        subprocess.run([DIGNORE, service, "-o", ignore], cwd=root, check=True, capture_output=True)
        got = received(
            buildkit, root, root / service / "Dockerfile", f"dignore-{repo.name}:{service.replace('/', '-')}"
        )
        assert got == files | repo.root_files | {ignore}, service
        never_excluded(got)


def test_compose_services_receive_exactly_their_files(buildkit: BuildKit, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "mixed", MIXED.tree(str(buildkit.base)))
    done = subprocess.run([DIGNORE, "--compose"], cwd=root, capture_output=True, text=True, check=True)
    assert [line.split(":")[1] for line in done.stderr.splitlines() if ".dockerignore: keeps" in line] == [
        *(" api", " worker", " web", " rs", " tool")
    ]
    for name, (context, target, dockerfile, files) in MIXED.services.items():
        got = received(buildkit, root / context, root / context / dockerfile, f"dignore-mixed:{name}", target)
        assert got == files, name
        never_excluded(got)
    check = [DIGNORE, "--compose", "--check"]
    assert subprocess.run(check, cwd=root, capture_output=True).returncode == 0
    (root / "packages/extra").mkdir()
    (root / "packages/extra/package.json").write_text('{"name": "@acme/extra"}\n')
    (root / "apps/web/package.json").write_text(json.dumps({"name": "web", "dependencies": {"@acme/extra": "*"}}))
    stale = subprocess.run(check, cwd=root, capture_output=True, text=True)
    assert stale.returncode == 1 and stale.stderr == "dignore: apps/web/Dockerfile.dockerignore: would change\n"


def test_sources_as_buildkit_reads_them(buildkit: BuildKit, tmp_path: Path) -> None:
    # BuildKit reads `\conf` as conf and 'q' as q, and finds svc/a^b/*.txt: the files dignore keeps are the ones
    # the build copies (a missing one fails the build)
    root = write_tree(
        tmp_path / "words",
        {
            "conf/a": "a\n",
            "q/b": "b\n",
            "other/c": "c\n",
            "svc/a^b/x.txt": "a glob below a name with a caret\n",
            "svc/a^b/y.md": "not matched\n",
            "svc/Dockerfile": f"FROM {buildkit.base}\nADD \\conf /x/conf\nCOPY 'q' /x/q\nCOPY svc/a^b/*.txt /x/g/\n",
        },
    )
    subprocess.run([DIGNORE, "-f", "svc/Dockerfile", "-o", "svc/Dockerfile.dockerignore"], cwd=root, check=True)
    build = buildkit.build(root, root / "svc/Dockerfile", tag="dignore-words:x")
    files = buildkit.export(build.ref).files
    copied = {p for p, f in files.items() if p.startswith("/x/") and f.type == "file"}
    assert copied == {"/x/conf/a", "/x/q/b", "/x/g/x.txt"}
