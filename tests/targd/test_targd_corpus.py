"""For every stage of every corpus Dockerfile: targd's output re-parses, holds exactly the stages the target needs
(same bases, same instructions, the same dependencies between them) and its closure is the original closure.

The corpus: the hand-written files in corpus/ and 60 generated ones (corpus_gen.py); none is copied from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from dockit.dockerfile import Dockerfile, Stage, parse
from dockit.expand import expand
from targd.prune import prune
from tests.shared.test_dockerfile_properties import Plan, plans
from tests.targd.corpus_gen import generate

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.Dockerfile"))
SEEDS = range(60)


def check_every_target(df: Dockerfile) -> None:
    for target in df.stages:
        check(df, target)


def check(df: Dockerfile, target: Stage) -> None:
    closure = df.closure(target.index)
    result = prune(df, target.index)
    out = parse(result.text, build_args=df.build_args, platform=df.platform)
    where = f"target {target.label}:\n{result.text}"
    alone = parse(result.text, platform=df.platform)  # without --build-arg: the output stands alone
    assert [s.base for s in alone.stages] == [s.base for s in out.stages], where

    old_of = [s.index for s in closure]  # output index -> original index
    assert len(out.stages) == len(closure), where
    assert [old_of[s.index] for s in out.closure(None)] == old_of, where
    assert out.preamble == df.preamble and len(out.global_args) == len(df.global_args)
    env = df.base_env()
    for new_arg, old_arg in zip(out.global_args, df.global_args, strict=True):
        if str(new_arg) != str(old_arg):  # a value that chose a stage, written as the default, with targd's note
            assert new_arg.lead.splitlines()[-1].startswith("# set by targd: "), where
            changed = [(a, b) for a, b in zip(new_arg.args, old_arg.args, strict=True) if a != b]
            assert len(changed) == 1, where
            name, _, default = changed[0][0].partition("=")
            assert expand(default, {}).value == env[name], where
    if target.name is not None:
        assert out.stage(target.name).index == len(out.stages) - 1, where

    for new, old in zip(out.stages, closure, strict=True):
        assert new.base == old.base, where
        assert new.name == (old.name if old.name is not None else result.renames.get(old.index)), where
        assert [old_of[d] for d in new.deps()] == old.deps(), where
        assert len(new.instructions) == len(old.instructions), where
        for ni, oi in zip(new.instructions, old.instructions, strict=True):
            if ni.text == oi.text:
                continue
            # Only a --from=<index> may change, and it must now name the same stage.
            assert ni.keyword in ("COPY", "ADD") and oi.flag("from") is not None, (ni.text, oi.text)
            assert str(oi.flag("from")).isdigit(), (ni.text, oi.text)
            assert {k: v for k, v in ni.flags.items() if k != "from"} == {
                k: v for k, v in oi.flags.items() if k != "from"
            }
            assert ni.args == oi.args
            moved_to = out.stage(str(ni.flag("from")))
            assert old_of[moved_to.index] == int(str(oi.flag("from")))


def test_corpus_is_big_enough() -> None:
    assert len(FILES) + len(SEEDS) >= 50
    assert all(len(parse(f.read_bytes()).stages) >= 3 for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_hand_written(path: Path) -> None:
    check_every_target(parse(path.read_bytes(), path=path.name))


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_hand_written_with_another_platform_and_build_args(platform: str) -> None:
    for path in FILES:
        check_every_target(parse(path.read_bytes(), build_args={"FLAVOR": "debug"}, platform=platform))


@pytest.mark.parametrize("seed", SEEDS)
def test_generated(seed: int) -> None:
    text = generate(seed)
    df = parse(text)
    assert len(df.stages) >= 4
    check_every_target(df)
    for stage in df.stages:
        if len(df.closure(stage.index)) == len(df.stages):  # nothing to remove: the file comes back as it was
            assert prune(df, stage.index).text == text


@settings(max_examples=150, deadline=None)
@given(plans())
def test_files_from_the_models_property_strategy(plan: Plan) -> None:
    df = parse(plan.text)
    check_every_target(df)
    if len(df.closure(None)) == len(df.stages):
        assert prune(df).text == plan.text
