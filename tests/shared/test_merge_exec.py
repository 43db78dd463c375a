"""The executing test: the original's RUN steps and minid's output's RUN steps, each run in a fresh real shell as a
builder runs them (``SHELL + [command]``, stop at the first failure), must leave identical traces.

A trace is everything a step can show: lines the commands append to a trace file (cwd, variables, options, umask,
traps, functions), the files they leave with their modes, and the exit status of the build. Shells: dash (Debian's
/bin/sh), busybox sh and bash, with and without ``-e`` in SHELL. The Go original's `` && `` join is run through the
same harness to show the harness sees the pitfalls it must see.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockit.dockerfile import parse
from dockit.expand import expand
from dockit.merge import minify

SHELLS = {
    "dash": ["/bin/dash", "-c"],
    "busybox": [shutil.which("busybox") or "/bin/busybox", "sh", "-c"],
    "bash": ["/bin/bash", "-c"],
    "dash-e": ["/bin/dash", "-e", "-c"],
    "bash-eo-pipefail": ["/bin/bash", "-eo", "pipefail", "-c"],
}
TRACE = 'echo "S{n} cwd=${{PWD##*/}} X=${{X-unset}} Y=${{Y-unset}} opts=$- umask=$(umask)" >> "$T"'


def dockerfile(commands: list[str], shell: list[str]) -> str:
    head = "FROM busybox\n"
    if shell != ["/bin/sh", "-c"]:
        head += "SHELL [" + ", ".join(f'"{a}"' for a in shell) + "]\n"
    return head + "".join(f"RUN {c}\n" for c in commands)


def run_steps(text: str, shell: list[str], root: Path) -> tuple[int, str, list[str]]:
    """Run every RUN of ``text`` in order, each in a fresh shell; return (status, trace, files with modes).

    ENVs set the variables of the RUNs after them, their values expanded as BuildKit expands them; what each step
    prints on stdout is part of the trace.
    """
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    trace = root / ".trace"
    trace.touch()
    env = {"PATH": os.environ["PATH"], "T": str(trace), "HOME": str(root)}
    status = 0
    printed = []
    for inst in parse(text).stages[0].instructions:
        if inst.keyword == "ENV":
            before = dict(env)
            env.update({inst.args[i]: expand(inst.args[i + 1], before).value for i in range(0, len(inst.args), 2)})
        if inst.keyword != "RUN":
            continue
        argv = [*shell, inst.args[0]] if not inst.json else list(inst.args)
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=20, check=False)
        printed.append(done.stdout)
        if done.returncode != 0:
            status = done.returncode
            break
    files = sorted(
        f"{p.relative_to(root)} {p.stat().st_mode & 0o7777:o}" for p in root.rglob("*") if p.name != ".trace"
    )
    return status, trace.read_text() + "".join(printed), files


def compare(commands: list[str], shell: list[str], tmp: Path) -> tuple[str, str]:
    original = dockerfile(commands, shell)
    merged = minify(original).text
    a = run_steps(original, shell, tmp / "w")
    b = run_steps(merged, shell, tmp / "w")
    if "bash" in shell[0] and (a[0], b[0]) == (127, 1):
        # bash exits 127 on a fatal expansion error (set -u) at top level but 1 in a subshell: still a failure
        b = (127, *b[1:])
    assert a == b, f"\n--- original\n{original}--- merged\n{merged}"
    return original, merged


def naive_join(commands: list[str], shell: list[str]) -> str:
    """What the Go original makes of the RUNs: one RUN joined with ' && '."""
    return dockerfile([" && ".join(commands)], shell)


# Every pitfall the issue names, each with a trace step after it; the naive join gets each of them wrong.
PITFALLS = {
    "comment": ["echo one >> $T # note", TRACE.format(n=2)],
    "cd": ["mkdir -p sub && cd sub", TRACE.format(n=2)],
    "export": ["export X=leaked", TRACE.format(n=2)],
    "assignment": ["Y=leaked", TRACE.format(n=2)],
    "set -u": ["set -u", 'echo "${UNSET_VAR-}${NOPE}" >> $T', TRACE.format(n=3)],
    "umask": ["umask 077", "touch made", TRACE.format(n=3)],
    "exit 0": ["exit 0", TRACE.format(n=2)],
    "trap": ["trap 'echo trapped >> $T' EXIT", TRACE.format(n=2)],
    "function": ["cd() { echo shadowed >> $T; }", "cd / && " + TRACE.format(n=2)],
    "set -e inside": ["set -e; false; echo not-reached >> $T", TRACE.format(n=2)],
    "set -e after and": [TRACE.format(n=1), "set -e; false; echo not-reached >> $T"],
    "failure": ["false", TRACE.format(n=2)],
    "status": ["exit 7", TRACE.format(n=2)],
    "or": ["false", "true || " + TRACE.format(n=2)],
    "subshell first": ["(cd / && echo sub >> $T)", TRACE.format(n=2)],
    "sourced under -e": ["printf 'false\\necho lib-went-on >> $T\\n' > lib", ". ./lib", TRACE.format(n=3)],
    "sourced after set -x": [
        "printf 'false\\necho lib-went-on >> $T\\n' > lib",
        "set -x && . ./lib",
        TRACE.format(n=3),
    ],
}


# Cases where the naive join happens to do the same as separate steps (they guard minid's own constructions).
NAIVE_SAME = ("failure", "status", "set -e inside", "set -e after and", "subshell first", "sourced under -e")
NAIVE_SAME += ("sourced after set -x",)


@pytest.mark.parametrize("shell_name", SHELLS)
@pytest.mark.parametrize("case", PITFALLS)
def test_pitfalls_keep_every_step_as_it_was(case: str, shell_name: str, tmp_path: Path) -> None:
    commands, shell = PITFALLS[case], SHELLS[shell_name]
    _, merged = compare(commands, shell, tmp_path)
    assert merged.count("\nRUN ") == 1, merged  # merged, not left alone


@pytest.mark.parametrize(
    "case",
    [c for c in PITFALLS if c not in NAIVE_SAME],
)
def test_the_naive_join_changes_what_the_pitfalls_do(case: str, tmp_path: Path) -> None:
    """The harness can fail: the original tool's join leaves a different trace for every pitfall."""
    shell = SHELLS["dash"]
    original = dockerfile(PITFALLS[case], shell)
    assert run_steps(original, shell, tmp_path / "w") != run_steps(
        naive_join(PITFALLS[case], shell), shell, tmp_path / "w"
    )


