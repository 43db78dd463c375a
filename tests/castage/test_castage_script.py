"""The scripts castage prints, mode by mode: what bash hands to docker, in which order, and shellcheck on each.

Every script generated here goes through shellcheck. The docker commands are checked as bash itself splits them (a
recording ``docker`` function; see tests/castage/scripts.py), against commands written out by hand.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from castage.generate import generate
from castage.mode import SPECS, Mode, Output
from dockit.errors import DockerfileError, UsageError
from tests.castage.scripts import run_script, shellcheck

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "examples" / "castage" / "Dockerfile").read_text()
IMG = "registry.example:5000/team/app"
SCRIPT_MODES = [m for m in Mode if SPECS[m].output is Output.SCRIPT]


def script_for(dockerfile: str = EXAMPLE, **options: object) -> str:
    options.setdefault("image", IMG)
    script = generate(dockerfile, **options).text  # type: ignore[arg-type]
    shellcheck(script)
    return script


def test_legacy_builds_every_named_stage_in_file_order_with_one_cache_flag_per_image(tmp_path: Path) -> None:
    run = run_script(script_for(push=True), tmp_path)
    assert run.returncode == 0, run.stderr
    inline = ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]

    def build(stage: str, *cached: str) -> list[str]:
        cache = [w for s in cached for w in ("--cache-from", f"{IMG}:{s}")]
        return ["build", "--target", stage, "-t", f"{IMG}:{stage}", *cache, *inline, "."]

    assert run.calls == [
        ["pull", f"{IMG}:deps"],
        build("deps", "deps"),
        ["push", f"{IMG}:deps"],
        ["pull", f"{IMG}:assets"],
        build("assets", "deps", "assets"),
        ["push", f"{IMG}:assets"],
        ["pull", f"{IMG}:build"],
        build("build", "deps", "assets", "build"),
        ["push", f"{IMG}:build"],
        ["pull", f"{IMG}:test"],
        build("test", "deps", "assets", "build", "test"),
        ["push", f"{IMG}:test"],
        ["pull", f"{IMG}:runtime"],
        build("runtime", "deps", "assets", "build", "test", "runtime"),
        ["push", f"{IMG}:runtime"],
    ]
    assert not any("," in word for call in run.calls for word in call), "cache images are never joined by commas"


def test_legacy_without_push_pushes_nothing_and_a_failed_pull_is_not_an_error(tmp_path: Path) -> None:
    script = script_for(target="deps")
    assert "docker pull registry.example:5000/team/app:deps || true\n" in script
    run = run_script(script, tmp_path)
    assert [c[0] for c in run.calls] == ["pull", "build"]


def test_target_builds_only_the_stages_it_needs(tmp_path: Path) -> None:
    run = run_script(script_for(target="runtime"), tmp_path)
    targets = [c[c.index("--target") + 1] for c in run.calls if c[0] == "build"]
    assert targets == ["deps", "assets", "build", "runtime"]  # not "test": runtime does not need it


def test_target_is_case_insensitive_and_may_be_an_index(tmp_path: Path) -> None:
    assert script_for(target="BUILD") == script_for(target="2")
    assert "--target build" in script_for(target="2")


def test_a_failed_build_stops_the_legacy_script(tmp_path: Path) -> None:
    run = run_script(script_for(push=True), tmp_path, fail_target="build")
    assert run.returncode != 0
    assert run.calls[-1][:3] == ["build", "--target", "build"]
    assert ["push", f"{IMG}:build"] not in run.calls


def test_values_with_spaces_dollars_and_quotes_reach_docker_unchanged(tmp_path: Path) -> None:
    context = "my ctx $HOME `id` 'q'"
    dockerfile = "dir with space/Dockerfile.$USER"
    script = script_for(
        "FROM alpine AS only\n",
        context=context,
        path=dockerfile,
        file_given=True,
        build_args=["MSG=hello $(whoami) world", "EMPTY="],
    )
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.calls[1] == [
        "build",
        "--target",
        "only",
        "-t",
        f"{IMG}:only",
        "--cache-from",
        f"{IMG}:only",
        "--build-arg",
        "BUILDKIT_INLINE_CACHE=1",
        "--build-arg",
        "MSG=hello $(whoami) world",
        "--build-arg",
        "EMPTY=",
        "-f",
        dockerfile,
        context,
    ]


def test_a_path_that_looks_like_a_flag_gets_dot_slash(tmp_path: Path) -> None:
    run = run_script(script_for("FROM a AS x\n", context="-ctx", path="-df", file_given=True), tmp_path)
    assert run.calls[1][-3:] == ["-f", "./-df", "./-ctx"]


@pytest.mark.parametrize(
    ("file_given", "context", "passed"),
    [(False, ".", None), (False, "./", None), (True, ".", "Dockerfile"), (False, "app", "Dockerfile")],
)
def test_the_dockerfile_is_passed_on_when_docker_would_read_another(
    tmp_path: Path, file_given: bool, context: str, passed: str | None
) -> None:
    build = run_script(script_for("FROM a AS x\n", file_given=file_given, context=context), tmp_path).calls[1]
    assert (build[build.index("-f") + 1] if "-f" in build else None) == passed


def test_a_dockerfile_from_stdin_travels_inside_the_script(tmp_path: Path) -> None:
    text = "FROM alpine AS base\nRUN echo $HOME \\\n  CASTAGE_DOCKERFILE\n# CASTAGE_DOCKERFILE_1\nFROM base AS app\n"
    script = script_for(text, path="-", mode=Mode.BUILDX)
    assert "<<'CASTAGE_DOCKERFILE_2'\n" in script  # an end marker the Dockerfile does not hold
    copy = tmp_path / "copy"
    script = script.replace("trap 'rm -rf \"$dockerdir\"' EXIT", f"trap 'cp \"$dockerfile\" {copy}' EXIT")
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.stderr
    assert copy.read_text() == text
    assert all(c[c.index("-f") + 1].startswith("/") for c in run.calls)


def test_stdin_dockerfile_without_final_newline(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    script = script_for("FROM a AS x", path="-")
    run_script(script.replace('rm -rf "$dockerdir"', f'cp "$dockerfile" {copy}'), tmp_path)
    assert copy.read_text() == "FROM a AS x\n"


def test_build_args_resolve_the_stage_a_from_line_chooses(tmp_path: Path) -> None:
    dockerfile = "ARG FLAVOR=a\nFROM alpine AS deps-a\nFROM alpine AS deps-b\nFROM deps-${FLAVOR} AS final\n"

    def targets(**options: object) -> list[str]:
        calls = run_script(script_for(dockerfile, target="final", **options), tmp_path).calls
        return [c[c.index("--target") + 1] for c in calls if c[0] == "build"]

    assert targets() == ["deps-a", "final"]
    assert targets(build_args=["FLAVOR=b"]) == ["deps-b", "final"]
    # A bare --build-arg takes its value from the environment and stays bare in the script (secrets stay out).
    script = script_for(dockerfile, target="final", build_args=["FLAVOR"], environ={"FLAVOR": "b"})
    calls = run_script(script, tmp_path).calls
    assert [c[c.index("--target") + 1] for c in calls if c[0] == "build"] == ["deps-b", "final"]
    assert all("FLAVOR=b" not in c for c in calls) and calls[1][9:11] == ["--build-arg", "FLAVOR"]


def test_a_given_inline_cache_arg_is_not_doubled(tmp_path: Path) -> None:
    build = run_script(script_for("FROM a AS x\n", build_args=["BUILDKIT_INLINE_CACHE=0"]), tmp_path).calls[1]
    assert [w for w in build if w.startswith("BUILDKIT_INLINE_CACHE")] == ["BUILDKIT_INLINE_CACHE=0"]


@pytest.mark.parametrize(
    ("dockerfile", "target", "message"),
    [
        ("FROM alpine AS a\n", "b", "Dockerfile: no stage 'b'; stages: 0 (a)"),
        ("FROM alpine AS a\nFRM x\n", None, "Dockerfile:2: unknown instruction"),
        (f"FROM alpine AS {'x' * 129}\n", None, "Dockerfile:1: stage name cannot be an image tag"),
    ],
)
def test_dockerfile_problems_are_dockerfile_errors(dockerfile: str, target: str | None, message: str) -> None:
    with pytest.raises(DockerfileError) as e:
        generate(dockerfile, image=IMG, target=target)
    assert message in str(e.value)


def test_a_long_stage_name_fits_legacy_but_not_buildx_cache_tags() -> None:
    name = "x" * 125  # 128 is docker's limit: "cache-" + 125 is too long
    script_for(f"FROM alpine AS {name}\n")
    with pytest.raises(DockerfileError, match="stage name cannot be an image tag"):
        generate(f"FROM alpine AS {name}\n", image=IMG, mode=Mode.BUILDX)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image": "repo/app:v1"}, "without a tag or digest"),
        ({"image": "Repo/App"}, "must be lower case"),
        ({"image": "repo//app"}, "bad path component"),
        ({"context": "-"}, "stdin can be used by one build only"),
        ({"build_args": ["=x"]}, "expected NAME=VALUE or NAME"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, object], message: str) -> None:
    options.setdefault("image", IMG)
    with pytest.raises(UsageError, match=message):
        generate("FROM a AS x\n", **options)  # type: ignore[arg-type]


def _levels(script: str, tmp_path: Path, fail_target: str | None = None) -> tuple[list[list[str]], list[str], int]:
    """The targets started in each group of parallel builds, and the order builds ended."""
    run = run_script(script, tmp_path, fail_target=fail_target)
    groups: list[list[str]] = []
    running = 0
    for kind, argv in run.events:
        target = argv[argv.index("--target") + 1]
        if kind == "start":
            if running == 0:
                groups.append([])
            groups[-1].append(target)
            running += 1
        else:
            running -= 1
    ended = [argv[argv.index("--target") + 1] for kind, argv in run.events if kind != "start"]
    return groups, ended, run.returncode


def test_buildx_runs_independent_stages_side_by_side_in_dag_levels(tmp_path: Path) -> None:
    script = script_for(mode=Mode.BUILDX, push=True)
    groups, ended, code = _levels(script, tmp_path)
    assert code == 0
    assert [sorted(g) for g in groups] == [["assets", "deps"], ["build"], ["runtime", "test"]]
    assert sorted(ended) == ["assets", "build", "deps", "runtime", "test"]


def test_buildx_cache_flags_per_stage(tmp_path: Path) -> None:
    # Its own cache and those of the stages it refers to (COPY --from): not deps, which build's mode=max cache holds.
    calls = run_script(script_for(mode=Mode.BUILDX, push=True), tmp_path).calls
    runtime = next(c for c in calls if "runtime" in c)
    assert runtime == [
        "buildx",
        "build",
        "--target",
        "runtime",
        "-t",
        f"{IMG}:runtime",
        "--cache-from",
        f"type=registry,ref={IMG}:cache-runtime",
        "--cache-from",
        f"type=registry,ref={IMG}:cache-assets",
        "--cache-from",
        f"type=registry,ref={IMG}:cache-build",
        "--cache-to",
        f"type=registry,ref={IMG}:cache-runtime,mode=max",
        "--push",
        ".",
    ]
    without_push = run_script(script_for(mode=Mode.BUILDX), tmp_path).calls
    assert all("--push" not in c for c in without_push)


def test_gha_gives_every_stage_its_own_scope(tmp_path: Path) -> None:
    calls = run_script(script_for(mode=Mode.GHA, target="build"), tmp_path).calls
    assert calls == [
        [
            "buildx",
            "build",
            "--target",
            "deps",
            "-t",
            f"{IMG}:deps",
            "--cache-from",
            "type=gha,scope=team/app/deps",
            "--cache-to",
            "type=gha,scope=team/app/deps,mode=max",
            ".",
        ],
        [
            "buildx",
            "build",
            "--target",
            "build",
            "-t",
            f"{IMG}:build",
            "--cache-from",
            "type=gha,scope=team/app/build",
            "--cache-from",
            "type=gha,scope=team/app/deps",
            "--cache-to",
            "type=gha,scope=team/app/build,mode=max",
            ".",
        ],
    ]


@pytest.mark.parametrize("mode", [Mode.BUILDX, Mode.GHA])
def test_a_failed_parallel_build_fails_the_script_after_its_siblings_end(tmp_path: Path, mode: Mode) -> None:
    groups, ended, code = _levels(script_for(mode=mode), tmp_path, fail_target="deps")
    assert code != 0
    assert [sorted(g) for g in groups] == [["assets", "deps"]]  # nothing of the next level starts
    assert sorted(ended) == ["assets", "deps"]  # the sibling was waited for, not left running


def test_the_script_opens_with_strict_mode_and_tracing() -> None:
    for mode in SCRIPT_MODES:
        lines = script_for(mode=mode).splitlines()
        assert lines[0] == "#!/usr/bin/env bash"
        assert "set -euo pipefail" in lines and "set -x" in lines
        assert lines.index("set -euo pipefail") < lines.index("set -x")


@settings(max_examples=40, deadline=None)
@given(
    context=st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)), min_size=1).filter(
        lambda s: not s.startswith("-")
    ),
    value=st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",))),
)
def test_any_context_and_build_arg_value_reach_docker_as_one_word(context: str, value: str) -> None:
    script = generate("FROM a AS x\n", image=IMG, context=context, build_args=[f"V={value}"], file_given=True).text
    with tempfile.TemporaryDirectory() as tmp:
        build = run_script(script, Path(tmp)).calls[1]
    assert build[-5:] == ["--build-arg", f"V={value}", "-f", "Dockerfile", context]


def test_branch_legacy_pulls_its_own_images_then_mains_and_pushes_only_its_own(tmp_path: Path) -> None:
    calls = run_script(script_for("FROM a AS deps\nFROM deps AS app\n", push=True, branch="pr-7"), tmp_path).calls
    own = ["--cache-from", f"{IMG}:deps-pr-7", "--cache-from", f"{IMG}:deps-main"]
    assert calls == [
        ["pull", f"{IMG}:deps-pr-7"],
        ["pull", f"{IMG}:deps-main"],
        ["build", "--target", "deps", "-t", f"{IMG}:deps-pr-7", *own, "--build-arg", "BUILDKIT_INLINE_CACHE=1", "."],
        ["push", f"{IMG}:deps-pr-7"],
        ["pull", f"{IMG}:app-pr-7"],
        ["pull", f"{IMG}:app-main"],
        [
            "build",
            "--target",
            "app",
            "-t",
            f"{IMG}:app-pr-7",
            *own,
            "--cache-from",
            f"{IMG}:app-pr-7",
            "--cache-from",
            f"{IMG}:app-main",
            "--build-arg",
            "BUILDKIT_INLINE_CACHE=1",
            ".",
        ],
        ["push", f"{IMG}:app-pr-7"],
    ]


def test_branch_on_the_default_branch_reads_and_writes_one_name(tmp_path: Path) -> None:
    calls = run_script(script_for("FROM a AS x\n", mode=Mode.BUILDX, branch="dev", default_branch="dev"), tmp_path)
    assert calls.calls[0][6:10] == [
        "--cache-from",
        f"type=registry,ref={IMG}:cache-x-dev",
        "--cache-to",
        f"type=registry,ref={IMG}:cache-x-dev,mode=max",
    ]


def test_the_unnamed_final_stage_is_latest_on_the_default_branch_and_latest_branch_elsewhere(tmp_path: Path) -> None:
    dockerfile = "FROM a AS deps\nFROM deps\n"
    main = script_for(dockerfile, push=True, branch="main")
    assert "# Final stage 1 (line 2, unnamed: tagged latest)\n" in main
    assert run_script(main, tmp_path).calls[3:] == [
        ["pull", f"{IMG}:latest"],
        [
            "build",
            "-t",
            f"{IMG}:latest",
            "--cache-from",
            f"{IMG}:deps-main",
            "--cache-from",
            f"{IMG}:latest",
            "--build-arg",
            "BUILDKIT_INLINE_CACHE=1",
            ".",
        ],
        ["push", f"{IMG}:latest"],
    ]
    pr = script_for(dockerfile, mode=Mode.GHA, branch="pr-7", final_tag="release")
    assert "Final stage 1 (line 2, unnamed: tagged release-pr-7)\n" in pr
    final = run_script(pr, tmp_path).calls[-1]
    assert final[: final.index("--cache-to") + 2] == [
        "buildx",
        "build",
        "-t",
        f"{IMG}:release-pr-7",
        *("--cache-from", "type=gha,scope=team/app/release-pr-7", "--cache-from", "type=gha,scope=team/app/release"),
        *("--cache-from", "type=gha,scope=team/app/deps-pr-7", "--cache-from", "type=gha,scope=team/app/deps-main"),
        *("--cache-to", "type=gha,scope=team/app/release-pr-7,mode=max"),
    ]


def test_image_manifest_and_platforms_reach_buildx(tmp_path: Path) -> None:
    script = script_for(
        "FROM a AS x\n", mode=Mode.BUILDX, image_manifest=True, platforms=["linux/amd64", "linux/arm64"]
    )
    (call,) = run_script(script, tmp_path).calls
    assert call[call.index("--cache-to") + 1] == (
        f"type=registry,ref={IMG}:cache-x,mode=max,image-manifest=true,oci-mediatypes=true"
    )
    assert call[call.index("--platform") + 1] == "linux/amd64,linux/arm64"


def test_a_branch_too_long_for_a_tag_is_cut_and_hashed(tmp_path: Path) -> None:
    branch = "dependabot/pip/requirements/" + "x" * 200
    (call,) = run_script(script_for("FROM a AS x\n", mode=Mode.GHA, branch=branch), tmp_path).calls
    tag = call[call.index("-t") + 1].split(":")[-1]
    assert tag.startswith("x-dependabot-pip-requirements-") and len(tag) == len("x-") + 40


def test_a_long_chain_gets_one_cache_from_per_link_not_one_per_ancestor(tmp_path: Path) -> None:
    chain = "FROM a AS s0\n" + "".join(f"FROM s{i - 1} AS s{i}\n" for i in range(1, 30))
    calls = run_script(script_for(chain, mode=Mode.GHA), tmp_path).calls
    assert [sum(w == "--cache-from" for w in c) for c in calls] == [1] + [2] * 29
    assert calls[-1][calls[-1].index("--cache-from") :][:4] == [
        "--cache-from",
        "type=gha,scope=team/app/s29",
        "--cache-from",
        "type=gha,scope=team/app/s28",
    ]
