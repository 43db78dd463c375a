"""The input limits every dockit reader enforces, in one place (each package README quotes them).

They sit far above any real input (the largest public Dockerfiles are tens of KB with a few hundred instructions)
and exist so that a hostile or broken input costs at most about 2 s and 200 MB in every tool: BuildKit's parser
takes ~30-60 µs per instruction and copies a heredoc or a continued line once per physical line it adds.
"""

from __future__ import annotations

MAX_DOCKERFILE_BYTES = 1024 * 1024
"""A larger Dockerfile (or stdin stream) is refused before it is read further."""

MAX_LINE = 64 * 1024
"""The parser's bufio.Scanner limit: a longer physical line is an error there too."""

MAX_INSTRUCTIONS = 10_000
"""Instructions per Dockerfile (so also stages)."""

MAX_INSTRUCTION_LINES = 1_000
"""Physical lines one instruction may span (continuation lines and heredoc bodies included)."""

MAX_WORD_WORK = 2**29
"""The sum over a Dockerfile's shell words of their length squared (quotes make one word): BuildKit's lexers
build a word a character at a time, so its cost grows with the square of its length. One word of 23 KiB, or 512
words of 1 KiB, is at the limit (about half a second of parsing); real Dockerfiles stay far below it."""

MAX_JSON_DEPTH = 64
"""Nesting of a JSON document in an image archive (manifest.json, index.json, configs); real ones nest 4-6 deep."""

MAX_JSON_BYTES = 16 * 1024 * 1024
"""A JSON document in an image (a config with a long history is a few hundred KB)."""


def size(n: int) -> str:
    """A limit in bytes as people read it.

    >>> size(MAX_DOCKERFILE_BYTES), size(MAX_LINE), size(1500)
    ('1 MiB', '64 KiB', '1500 bytes')
    """
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"