def test_set_e_on_the_left_of_and_is_ignored_by_sh(tmp_path: Path) -> None:
    """Why minid does not write `( cmd1 ) && ( cmd2 )` when cmd1 may switch -e on: sh ignores -e there."""
    commands = ["set -e; false; echo not-reached >> $T", TRACE.format(n=2)]
    shell = SHELLS["dash"]
    subshells = dockerfile([" && ".join(f"( {c} )" for c in commands)], shell)
    assert run_steps(dockerfile(commands, shell), shell, tmp_path / "w") != run_steps(subshells, shell, tmp_path / "w")


# --- generated command sequences ---------------------------------------------------------------------------------

FRAGMENTS = [
    "mkdir -p d && cd d",
    "cd ..",
    "export X=x$RANDOM_NOT_SET",
    "X=plain",
    "unset X",
    "export Y=y",
    "set -e",
    "set +e",
    "set -u",
    "set -o noglob",
    "umask 027",
    "umask 0",
    "trap 'echo trap >> $T' EXIT",
    "f() { echo f >> $T; return 3; }",
    "f",
    "exit 0",
    "exit 4",
    "false",
    "true",
    "touch file 2>/dev/null; touch made",
    "echo 'a # not a comment' >> $T",
    'echo "$X" # a comment && echo swallowed >> $T',
    "case $X in x*) echo case-x >> $T;; *) echo case-other >> $T;; esac",
    "if [ -d d ]; then cd d; fi",
    "for i in 1 2; do echo loop$i >> $T; done",
    "echo $(pwd) >> $T",
    "(cd / && echo sub >> $T)",
    "{ echo group >> $T; }",
    ". ./lib 2>/dev/null || true",
    "printf 'false\\necho lib >> $T\\n' > lib",
    ". ./lib",
    "alias ls=false",
    "echo ${Y:-default} >> $T",
    'test -n "$X" && echo has-x >> $T || echo no-x >> $T',
]
JOINERS = ["; ", " && ", " || "]


@st.composite
def command(draw: st.DrawFn, n: int) -> str:
    parts = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=3))
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from(JOINERS)) + part
    if draw(st.booleans()):
        out += "; " + TRACE.format(n=n)
    return out


@st.composite
def sequences(draw: st.DrawFn) -> list[str]:
    size = draw(st.integers(min_value=2, max_value=5))
    commands = [draw(command(n)) for n in range(size)]
    return [*commands, TRACE.format(n=size)]


@pytest.mark.parametrize("shell_name", SHELLS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=sequences())
def test_generated_sequences_leave_identical_traces(shell_name: str, commands: list[str], tmp_path: Path) -> None:
    shell = SHELLS[shell_name]
    _, merged = compare(commands, shell, tmp_path)
    # Comments sit at the end of a fragment that is not last: the tokenizer refuses those (unclosed), so a RUN may
    # stay alone; every other sequence must become one RUN.
    assert merged.count("\nRUN ") <= len(commands)


def test_generated_sequences_mostly_merge() -> None:
    """Guard against a vacuous property: most sequences built from the same fragments do merge into one RUN."""
    rng = random.Random(5)
    merged = 0
    for _ in range(60):
        commands = []
        for n in range(rng.randint(2, 5)):
            parts = rng.sample(FRAGMENTS, rng.randint(1, 3))
            commands.append("".join(rng.choice(JOINERS) + p for p in parts[1:]).join([parts[0], ""]))
            if rng.random() < 0.5:
                commands[-1] += "; " + TRACE.format(n=n)
        if minify(dockerfile(commands, SHELLS["dash"])).text.count("\nRUN ") == 1:
            merged += 1
    assert merged >= 30


