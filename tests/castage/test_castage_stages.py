"""Which stages the scripts build: the last stage always (named or not), unnamed stages a target needs (from a copy
of the Dockerfile where they are named), and a file with no named stage at all.

Each script runs with bash and a recording ``docker`` (tests/castage/scripts.py) in a directory holding the
Dockerfile it was generated from, and goes through shellcheck.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from castage.generate import generate
from castage.mode import Mode
from castage.plan import plan_stages
from dockit.dockerfile import parse
from dockit.edit import with_stage_names
from dockit.errors import UsageError
from tests.castage.scripts import run_script, shellcheck

IMG = "registry.example:5000/team/app"
INLINE = ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]

# The most common layout: a named builder, then the unnamed stage users ship.
BUILDER_THEN_FINAL = "FROM alpine AS builder\nRUN make\nFROM alpine\nCOPY --from=builder /app /app\n"

UNNAMED = (
    "FROM alpine\nRUN echo toolchain\n"  # 0: unnamed, needed by 3
    "FROM alpine AS deps\n"  # 1
    "FROM 0 AS build\nCOPY --from=deps / /d\n"  # 2 (FROM 0 is an image named "0", not stage 0)
    "FROM alpine\nCOPY --from=0 / /t\n"  # 3: unnamed, needs 0
    "FROM deps AS app\nCOPY --from=3 / /x\n"  # 4: needs 3 and so 0
    "FROM alpine\nRUN echo dead\n"  # 5: unnamed, nobody needs it
    "FROM alpine AS last\n"  # 6
)


def script_in(tmp_path: Path, dockerfile: str, **options: object) -> str:
    """The script for ``dockerfile``, written as tmp_path/Dockerfile (where the script runs)."""
    (tmp_path / "Dockerfile").write_text(dockerfile)
    options.setdefault("image", IMG)
    script = generate(dockerfile, **options).text  # type: ignore[arg-type]
    shellcheck(script)
    return script


def builds(calls: list[list[str]]) -> list[str | None]:
    """The --target of each build, None for a build without one."""
    return [c[c.index("--target") + 1] if "--target" in c else None for c in calls if c[0] in ("build", "buildx")]


def test_an_unnamed_final_stage_is_built_without_target_and_tagged_latest(tmp_path: Path) -> None:
    run = run_script(script_in(tmp_path, BUILDER_THEN_FINAL, push=True), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.calls == [
        ["pull", f"{IMG}:builder"],
        ["build", "--target", "builder", "-t", f"{IMG}:builder", "--cache-from", f"{IMG}:builder", *INLINE, "."],
        ["push", f"{IMG}:builder"],
        ["pull", f"{IMG}:latest"],
        [
            "build",
            "-t",
            f"{IMG}:latest",
            "--cache-from",
            f"{IMG}:builder",
            "--cache-from",
            f"{IMG}:latest",
            *INLINE,
            ".",
        ],
        ["push", f"{IMG}:latest"],
    ]


def test_final_tag_names_the_unnamed_final_stage(tmp_path: Path) -> None:
    calls = run_script(script_in(tmp_path, BUILDER_THEN_FINAL, final_tag="prod", mode=Mode.BUILDX), tmp_path).calls
    assert calls[1][:4] == ["buildx", "build", "-t", f"{IMG}:prod"]
    assert calls[1][calls[1].index("--cache-to") + 1] == f"type=registry,ref={IMG}:cache-prod,mode=max"


def test_final_tag_may_not_take_a_stage_name() -> None:
    with pytest.raises(UsageError, match=r"--final-tag builder: stage 0 \(line 1\) is named builder already"):
        generate(BUILDER_THEN_FINAL, image=IMG, final_tag="builder")


# Each pair of builds would write one image or cache: the later would replace the earlier's, and a branch would
# replace the default branch's. Before the check, each made a script (exit 0) that did so.
@pytest.mark.parametrize(
    ("dockerfile", "options", "error"),
    [
        (
            "FROM busybox AS v1\nFROM v1\n",
            {"branch": "main", "final_tag": "v1-main"},
            f"stage v1 (line 1) and the unnamed final stage v1-main (line 2) would both write {IMG}:v1-main on branch "
            "main: rename a stage, or choose another --final-tag or --branch",
        ),
        (  # the same on a pull request: its script is fine alone, main's would not be
            "FROM busybox AS v1\nFROM v1\n",
            {"branch": "pr-7", "final_tag": "v1-main", "mode": Mode.GHA},
            f"stage v1 (line 1) and the unnamed final stage v1-main (line 2) would both write {IMG}:v1-main on the "
            "default branch main",
        ),
        (  # branch x would overwrite the image main ships
            "FROM busybox AS build\nFROM build\n",
            {"branch": "x", "final_tag": "build-x"},
            f"stage build (line 1) would write {IMG}:build-x on branch x, which the default branch main writes for "
            "the unnamed final stage build-x (line 2)",
        ),
        (  # a registry cache is a tag of the image's repository
            "FROM busybox AS x\nFROM busybox AS cache-x\n",
            {"mode": Mode.BUILDX},
            f"stage x (line 1) and stage cache-x (line 2) would both write {IMG}:cache-x:",
        ),
        (  # an unnamed stage built on its own
            "FROM busybox\nFROM busybox AS app\nCOPY --from=0 / /\nFROM app\n",
            {"branch": "main", "final_tag": "stage-0-main"},
            "stage 0 (line 1, unnamed: built as stage-0) and the unnamed final stage stage-0-main (line 4) would both",
        ),
    ],
)
def test_two_builds_may_not_write_one_image_or_cache(dockerfile: str, options: dict[str, Any], error: str) -> None:
    with pytest.raises(UsageError) as raised:
        generate(dockerfile, image=IMG, **options)
    assert str(raised.value).startswith(error), str(raised.value)


@pytest.mark.parametrize(
    ("dockerfile", "options"),
    [
        ("FROM busybox AS build\nFROM build\n", {"branch": "main", "final_tag": "build-x"}),  # x is not on the line
        ("FROM busybox AS x\nFROM busybox AS cache-x\n", {"mode": Mode.GHA}),  # scopes are not tags
        ("FROM busybox AS x\nFROM busybox AS cache-x\n", {}),  # an inline cache is the image
        (  # bake builds an unnamed stage inside the stages that need it, under no tag of its own
            "FROM busybox\nFROM busybox AS app\nCOPY --from=0 / /\nFROM app\n",
            {"branch": "main", "final_tag": "stage-0-main", "mode": Mode.BAKE},
        ),
    ],
)
def test_distinct_refs_pass(dockerfile: str, options: dict[str, Any]) -> None:
    assert generate(dockerfile, image=IMG, **options).text


def test_a_named_final_stage_keeps_its_name_and_final_tag_warns() -> None:
    result = generate("FROM a AS x\nFROM x AS runtime\n", image=IMG, final_tag="v1", push=True)
    assert "-t registry.example:5000/team/app:runtime" in result.text and ":v1" not in result.text
    assert result.warnings == [f"--final-tag v1: the final stage is named, so it is tagged {IMG}:runtime"]


def test_a_file_without_named_stages_gets_a_one_stage_script(tmp_path: Path) -> None:
    run = run_script(script_in(tmp_path, "FROM alpine\nRUN echo hi\n", push=True), tmp_path)
    assert run.calls == [
        ["pull", f"{IMG}:latest"],
        ["build", "-t", f"{IMG}:latest", "--cache-from", f"{IMG}:latest", *INLINE, "."],
        ["push", f"{IMG}:latest"],
    ]


def test_unnamed_stages_a_stage_needs_are_built_from_a_named_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    script = script_in(tmp_path, UNNAMED, push=True)
    assert "# Stage 5 (line 10) has no name and nothing built here needs it: not built.\n" in script
    assert "# Stage 0 (line 1, unnamed: built as stage-0)\n" in script
    run = run_script(script.replace('rm -rf "$dockerdir"', f'cp "$dockerfile" {copy}'), tmp_path)
    assert run.returncode == 0, run.stderr
    assert builds(run.calls) == ["stage-0", "deps", "build", "stage-3", "app", "last"]
    assert copy.read_text() == UNNAMED.replace("FROM alpine\nRUN echo t", "FROM alpine AS stage-0\nRUN echo t").replace(
        "FROM alpine\nCOPY", "FROM alpine AS stage-3\nCOPY"
    )
    files = {c[c.index("-f") + 1] for c in run.calls if c[0] == "build"}
    assert len(files) == 1 and files.pop().endswith("/Dockerfile"), "every build reads the one copy"
    assert [c[1] for c in run.calls if c[0] == "push"] == [
        f"{IMG}:{t}" for t in ("stage-0", "deps", "build", "stage-3", "app", "last")
    ]


def test_the_copy_is_not_used_when_the_dockerfile_changed(tmp_path: Path) -> None:
    script = script_in(tmp_path, UNNAMED, push=True)
    (tmp_path / "Dockerfile").write_text(UNNAMED + "RUN echo more\n")
    run = run_script(script, tmp_path)
    assert run.returncode == 1 and run.calls == []
    assert "Dockerfile changed since castage wrote this script: run castage again\n" in run.stderr


def test_the_copy_takes_the_dockerfiles_own_dockerignore_along(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.dockerignore").write_text("secret\n")
    seen = tmp_path / "seen"
    script = script_in(tmp_path, UNNAMED).replace('rm -rf "$dockerdir"', f'cp -r "$dockerdir" {seen}')
    assert run_script(script, tmp_path).returncode == 0
    assert sorted(p.name for p in seen.iterdir()) == ["Dockerfile", "Dockerfile.dockerignore"]
    assert (seen / "Dockerfile.dockerignore").read_text() == "secret\n"


def test_an_unnamed_target_is_built_by_its_new_name(tmp_path: Path) -> None:
    assert builds(run_script(script_in(tmp_path, UNNAMED, target="3"), tmp_path).calls) == ["stage-0", "stage-3"]
    assert builds(run_script(script_in(tmp_path, BUILDER_THEN_FINAL, target="1"), tmp_path).calls) == ["builder", None]


def test_a_new_name_captures_nothing(tmp_path: Path) -> None:
    # stage-0 is already an image this file uses: the unnamed stage 0 must get another name.
    dockerfile = "FROM alpine\nFROM alpine AS x\nCOPY --from=stage-0 / /\nCOPY --from=0 / /\n"
    run = run_script(script_in(tmp_path, dockerfile), tmp_path)
    assert builds(run.calls) == ["stage-0-2", "x"]


def test_no_comment_starts_with_a_stage_name(tmp_path: Path) -> None:
    # "# shellcheck (line 1)" would be a shellcheck directive (SC1073, and shellcheck stops checking the script).
    dockerfile = "FROM alpine AS shellcheck\nFROM alpine AS disable\nFROM shellcheck\n"
    for mode in (Mode.LEGACY, Mode.BUILDX, Mode.GHA):
        script = script_in(tmp_path, dockerfile, mode=mode, push=True)
        comments = [line[1:].split()[0] for line in script.splitlines() if line.startswith("#") and line[1:].strip()]
        assert set(comments) <= {"!/usr/bin/env", "Generated", "Run", "Needs", "Stage", "Final", "Level", "Wait"}, (
            comments
        )


def test_a_stdin_dockerfile_with_unnamed_stages_carries_the_named_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    dockerfile = "FROM alpine\nRUN make\nFROM alpine\nCOPY --from=0 /app /app\n"
    script = generate(dockerfile, image=IMG, path="-", push=True).text
    shellcheck(script)
    assert "sha256sum" not in script, "there is no file to compare with"
    run = run_script(script.replace('rm -rf "$dockerdir"', f'cp "$dockerfile" {copy}'), tmp_path)
    assert builds(run.calls) == ["stage-0", None]
    assert copy.read_text() == "FROM alpine AS stage-0\nRUN make\nFROM alpine\nCOPY --from=0 /app /app\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 30), max_size=3)), min_size=1, max_size=12))
def test_any_stage_graph_plans_dependencies_first_and_names_nothing_twice(
    stages: list[tuple[bool, list[int]]],
) -> None:
    # Stage i is named s<i> or unnamed, and copies from some earlier stages by index.
    lines = []
    for i, (named, refs) in enumerate(stages):
        lines.append(f"FROM alpine AS s{i}" if named else "FROM alpine")
        lines += [f"COPY --from={r % i} / /x{r}" for r in refs if i]
    df = parse("\n".join(lines) + "\n")
    plan = plan_stages(df)
    keys = [s.key for s in plan.stages]
    assert len(set(keys)) == len(keys), "every built stage has its own tag"
    assert plan.stages[-1].index == len(stages) - 1, "the last stage is always built"
    position = {s.index: n for n, s in enumerate(plan.stages)}
    for stage in plan.stages:
        assert all(position[d] < position[stage.index] for d in df.stages[stage.index].deps())
        assert (stage.target is None) == (stage.index == len(stages) - 1 and not stages[-1][0])
    built = set(position)
    for s in df.stages:
        needed = s.name is not None or s.index == len(stages) - 1 or any(s.index in df.stages[b].deps() for b in built)
        assert (s.index in built) == needed
    renamed = with_stage_names(df, plan.renames)
    again = parse(renamed)
    assert [s.name for s in again.stages] == [
        s.name if s.name is not None else plan.renames.get(s.index) for s in df.stages
    ], "the copy names exactly the renamed stages"
    assert [s.deps() for s in again.stages] == [s.deps() for s in df.stages], "and refers to the same stages"
