"""dignore --compose: a <Dockerfile>.dockerignore beside every service's Dockerfile, keeping what that service's
build needs; --check and --diff compare with the files on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from dignore.command import human
from dockit.build_context import walk_context
from dockit.ignore import PatternMatcher
from tests.dignore.conftest import Result, write_tree
from tests.dignore.monorepos import MIXED


def sent(context: Path, ignore: Path) -> set[str]:
    return {e.path for e in walk_context(context, PatternMatcher.parse(ignore.read_bytes())) if e.kind != "dir"}


def test_every_service_gets_its_file(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(tmp_path, MIXED.tree("busybox"))
    r = dignore("--compose", cwd=root)
    assert r.code == 0, r.err
    for name, (context, _target, dockerfile, files) in MIXED.services.items():
        ignore = root / context / (dockerfile + ".dockerignore")
        assert sent(root / context, ignore) == files, name
    lines = r.err.splitlines()
    assert lines[0] == (
        "dignore: services/api/Dockerfile.dockerignore serves api (prod), worker (worker): it keeps what any of them"
        " needs"
    )
    summaries = [line.split(":")[1].strip() for line in lines if ".dockerignore: keeps" in line]
    assert summaries == ["api", "worker", "web", "rs", "tool"]  # one line per service, in the file's order
    api = MIXED.services["api"][3] - {"services/api/Dockerfile.dockerignore"}  # not written yet when counted
    size = sum((root / p).stat().st_size for p in api)
    assert lines[1] == (
        "dignore: api: services/api/Dockerfile.dockerignore: keeps config/prod, jobs, lib/go/common, services/api"
        f" and 5 root files ({len(api)} files, {human(size)})"
    )
    header = (root / "apps/web/Dockerfile.dockerignore").read_text().splitlines()[0]
    assert header.endswith("Regenerate with: dignore --compose compose.yaml")
    assert (root / "apps/web/Dockerfile.dockerignore").read_text().splitlines()[-1] == "**/*.map"


def test_check_passes_when_current_and_fails_after_a_dependency_is_added(
    tmp_path: Path, dignore: Callable[..., Result]
) -> None:
    root = write_tree(tmp_path, MIXED.tree("busybox"))
    missing = dignore("--compose", "compose.yaml", "--check", cwd=root)
    assert missing.code == 1 and "dignore: apps/web/Dockerfile.dockerignore: would be created" in missing.err
    assert not (root / "apps/web/Dockerfile.dockerignore").exists()
    assert dignore("--compose", cwd=root).code == 0
    current = dignore("--compose", "--check", cwd=root)
    assert current.code == 0, current.err
    package = root / "apps/web/package.json"
    package.write_text(json.dumps({"name": "web", "dependencies": {"@acme/ui": "*", "@acme/other": "workspace:*"}}))
    stale = dignore("--compose", "--check", "--diff", cwd=root)
    assert stale.code == 1
    assert "dignore: apps/web/Dockerfile.dockerignore: would change" in stale.err
    assert "+!packages/other\n" in stale.out and stale.out.startswith("--- a/apps/web/Dockerfile.dockerignore\n")
    assert "would change" not in stale.err.replace("apps/web/Dockerfile.dockerignore: would change", "")


def test_compose_mistakes(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(tmp_path, {"svc/Dockerfile": "FROM busybox\n"})
    assert dignore("--compose", cwd=root).err.startswith("dignore: no compose file here (compose.yaml, ")
    write_tree(root, {"compose.yaml": "services:\n  a:\n    build: [1\n"})
    bad = dignore("--compose", cwd=root)
    # the message is libyaml's or PyYAML's own, whichever PyYAML was built with
    assert bad.code == 1 and bad.err.startswith("dignore: compose.yaml:4: not valid YAML: ") and "','" in bad.err
    write_tree(root, {"compose.yaml": "services:\n  a:\n    build: .\n    x-dignore: {keep: nope}\n"})
    assert dignore("--compose", cwd=root).err == (
        "dignore: compose.yaml: service a: x-dignore keep must be a list of strings\n"
    )
    usage = dignore("svc", "--compose", "-o", "x", cwd=root)
    assert usage.code == 2
    assert usage.err == "dignore: --compose writes a file beside each service's Dockerfile: it takes no DIR, -o\n"


def test_compose_values_are_interpolated(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    # compose reads ${VAR:-default} and the project's .env (the environment wins over it)
    root = write_tree(
        tmp_path,
        {
            ".env": "# build settings\nSTAGE='prod'\n",
            "svc/api/Dockerfile": "FROM busybox AS prod\nCOPY lib/a /a\nFROM busybox AS dev\nCOPY lib/b /b\n",
            "lib/a/x": "",
            "lib/b/y": "",
            "compose.yaml": "services:\n  api:\n    build:\n      context: .\n"
            "      dockerfile: ${API_DIR:-svc/api}/Dockerfile\n      target: $STAGE\n",
        },
    )
    r = dignore("--compose", "--exclude-root-files", cwd=root)
    assert r.code == 0, r.err
    assert (root / "svc/api/Dockerfile.dockerignore").read_text().splitlines()[1:] == ["*", "!lib/a", "!svc/api"]
    write_tree(root, {"compose.yaml": "services:\n  api:\n    build: ${CTX:?set CTX to the context}\n"})
    bad = dignore("--compose", cwd=root)
    assert (bad.code, bad.err) == (1, "dignore: compose.yaml: CTX: set CTX to the context\n")


def test_extends_gives_the_base_services_build(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    root = write_tree(
        tmp_path,
        {
            "svc/api/Dockerfile": "FROM busybox AS prod\nCOPY lib/a /a\nFROM busybox AS dev\nCOPY lib/b /b\n",
            "lib/a/x": "",
            "lib/b/y": "",
            "compose.yaml": "services:\n  base:\n"
            "    build: {context: ., dockerfile: svc/api/Dockerfile, target: prod}\n"
            "  dev:\n    extends: base\n    build: {target: dev}\n  odd:\n    extends: {service: base, file: x.yaml}\n",
        },
    )
    r = dignore("--compose", "--exclude-root-files", cwd=root)
    assert r.code == 0, r.err
    assert "dignore: odd: extends a service of x.yaml, which dignore does not read\n" in r.err
    assert "base (prod), dev (dev)" in r.err
    assert (root / "svc/api/Dockerfile.dockerignore").read_text().splitlines()[1:] == [
        "*",
        "!lib/a",
        "!lib/b",
        "!svc/api",
    ]


def test_aliases_cannot_blow_up_a_build_section(tmp_path: Path, dignore: Callable[..., Result]) -> None:
    # nine levels of ten aliases: a billion strings once followed; refused after 10,000, at once
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    compose = "x-bomb:\n" + "".join(f"  {line}\n" for line in levels)
    compose += "services:\n  a:\n    build:\n      context: .\n      args: *a8\n"
    root = write_tree(tmp_path, {"compose.yaml": compose, "Dockerfile": "FROM busybox\n"})
    r = dignore("--compose", cwd=root)
    assert (r.code, r.err) == (1, "dignore: compose.yaml: a service's build section has more than 10000 values\n")


def test_pre_commit_hook_runs_compose_check(tmp_path: Path) -> None:
    """The repository's .pre-commit-hooks.yaml, read as pre-commit reads it: the dignore hook's entry, run as a
    command in the repository (no file names), fails on a stale file and passes once regenerated."""
    import shlex
    import subprocess
    import sys

    import yaml

    hooks = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "dignore")
    assert (hook["language"], hook["pass_filenames"], hook["always_run"]) == ("system", False, True)
    entry = shlex.split(hook["entry"])
    entry[0] = str(Path(sys.executable).with_name("dignore"))
    root = write_tree(tmp_path, MIXED.tree("busybox"))
    stale = subprocess.run(entry, cwd=root, capture_output=True, text=True, check=False)
    assert stale.returncode == 1 and "services/api/Dockerfile.dockerignore: would be created" in stale.stderr
    subprocess.run(entry[:-1], cwd=root, check=True, capture_output=True)
    assert subprocess.run(entry, cwd=root, capture_output=True, check=False).returncode == 0


def test_readme_examples_are_what_dignore_prints(tmp_path: Path) -> None:
    """Every ``$ dignore ...`` of the README (but --help) prints what the README shows, run in a copy of
    examples/dignore/monorepo in README order (--compose writes its files there). Before the --diff example,
    svc/web gains the dependency the README names (for that command only)."""
    import re
    import shlex
    import shutil
    import subprocess
    import sys

    repo = Path(__file__).parents[2]
    readme = (repo / "packages/dignore/README.md").read_text()
    root = tmp_path / "monorepo"
    shutil.copytree(repo / "examples/dignore/monorepo", root)
    exe = str(Path(sys.executable).with_name("dignore"))
    checked = 0
    blocks, current = [], None  # fenced blocks without a language: what a terminal shows
    for line in readme.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current = [] if line == "```\n" else ["(not shell)"]
            else:
                blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    for block in blocks:
        for command, shown in re.findall(r"^\$ (dignore .*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE):
            if "--help" in command:
                continue
            web = root / "svc/web/package.json"
            original = web.read_text()
            if "--diff" in command:
                web.write_text(
                    web.read_text().replace('"workspace:*"', '"workspace:*",\n    "legacy": "file:../../lib/legacy"')
                )
            words = shlex.split(command.replace(" > /dev/null", ""))
            quiet = "> /dev/null" in command  # as a terminal shows it: both streams in the order written
            out = subprocess.DEVNULL if quiet else subprocess.PIPE
            err = subprocess.PIPE if quiet else subprocess.STDOUT
            done = subprocess.run([exe, *words[1:]], cwd=root, stdout=out, stderr=err, text=True, check=False)
            printed = done.stderr if quiet else done.stdout
            web.write_text(original)
            assert printed == shown, command
            checked += 1
    assert checked >= 7  # the compose examples at least; other sections (Limits) add theirs