@st.composite
def wrapped(draw: st.DrawFn, command: str) -> str:
    """The command as users wrap it: continuation lines at its separators, sometimes an inner comment line."""
    out = ""
    rest = command
    for sep in ("; ", " && ", " || "):
        pieces = rest.split(sep)
        rest = pieces[0]
        for piece in pieces[1:]:
            rest += (f" \\\n    {sep.strip()} " if sep != "; " else "; \\\n    ") + piece
            if draw(st.booleans()):
                rest = rest.replace(" \\\n    ", " \\\n    # an inner comment\n    ", 1)
    out += rest
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_wrapped_commands_keep_their_lines_and_traces(data: st.DataObject, tmp_path: Path) -> None:
    """Multi-line RUNs go through BuildKit's parser (continuations, inner comment lines) before the shell sees them."""
    commands = [data.draw(wrapped(c)) for c in data.draw(sequences())]
    compare(commands, SHELLS["dash"], tmp_path)


# --- the merge kinds of issue 19: across metadata and ENV, exec form, assignments, waited-for jobs ---------------

ENV_TRACE = 'echo "S{n} X=${{X-unset}} Y=${{Y-unset}} Z=${{Z-unset}} P=$PATH" >> "$T"'
NEW_KINDS = {
    "metadata between": (
        'RUN mkdir -p d && cd d && echo one >> $T\nLABEL a=1\nEXPOSE 80/tcp\nCMD ["x"]\nENTRYPOINT ["y"]\n'
        "STOPSIGNAL SIGTERM\nHEALTHCHECK NONE\nMAINTAINER someone\nRUN " + TRACE.format(n=2) + "\n"
    ),
    "env between": (
        f'RUN {ENV_TRACE.format(n=1)}\nENV X=one Y="two  words"\nRUN {ENV_TRACE.format(n=2)}\n'
        f"ENV Y=${{X}}-$Y X=it\\'s Z='$X'\nRUN {ENV_TRACE.format(n=3)}\n"
        f"ENV PATH=./bin:$PATH\nRUN {ENV_TRACE.format(n=4)}\n"
    ),
    "env and a program reading it": (
        'RUN mkdir bin && printf \'#!/bin/sh\\necho "tool X=$X" >> "$T"\\n\' > bin/tool && chmod +x bin/tool\n'
        "ENV PATH=./bin:$PATH X=from-env\nRUN tool\n"
    ),
    "literal assignments": (
        'RUN X=1 && echo "X=$X" >> $T\nRUN X="v w"; echo "X=$X" >> $T\nRUN X=1 Y=2\nRUN ' + TRACE.format(n=4) + "\n"
    ),
    "exec form": 'RUN echo before >> $T\nRUN ["/usr/bin/env"]\nRUN ["touch", "made"]\nRUN ' + TRACE.format(n=4) + "\n",
    "background waited for": "RUN (sleep 0.2; echo late >> $T) & wait\nRUN " + TRACE.format(n=2) + "\n",
    "here-string": 'RUN cat <<< "here $X" >> $T\nRUN ' + TRACE.format(n=2) + "\n",
}
# Where a kind stays apart by design: exec form under bash (bash adds SHLVL to the program's environment), bash
# syntax under other shells.
APART = {("exec form", "bash"), ("exec form", "bash-eo-pipefail")}
APART |= {("here-string", s) for s in SHELLS if not s.startswith("bash")}


@pytest.mark.parametrize("shell_name", SHELLS)
@pytest.mark.parametrize("case", NEW_KINDS)
def test_new_merge_kinds_keep_every_step_as_it_was(case: str, shell_name: str, tmp_path: Path) -> None:
    shell = SHELLS[shell_name]
    head = "FROM busybox\n" + (
        "" if shell == ["/bin/sh", "-c"] else "SHELL [" + ", ".join(f'"{a}"' for a in shell) + "]\n"
    )
    original = head + NEW_KINDS[case]
    merged = minify(original).text
    a, b = run_steps(original, shell, tmp_path / "w"), run_steps(merged, shell, tmp_path / "w")
    if case == "exec form":
        # The one thing exec form run by a shell changes: the order of the program's environment (the shell
        # exports its variables in its own order). The same variables with the same values: compare as sets.
        a, b = (a[0], sorted(a[1].splitlines()), a[2]), (b[0], sorted(b[1].splitlines()), b[2])  # type: ignore[assignment]
    assert a == b, f"\n--- original\n{original}--- merged\n{merged}"
    assert a[1] or (case, shell_name) in APART, "the steps left no trace"
    assert merged.count("\nRUN ") == (original.count("\nRUN ") if (case, shell_name) in APART else 1), merged


def test_env_between_is_what_a_naive_join_gets_wrong(tmp_path: Path) -> None:
    """The harness sees ENV: running the second command without the ENV's value leaves a different trace."""
    shell = SHELLS["dash"]
    original = "FROM busybox\n" + NEW_KINDS["env between"]
    dropped = "".join(line + "\n" for line in original.splitlines() if not line.startswith("ENV "))
    assert run_steps(original, shell, tmp_path / "w") != run_steps(dropped, shell, tmp_path / "w")
