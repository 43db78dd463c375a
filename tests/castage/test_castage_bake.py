"""The docker-bake.hcl castage writes, read back with a real HCL2 parser (python-hcl2): exactly the expected targets,
cache refs and order, written out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from castage.generate import generate
from castage.mode import Mode

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "examples" / "castage" / "Dockerfile").read_text()
IMG = "registry.example:5000/team/app"
_READ = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)


def bake(dockerfile: str = EXAMPLE, **options: Any) -> dict[str, Any]:
    """The parsed file: {"group": {name: body}, "target": {name: body}, "variable": {...}}, names in file order."""
    options.setdefault("mode", Mode.BAKE)
    result = generate(dockerfile, image=IMG, **options)
    assert not result.executable
    parsed = hcl2.loads(result.text, serialization_options=_READ)
    return {kind: {k: v for block in blocks for k, v in block.items()} for kind, blocks in parsed.items()}


def registry(*refs: str) -> list[str]:
    return [f"type=registry,ref={IMG}:cache-{r}" for r in refs]


def test_every_stage_is_a_target_and_the_default_group_builds_the_final_one() -> None:
    hcl = bake(file_given=True, context="examples/castage", path="examples/castage/Dockerfile", push=True)
    assert hcl["group"] == {"default": {"targets": ["runtime"]}}
    assert list(hcl["target"]) == ["deps", "assets", "build", "test", "runtime"]  # file order: a dependency order

    def target(stage: str, *needs: str) -> dict[str, Any]:
        return {
            "context": "examples/castage",
            "dockerfile": "Dockerfile",  # bake reads it relative to the context
            "target": stage,
            "tags": [f"{IMG}:{stage}"],
            "cache-from": registry(stage, *needs),
            "cache-to": [f"type=registry,ref={IMG}:cache-{stage},mode=max"],
            "output": ["type=registry"],
        }

    assert hcl["target"] == {
        "deps": target("deps"),
        "assets": target("assets"),
        "build": target("build", "deps"),
        # A stage reads the caches of the stages it refers to: theirs (mode=max) hold what those need in turn.
        "test": target("test", "build"),
        "runtime": target("runtime", "assets", "build"),
    }


def test_args_platforms_and_a_bare_build_arg_from_the_environment() -> None:
    hcl = bake("FROM a AS x\n", build_args=["A=1 ${B} %{c}", "TOKEN"], platforms=["linux/amd64", "linux/arm64"])
    x = hcl["target"]["x"]
    # HCL reads ${ and %{ as template sequences: they are written $${ and %%{, which HCL reads back as ${ and %{.
    assert x["args"] == {"A": "1 $${B} %%{c}", "TOKEN": "${TOKEN}"}
    assert hcl["variable"] == {"TOKEN": {"default": ""}}  # bake sets a variable from the environment
    assert x["platforms"] == ["linux/amd64", "linux/arm64"]
    assert "output" not in x, "no --push: nothing is pushed"


def test_bake_gha_scopes_per_image_and_stage() -> None:
    hcl = bake(mode=Mode.BAKE_GHA, target="build")
    assert hcl["target"]["build"]["cache-from"] == ["type=gha,scope=team/app/build", "type=gha,scope=team/app/deps"]
    assert hcl["target"]["build"]["cache-to"] == ["type=gha,scope=team/app/build,mode=max"]
    prefixed = bake(mode=Mode.BAKE_GHA, target="deps", scope_prefix="api")
    assert prefixed["target"]["deps"]["cache-to"] == ["type=gha,scope=api/deps,mode=max"]


def test_branch_reads_its_own_cache_then_mains_and_writes_only_its_own() -> None:
    build = bake(target="build", branch="feature/x", image_manifest=True)["target"]["build"]
    branch = "feature-x-217d2bf5"  # sha256("feature/x")[:8]: the name had to change
    assert build["tags"] == [f"{IMG}:build-{branch}"]
    assert build["cache-from"] == registry(f"build-{branch}", "build-main", f"deps-{branch}", "deps-main")
    assert build["cache-to"] == [
        f"type=registry,ref={IMG}:cache-build-{branch},mode=max,image-manifest=true,oci-mediatypes=true"
    ]


def test_an_unnamed_final_stage_is_the_default_target_without_target() -> None:
    hcl = bake("FROM alpine AS builder\nFROM alpine\nCOPY --from=builder / /\n")
    assert hcl["group"] == {"default": {"targets": ["latest"]}}
    assert "target" not in hcl["target"]["latest"] and hcl["target"]["latest"]["tags"] == [f"{IMG}:latest"]


def test_an_unnamed_intermediate_stage_is_left_out_with_a_warning() -> None:
    dockerfile = "FROM alpine AS deps\nFROM deps\nRUN make\nFROM alpine AS app\nCOPY --from=1 / /\n"
    result = generate(dockerfile, image=IMG, mode=Mode.BAKE)
    assert result.warnings == [
        "Dockerfile:2: stage 1 has no name, so it is no bake target: it is built and cached inside app "
        "(name it with FROM ... AS NAME to give it a target)"
    ]
    targets = bake(dockerfile)["target"]
    assert list(targets) == ["deps", "app"]
    # app refers to the unnamed stage 1, which has no cache of its own: the cache of what stage 1 builds on stands in.
    assert targets["app"]["cache-from"] == registry("app", "deps")


def test_a_stdin_dockerfile_is_inline_and_reads_back_byte_for_byte() -> None:
    hcl = bake(EXAMPLE, path="-")
    inline = hcl["target"]["deps"]["dockerfile-inline"]
    assert inline.replace("$${", "${").replace("%%{", "%{") == EXAMPLE


def test_a_stage_name_bake_refuses_becomes_a_target_name_it_takes() -> None:
    hcl = bake("FROM a AS app.v2\nFROM a AS app_v2\n")
    assert list(hcl["target"]) == ["app_v2", "app_v2_2"]
    assert [t["target"] for t in hcl["target"].values()] == ["app.v2", "app_v2"]


@pytest.mark.parametrize("mode", [Mode.LEGACY, Mode.GHA])
def test_image_manifest_needs_a_registry_cache(mode: Mode) -> None:
    from dockit.errors import UsageError

    with pytest.raises(UsageError, match="--image-manifest: only for a registry cache"):
        generate("FROM a AS x\n", image=IMG, mode=mode, image_manifest=True)
