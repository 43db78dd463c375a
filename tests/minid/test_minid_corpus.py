"""minid on real-world-style Dockerfiles: the output re-parses, never has more layers, keeps every instruction it does
not merge byte for byte and in order, merges what the rules allow, is stable, and `--check` agrees with `--diff`.

The corpus: the files in corpus/ (written for minid), targd's hand-written corpus and 60 files from its generator,
and 80 generated here from realistic instruction fragments; none is copied from elsewhere.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from dockit.dockerfile import Instruction, Stage, parse
from dockit.expand import expand
from dockit.merge import LAYER_KEYWORDS, minify
from dockit.merge.shell import analyze
from tests.targd.corpus_gen import generate

HERE = Path(__file__).parent
FILES = sorted((HERE / "corpus").glob("*.Dockerfile")) + sorted((HERE.parent / "targd" / "corpus").glob("*.Dockerfile"))
MINID = str(Path(sys.executable).with_name("minid"))

FRAGMENTS = [
    "RUN apt-get update\n",
    "RUN apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
    "RUN cd /src && make # build\n",
    "RUN set -eux; \\\n    # inner comment\n    make install\n",
    "RUN export A=1; echo $A\n",
    'RUN ["/bin/echo", "exec form"]\n',
    "RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt\n",
    "RUN echo 'unterminated\n",
    "RUN echo $(uname -m) > /arch\n",
    "run echo lower case\n",
    "ENV A=1\n",
    "ENV B $A\n",
    'ENV C "quoted value"\n',
    "ENV D=${C:-x} E=two\n",
    "ENV F some legacy  value\n",
    'LABEL a="b c"\n',
    "LABEL legacy value here\n",
    "COPY a /dst/\n",
    'COPY ["b c", "/dst/"]\n',
    "COPY --chown=1:1 d /dst/\n",
    "COPY e /file\n",
    "ADD https://example.invalid/x.tgz /dst/\n",
    "ADD local.tar /dst/\n",
    "WORKDIR /src\n",
    "# a comment\n",
    "\n",
    'SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\n',
    "USER 1000\n",
]


def fragment_file(seed: int) -> str:
    rng = random.Random(seed)
    body = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(4, 25)))
    return "FROM busybox\n" + body + ("FROM alpine AS second\n" + body if rng.random() < 0.3 else "")


SOURCES = {f.name: f.read_text() for f in FILES}
SOURCES |= {f"targd-generated-{seed}": generate(seed) for seed in range(60)}
SOURCES |= {f"fragments-{seed}": fragment_file(seed) for seed in range(80)}


def kept(insts: list[Instruction]) -> list[str]:
    return [i.text for i in insts]


@pytest.mark.parametrize("name", SOURCES)
def test_corpus(name: str) -> None:
    source = SOURCES[name]
    df = parse(source)
    result = minify(source)
    out = parse(result.text)
    assert out.preamble == df.preamble
    assert len(out.stages) == len(df.stages)
    merged = {i.start_line for m in result.merges for i in m.instructions}
    for old, new, stats in zip(df.stages, out.stages, result.stats, strict=True):
        layers = sum(1 for i in new.instructions if i.keyword in LAYER_KEYWORDS)
        assert stats.after == layers <= stats.before
        # instructions not merged are still there, verbatim and in order
        untouched = [i.text for i in old.instructions if i.start_line not in merged]
        assert [t for t in kept(new.instructions) if t in untouched] == untouched
        assert [i.keyword for i in new.instructions if i.text in untouched] == [
            i.keyword for i in old.instructions if i.start_line not in merged
        ]
        assert effects(new, out.escape) == effects(old, df.escape)
    assert result.changed == (result.text != source)
    assert minify(result.text).text == result.text  # nothing left to merge: stable


def effects(stage: Stage, escape: str) -> tuple[dict[str, str], dict[str, str], list[tuple[object, ...]]]:
    """What the stage's ENV, LABEL, COPY and ADD do, as BuildKit evaluates them: each ENV/LABEL expands every value
    with the variables as they were before the instruction; each COPY/ADD source lands in its destination with its
    flags. Two stages with equal effects build the same config and copy the same files in the same order."""
    env: dict[str, str] = {}
    labels: dict[str, str] = {}
    copies: list[tuple[object, ...]] = []
    for inst in stage.instructions:
        if inst.keyword in ("ENV", "LABEL"):
            values = {
                expand(inst.args[i], env, escape).value: expand(inst.args[i + 1], env, escape).value
                for i in range(0, len(inst.args), 2)
            }
            (env if inst.keyword == "ENV" else labels).update(values)
        elif inst.keyword in ("COPY", "ADD"):
            *sources, dest = inst.args
            for source in sources:
                word = source if inst.json else expand(source, env, escape).value
                copies.append((inst.keyword, tuple(sorted(inst.flag_list)), dest, word, inst.json and " " in source))
    return env, labels, copies


def test_the_corpus_merges_a_lot() -> None:
    """Guard against a vacuous corpus: most files change, and the layer count drops substantially overall."""
    results = [minify(s) for s in SOURCES.values()]
    assert sum(r.changed for r in results) >= len(results) // 2
    before = sum(s.before for r in results for s in r.stats)
    after = sum(s.after for r in results for s in r.stats)
    assert before - after >= 150, (before, after)


@pytest.mark.parametrize("name", SOURCES)
def test_every_run_pair_the_rules_allow_is_merged(name: str) -> None:
    """Two consecutive shell-form RUNs with the same flags, under a POSIX shell, both isolable: always merged."""
    source = SOURCES[name]
    result = minify(source)
    merged = {i.start_line for m in result.merges for i in m.instructions}
    for stage in parse(source).stages:
        shell = "/bin/sh"
        for a, b in zip(stage.instructions, stage.instructions[1:], strict=False):
            if a.keyword == "SHELL":
                shell = a.args[0]
            if stage.base.startswith("mcr.microsoft.com/windows") or not shell.endswith(("sh", "bash")):
                continue
            if a.keyword == b.keyword == "RUN" and a.flag_list == b.flag_list:
                if any(i.json or i.heredocs or not analyze(i.args[0]).ok for i in (a, b)):
                    continue
                assert {a.start_line, b.start_line} <= merged, (a.text, b.text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_check_agrees_with_diff(path: Path) -> None:
    check = subprocess.run([MINID, "--check", str(path)], capture_output=True, text=True, check=False)
    diff = subprocess.run([MINID, "--diff", str(path)], capture_output=True, text=True, check=False)
    assert diff.returncode == 0
    assert check.returncode == (1 if diff.stdout else 0)
    assert len(check.stdout.splitlines()) == len(minify(path.read_text()).merges)
