"""castage's legacy scripts end to end on BuildKit (Docker 20.10's, on the private daemon) with the real registry.

Each run is a fresh CI runner: the daemon is emptied first (``prune``), so all a build can reuse is what the registry
holds. The scripts run as castage prints them, with bash; the one thing added is ``--network none`` on each
``docker build`` (tests/castage/e2e.py: a bash function in front of the real client), because the harness daemon has
no bridge network.

- The most common layout: a named builder, an unnamed stage the final one copies from (built from castage's copy of
  the Dockerfile where it is named ``stage-1``), and an unnamed final stage: on the first runner every stage is built
  and pushed, ``IMAGE:latest`` holds the files; on the second, BuildKit executes no step at all.
- Branch caches over three runs: main, then a branch that changes one stage, then main again: the branch warms up
  from main's cache and rebuilds only what it changed, and main's images in the registry are never replaced. On main
  the image it ships is ``IMAGE:latest``, as the script's comment says; the branch's is ``IMAGE:latest-BRANCH``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from castage.generate import generate
from tests.castage.e2e import ScriptRun, run_on_buildkit
from tests.castage.scripts import shellcheck
from tests.system.buildkit import Step
from tests.system.docker_fixtures import BASE_IMAGE, BuildKit, Registry

pytestmark = pytest.mark.system

BUILDER_AND_UNNAMED_FINAL = f"""\
FROM {BASE_IMAGE} AS builder
COPY src/ /src/
RUN mkdir /out && cat /src/main.txt > /out/app.txt

FROM {BASE_IMAGE}
RUN mkdir /tools && echo tool > /tools/tool.txt

FROM {BASE_IMAGE}
COPY --from=builder /out/app.txt /app.txt
COPY --from=1 /tools/tool.txt /tool.txt
CMD ["cat", "/app.txt", "/tool.txt"]
"""

# Two stages, so that three runs stay quick: the branch changes what the final stage copies from the context.
DEPS_AND_APP = f"""\
FROM {BASE_IMAGE} AS deps
RUN mkdir /deps && echo dep > /deps/lib.txt

FROM {BASE_IMAGE}
COPY --from=deps /deps/lib.txt /lib.txt
COPY src/ /src/
CMD ["cat", "/lib.txt", "/src/main.txt"]
"""


def run_on_fresh_runner(buildkit: BuildKit, script: str, workdir: Path) -> ScriptRun[Step]:
    """Empty the daemon, then run ``script`` (shellcheck-clean) on it."""
    shellcheck(script)
    buildkit.prune()
    return run_on_buildkit(script, workdir, buildkit.env)


def executed(run: ScriptRun[Step]) -> list[Step]:
    """The steps that did work (not CACHED, not a FROM), over every build of the run."""
    return [s for s in run.steps() if s.executed]


def context_with(workdir: Path, dockerfile: str, main: str) -> None:
    (workdir / "src").mkdir(exist_ok=True)
    (workdir / "src" / "main.txt").write_text(main)
    (workdir / "Dockerfile").write_text(dockerfile)


def script(image: str, dockerfile: str, **options: object) -> str:
    result = generate(dockerfile, image=image, push=True, **options)  # type: ignore[arg-type]
    assert result.warnings == []
    return result.text


def test_builder_and_unnamed_final_stage_two_fresh_runners(
    buildkit: BuildKit, registry: Registry, tmp_path: Path
) -> None:
    context_with(tmp_path, BUILDER_AND_UNNAMED_FINAL, "main v1\n")
    repo = f"castage/bk-{uuid.uuid4().hex[:8]}"
    image = f"{registry.host}/{repo}"
    ci = script(image, BUILDER_AND_UNNAMED_FINAL)

    first = run_on_fresh_runner(buildkit, ci, tmp_path)
    assert sorted(registry.tags(repo)) == ["builder", "latest", "stage-1"]
    assert [sorted({s.stage for s in b if s.executed}) for b in first.builds] == [["builder"], ["stage-1"], ["stage-2"]]
    assert len(first.builds) == 3
    output = buildkit.docker("run", "--rm", "--network", "none", f"{image}:latest").stdout
    assert output == "main v1\ntool\n"
    pushed = registry.digest(repo, "latest")

    second = run_on_fresh_runner(buildkit, ci, tmp_path)
    assert executed(second) == [], second.output[-3000:]
    assert len(second.builds) == 3 and all(second.builds), "every build ran and reported its steps"
    assert registry.digest(repo, "latest") == pushed, "the second runner rebuilt the very same image"
    output = buildkit.docker("run", "--rm", "--network", "none", f"{image}:latest").stdout
    assert output == "main v1\ntool\n"


def test_a_branch_warms_up_from_main_and_never_overwrites_it(
    buildkit: BuildKit, registry: Registry, tmp_path: Path
) -> None:
    repo = f"castage/branch-{uuid.uuid4().hex[:8]}"
    image = f"{registry.host}/{repo}"
    context_with(tmp_path, DEPS_AND_APP, "main v1\n")
    on_main = script(image, DEPS_AND_APP, branch="main")
    run_on_fresh_runner(buildkit, on_main, tmp_path)
    assert "# Final stage 1 (line 4, unnamed: tagged latest)\n" in on_main
    main_tags = ["deps-main", "latest"]
    assert sorted(registry.tags(repo)) == main_tags
    main_digests = {t: registry.digest(repo, t) for t in main_tags}

    # The branch changes what the final stage copies: deps comes from main's cache, only the final stage rebuilds.
    (tmp_path / "src" / "main.txt").write_text("feature\n")
    on_branch = script(image, DEPS_AND_APP, branch="feature/x")
    word = "feature-x-217d2bf5"  # sha256("feature/x")[:8]: a tag cannot hold the /
    assert f"# Final stage 1 (line 4, unnamed: tagged latest-{word})\n" in on_branch
    branch = run_on_fresh_runner(buildkit, on_branch, tmp_path)
    assert [(s.stage, s.instruction) for s in executed(branch)] == [("stage-1", "COPY src/ /src/")]
    assert sorted(registry.tags(repo)) == sorted([*main_tags, f"deps-{word}", f"latest-{word}"])
    assert {t: registry.digest(repo, t) for t in main_tags} == main_digests, "the branch wrote no main tag"
    output = buildkit.docker("run", "--rm", "--network", "none", f"{image}:latest-{word}").stdout
    assert output == "dep\nfeature\n"

    (tmp_path / "src" / "main.txt").write_text("main v1\n")
    again = run_on_fresh_runner(buildkit, on_main, tmp_path)
    assert executed(again) == [], again.output[-3000:]
    assert {t: registry.digest(repo, t) for t in main_tags} == main_digests
    output = buildkit.docker("run", "--rm", "--network", "none", f"{image}:latest").stdout
    assert output == "dep\nmain v1\n"
