"""Variable expansion as BuildKit's shell lexer does it for FROM, ARG and ENV words.

Supported: ``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME-word}``, ``${NAME:+word}``, ``${NAME+word}``, single
and double quotes, and the Dockerfile's escape character. That is the subset Dockerfiles use in the places dockit
expands; anything else (``${NAME#pat}`` and friends) is kept literally and reported by :func:`expand` as unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Expansion:
    """The result of expanding one word: its value and the variable names it read."""

    value: str
    used: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``word`` with ``env``; unset variables expand to the empty string.

    >>> expand("golang:${GO_VERSION:-1.22}-alpine", {}).value
    'golang:1.22-alpine'
    >>> expand('"a b"$X', {"X": "c"}).value
    'a bc'
    """
    out = _Lexer(word, env, escape)
    value = out.run(stop="")
    return Expansion(value, out.used, out.unsupported)


def referenced_names(word: str, escape: str = "\\") -> list[str]:
    """The variable names a word reads, in order (``$A ${B:-$C}`` -> A, B, C)."""
    return expand(word, {}, escape).used


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.used: list[str] = []
        self.unsupported: list[str] = []

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def run(self, stop: str, quoted: bool = False) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if stop and ch == stop:
                break
            if ch == self.escape:
                self.pos += 1
                nxt = self.peek()
                if quoted and nxt not in ('"', "$", self.escape):
                    out.append(ch)
                    continue
                out.append(nxt)
                self.pos += 1
            elif ch == "'" and not quoted:
                end = self.text.find("'", self.pos + 1)
                end = len(self.text) if end < 0 else end
                out.append(self.text[self.pos + 1 : end])
                self.pos = end + 1
            elif ch == '"' and not quoted:
                self.pos += 1
                out.append(self.run(stop='"', quoted=True))
                self.pos += 1
            elif ch == "$":
                self.pos += 1
                out.append(self.variable())
            else:
                out.append(ch)
                self.pos += 1
        return "".join(out)

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def variable(self) -> str:
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            self.used.append(name)
            return self.env.get(name, "")
        self.pos += 1
        start = self.pos - 2
        name = self.name()
        self.used.append(name)
        value = self.env.get(name)
        op = self.peek()
        if op == "}":
            self.pos += 1
            return value or ""
        colon = op == ":"
        if colon:
            self.pos += 1
            op = self.peek()
        if op in ("-", "+"):
            self.pos += 1
            word = self.run(stop="}")
            self.pos += 1
            is_set = value is not None and (value != "" or not colon)
            if op == "-":
                return value if is_set and value is not None else word
            return word if is_set else ""
        # An operator we do not model: keep the text as written, and say so.
        depth = 1
        while self.pos < len(self.text) and depth:
            depth += {"{": 1, "}": -1}.get(self.text[self.pos], 0)
            self.pos += 1
        literal = self.text[start : self.pos]
        self.unsupported.append(literal)
        return literal
