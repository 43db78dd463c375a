"""The hostile Dockerfiles of issue 21, each a small function of its size, and the shapes at dockit's limits."""

from __future__ import annotations

from dockit.limits import MAX_DOCKERFILE_BYTES, MAX_INSTRUCTION_LINES, MAX_INSTRUCTIONS, MAX_WORD_WORK


def chain(stages: int) -> str:
    """``FROM s0 AS s1 / FROM s1 AS s2 ...``: every stage needs all the ones before it."""
    return "FROM scratch AS s0\n" + "".join(f"FROM s{i} AS s{i + 1}\n" for i in range(stages - 1))


# name -> (Dockerfile bytes, a part of the one-line error every tool must print)
BAD: dict[str, tuple[bytes, str]] = {
    "from-digits": (b"FROM a AS b\nFROM c\nCOPY --from=" + b"1" * 5000 + b" /a /b\n", ":3: --from=111"),
    "utf8-in-flag": (b"FROM a\nRUN --\xf3\xb7\x85\x97=1 x\n", ":2: a non-ASCII character"),
    "utf8-healthcheck": (b"FROM a\nHEALTHCHECK \xc7\x85\n", ":2: a non-ASCII character"),
    "utf8-onbuild": (b"FROM a\nONBUILD RUN --\xf3\xb7\x85\x97=1 x\n", ":2: a non-ASCII character"),
    "over-size": (b"FROM a\n" + b"#" * 100 + b"\n" * MAX_DOCKERFILE_BYTES, "larger than 1 MiB"),
    "too-many-instructions": (
        chain(MAX_INSTRUCTIONS + 1).encode(),
        f"more than {MAX_INSTRUCTIONS:,} instructions (the limit)",
    ),
    "unterminated-heredoc": (b"FROM a\nRUN <<EOF\n" + b"echo x\n" * 100_000, ":2: heredoc 'EOF' not terminated"),
    "many-continuations": (b"FROM a\nRUN echo \\\n" + b" x \\\n" * 100_000 + b" end\n", ":2: instruction continued"),
    # one line past the limit (AT_LIMIT holds the same shapes at it)
    "heredoc-1001-lines": (
        b"FROM a\nRUN <<EOF\n" + b"x\n" * (MAX_INSTRUCTION_LINES - 1) + b"EOF\n",
        f":2: heredoc 'EOF' not terminated within {MAX_INSTRUCTION_LINES:,} lines (the limit)",
    ),
    "continuation-1001-lines": (
        b"FROM a\nRUN a \\\n" + b" x \\\n" * (MAX_INSTRUCTION_LINES - 1) + b" e\n",
        f":2: instruction continued over more than {MAX_INSTRUCTION_LINES:,} lines (the limit)",
    ),
    "size-plus-one": (b"FROM a\n" + b"\n" * (MAX_DOCKERFILE_BYTES - 6), "larger than 1 MiB (the limit)"),
    "long-word": (b"FROM a\nRUN " + b"x" * 65_000 + b"\n", ":2: words too long for the parser"),
    "long-quoted-word": (b'FROM a\nLABEL a="' + b"x " * 30_000 + b'"\n', ":2: words too long for the parser"),
    "long-flag": (b"FROM a\nCOPY --chmod=" + b"7" * 60_000 + b" a b\n", ":2: words too long for the parser"),
    "words-over-budget": (b"FROM a\n" + (b"RUN " + b"x" * 1020 + b"\n") * 600, ":518: words too long"),
    "long-message": (b"FROM a\nONBUILD --from=" + b"1" * 5000 + b"\n", ":2: ONBUILD: unknown instruction: --from=111"),
    "control-characters": (b"FROM a\n\x1b[2J\x1b[31mEVIL x\n", ":2: unknown instruction: \\x1b[2J\\x1b[31mEVIL"),
    "control-characters-in-name": (b"FROM a AS \x1b[2J\n", "invalid stage name '\\x1b[2J'"),
    # issue 21 items 1-2: ARG A1=${A0}${A0}... ten levels (10 GB if expanded), and ${A:- nested 1000 deep, unclosed
    "exponential-args": (
        b"ARG A0="
        + b"x" * 1000
        + b"\n"
        + b"".join(f"ARG A{i}=".encode() + b"${A%d}" % (i - 1) * 10 + b"\n" for i in range(1, 13))
        + b"FROM a:${A12}\n",
        ":5: expansion of A4 too large",
    ),
    "nested-expansion": (b"ARG X=" + b"${A:-" * 1000 + b"\nFROM a\n", ":1: ARG X: failed to process"),
}

