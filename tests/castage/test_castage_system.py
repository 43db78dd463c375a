"""End to end on the private daemon and a real registry: castage's legacy script, cold and then on an emptied daemon.

Also the original approach (only the final image pushed) on the same Dockerfile, to show what castage fixes: there,
the dependency stage rebuilds on every fresh machine. buildx/gha scripts cannot run here (the Debian docker CLI has no
buildx); test_castage_script.py checks them by what bash passes to docker and by shellcheck. The classic builder runs
here; test_castage_buildkit.py runs the scripts on BuildKit. What was cached is read from the build output; how much
faster that makes a run is measured by bench/bench_castage.py, not asserted (it depends on the machine's load).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.castage.e2e import SLOW_STEP, ScriptRun, Step, castage_script, make_context, original_script, run_script
from tests.castage.scripts import shellcheck
from tests.system.docker_fixtures import Dockerd, Registry

pytestmark = pytest.mark.system


@dataclass(frozen=True)
class Runs:
    image: str
    castage_cold: ScriptRun[Step]
    castage_cached: ScriptRun[Step]
    cold_runtime_id: str
    cached_runtime_id: str
    original_cold: ScriptRun[Step]
    original_cached: ScriptRun[Step]
    output_of_runtime: str


@pytest.fixture(scope="module")
def runs(dockerd: Dockerd, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    workdir = tmp_path_factory.mktemp("castage-e2e")
    make_context(workdir)
    repo = f"castage/e2e-{uuid.uuid4().hex[:8]}"
    image = f"{registry.host}/{repo}"
    base = dockerd.base.tag

    script = castage_script(image, base)
    shellcheck(script)
    dockerd.prune()
    cold = run_script(script, workdir, dockerd.env)
    cold_id = dockerd.image_id(f"{image}:runtime")
    dockerd.prune()
    assert dockerd.docker("images", "-q", image).stdout == "", "the daemon must start empty"
    cached = run_script(script, workdir, dockerd.env)
    cached_id = dockerd.image_id(f"{image}:runtime")
    output = dockerd.docker("run", "--rm", "--network", "none", f"{image}:runtime").stdout

    original = original_script(f"{image}-original", base)
    dockerd.prune()
    original_cold = run_script(original, workdir, dockerd.env)
    dockerd.prune()
    original_cached = run_script(original, workdir, dockerd.env)
    dockerd.prune()
    runs = Runs(image, cold, cached, cold_id, cached_id, original_cold, original_cached, output)
    print(
        f"\ncastage e2e: castage cold {cold.seconds:.1f} s, cached {cached.seconds:.1f} s; "
        f"original approach cold {original_cold.seconds:.1f} s, cached {original_cached.seconds:.1f} s"
    )
    return runs


def _cacheable(build: list[Step]) -> list[Step]:
    """The steps that make an image: not FROM (it takes an image) nor the ARGs before the first FROM (they only set
    variables for FROM lines)."""
    first_from = next(i for i, s in enumerate(build) if s.instruction.startswith("FROM "))
    return [s for s in build[first_from:] if not s.instruction.startswith("FROM ")]


def test_castage_builds_and_pushes_every_stage(runs: Runs, registry: Registry) -> None:
    repo = runs.image.split("/", 1)[1]
    assert sorted(registry.tags(repo)) == ["build", "deps", "runtime"]
    assert runs.output_of_runtime == "dep\nmain\n"
    cold_steps = runs.castage_cold.steps()
    assert any(s.instruction == SLOW_STEP and not s.cached for s in cold_steps), "the cold run really built"


def test_on_an_empty_daemon_every_step_of_every_stage_is_cached(runs: Runs) -> None:
    builds = runs.castage_cached.builds
    assert len(builds) == 3
    for build in builds:
        assert all(step.cached for step in _cacheable(build)), build
    # deps: RUN; build: the same RUN, COPY, RUN; runtime: those, COPY --from, CMD.
    assert [len(_cacheable(b)) for b in builds] == [1, 3, 5]
    assert runs.cached_runtime_id == runs.cold_runtime_id, "the cache gave back the very same image"


def test_the_original_approach_rebuilds_the_dependency_stage(runs: Runs) -> None:
    (build,) = runs.original_cached.builds
    slow = [s for s in build if s.instruction == SLOW_STEP]
    assert slow == [Step(SLOW_STEP, cached=False)]