# name -> a Dockerfile that is odd but valid: every tool takes it (exit 0), or refuses it in one line
ODD: dict[str, str] = {
    # int() takes any Unicode digit; a stage index is ASCII digits only, so this is an image named "²"
    "unicode-digit-from": "FROM a AS b\nFROM c\nCOPY --from=\u00b2 /a /b\nCOPY --from=\u00b2 /c /d\n",
    "index-with-zeros": "FROM a AS b\nFROM c\nCOPY --from=000 /a /b\nCOPY --from=0 /c /d\n",
}

_LINE = " ".join(["x" * 100] * 10)  # 1 KiB of 100-character words: 1,000 such lines are near 1 MiB
_WORD = "x" * 1020  # MAX_WORD_WORK // _WORD_RUNS such words are just within the limit
_WORD_RUNS = MAX_WORD_WORK // (len(_WORD) ** 2 + 9)
_DEEP = "[" * 5000  # past Python's JSON recursion limit (its decoder fails), within Go's 10,000
_ELEMENTS = "1, " * 20_000  # 60 KB of array elements on one physical line
# name -> a Dockerfile at one of the limits (every tool must handle it within the time and memory limits)
AT_LIMIT: dict[str, str] = {
    "instructions": "FROM a\n" + "".join(f"RUN echo {i}\n" for i in range(MAX_INSTRUCTIONS - 1)),
    "stages": chain(MAX_INSTRUCTIONS),
    "stages-copying": "FROM scratch AS s0\n"
    + "".join(f"FROM scratch AS s{i + 1}\nCOPY --from=s{i} / /\n" for i in range(MAX_INSTRUCTIONS // 2 - 1)),
    "heredoc": "FROM a\nRUN <<EOF\n" + "".join(f"{_LINE}\n" for _ in range(MAX_INSTRUCTION_LINES - 2)) + "EOF\n",
    "continuation": "FROM a\nRUN echo \\\n"
    + "".join(f" {_LINE} \\\n" for _ in range(MAX_INSTRUCTION_LINES - 2))
    + " e\n",
    "blank-lines": "FROM a\n" + "\n" * (MAX_DOCKERFILE_BYTES - 7),
    "comments": "FROM a\n" + "#x\n" * ((MAX_DOCKERFILE_BYTES - 7) // 3),
    "words": "FROM a\n" + f"RUN {_WORD}\n" * _WORD_RUNS,
    # JSON nested too deep for Python's decoder, never closed: the shell form, a heredoc after ~1 MB of elements
    "deep-json-continued": "FROM a\nRUN " + _DEEP + " \\\n" + f" {_ELEMENTS}\\\n" * 15 + " 1 <<EOF\nEOF\n",
    "deep-json-lines": "FROM a\n" + f"RUN {_DEEP}{'1, ' * 19_000}1 <<EOF\nEOF\n" * 16,
    "deep-json-many-lines": "FROM a\nRUN " + _DEEP + " \\\n" + f" {'1, ' * 330}\\\n" * 997 + " 1 <<EOF\nEOF\n",
    "deep-json-unclosed-string": "FROM a\nRUN " + _DEEP + ' "' + f"{'x ' * 30_000}\\\n" * 15 + " <<EOF\nEOF\n",
    "labels": "FROM a\n" + ("LABEL " + " ".join(f"k{j}=v" for j in range(10)) + "\n") * (MAX_INSTRUCTIONS - 1),
}
