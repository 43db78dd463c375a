"""Variable expansion exactly as BuildKit's shell lexer does it (moby/buildkit ``frontend/dockerfile/shell/lex.go``).

The whole grammar: ``$NAME``, ``${NAME}``, ``${NAME-word}``, ``${NAME:-word}``, ``${NAME+word}``, ``${NAME:+word}``,
``${NAME?word}``, ``${NAME:?word}``, ``${NAME#pat}``, ``${NAME##pat}``, ``${NAME%pat}``, ``${NAME%%pat}``,
``${NAME/pat/rep}``, ``${NAME//pat/rep}`` (``*`` and ``?`` globs), positional and special parameters (never set in
a Dockerfile), single and double quotes and the Dockerfile's escape character. What BuildKit rejects
(``${}``, ``${A:=b}``, an unclosed quote or brace) raises :class:`ExpansionError`.

Unlike BuildKit, expansion is bounded: a value may not grow past :data:`MAX_VALUE` characters and ``${`` may not
nest deeper than :data:`MAX_DEPTH`, so a hostile file costs an error, not the machine's memory or the interpreter's
stack. A :class:`Budget` shared by several calls bounds the total work of a whole file.

>>> expand("golang:${GO_VERSION:-1.22}-alpine", {}).value
'golang:1.22-alpine'
>>> expand("${P#linux/amd64}", {"P": "linux/amd64"}).value, expand("${P#linux/amd64}", {"P": "linux/arm64"}).value
('', 'linux/arm64')
>>> expand("${V%%-*} ${F//o/0}", {"V": "1.22-alpine", "F": "foo"}).value
'1.22 f00'
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_VALUE = 1 << 20  # characters one expansion may produce; real values are a few hundred at most
MAX_DEPTH = 64  # ${ inside ${ inside ...; real files nest two or three
DEFAULT_BUDGET = 4 * MAX_VALUE  # work (characters produced or scanned) one call may do without a shared budget
_PLAIN = re.compile(r"[^$'\"<\\`]*")  # a word without these characters means itself
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
# Go's unicode.IsSpace: Python's str.isspace() also counts U+001C..U+001F, which Go does not.
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


class ExpansionError(ValueError):
    """A word BuildKit refuses too (``bad substitution``, an unclosed quote, ``${A:?}`` with A empty...)."""


class ExpansionLimit(ExpansionError):
    """An expansion past our bounds (value size, total work, nesting depth): never something BuildKit reports."""


class ExpansionTooLarge(ExpansionLimit):
    """A value past :data:`MAX_VALUE` characters, or more work than the budget allows; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"expansion too large ({reason})")
        self.reason = reason


class Budget:
    """Work left for expansions: each character produced or scanned while matching a pattern costs one unit.

    One budget shared by every expansion of a file bounds the file's total cost, whatever its shape.
    """

    def __init__(self, units: int = DEFAULT_BUDGET, max_value: int = MAX_VALUE) -> None:
        self.left = units
        self.max_value = max_value

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise ExpansionTooLarge("more work than a Dockerfile needs")


@dataclass
class Expansion:
    """One expanded word: its value, the variable names it read (in order, once each) and those of them unset."""

    value: str
    used: list[str] = field(default_factory=list)
    unset: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # only from :func:`split_words`
    operators: int = 0  # ${NAME-...}, ${NAME#...} and the like: more than a plain $NAME / ${NAME}


def expand(word: str, env: Mapping[str, str], escape: str = "\\", budget: Budget | None = None) -> Expansion:
    """Expand ``word`` with ``env`` as BuildKit's ``ProcessWord`` does; unset variables expand to nothing.

    Raises :class:`ExpansionError` where BuildKit fails (the message is BuildKit's reason), and
    :class:`ExpansionTooLarge` past our bounds.

    >>> expand('"a b"$X', {"X": "c"}).value
    'a bc'
    >>> expand("${A:=b}", {})
    Traceback (most recent call last):
    ...
    dockit.expand.ExpansionError: unsupported modifier (:=) in substitution
    """
    if _PLAIN.fullmatch(word) and escape not in word:
        if budget is not None:
            budget.spend(len(word))
        return Expansion(word)
    lexer = _Lexer(word, env, escape, budget or Budget(), words=False)
    value, _ = lexer.scan("", raw=False)
    lexer.check_size(value)
    return Expansion(value, list(lexer.used), list(lexer.unset), operators=lexer.operators)


def split_words(word: str, env: Mapping[str, str], escape: str = "\\", budget: Budget | None = None) -> Expansion:
    """Expand and split into words as BuildKit's ``ProcessWords`` does (quoted blanks stay; expanded ones split).

    >>> split_words('a "b c" $X', {"X": "d  e"}).words
    ['a', 'b c', 'd', 'e']
    """
    lexer = _Lexer(word, env, escape, budget or Budget(), words=True)
    value, words = lexer.scan("", raw=False)
    lexer.check_size(value)
    return Expansion(value, list(lexer.used), list(lexer.unset), words)


def referenced_names(word: str, escape: str = "\\") -> list[str]:
    """The variable names a word reads, in order (``$A ${B:-$C}`` -> A, B, C), as far as it reads without error."""
    lexer = _Lexer(word, {}, escape, Budget(), words=False)
    with contextlib.suppress(ExpansionError):
        lexer.scan("", raw=False)
    return list(lexer.used)


class _Words:
    """BuildKit's wordsStruct: blanks from expansions split words, quoted or escaped ones do not.

    The buffer is the lexer's, shared with nested scans (which reset it), as in BuildKit.
    """

    def __init__(self, buf: list[str]) -> None:
        self.buf = buf
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in _GO_SPACE:
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf.clear()
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def finish(self) -> list[str]:
        if self.buf:
            self.words.append("".join(self.buf))
            self.buf.clear()
            self.in_word = False
        return self.words


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str, budget: Budget, words: bool) -> None:
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.env = env
        self.escape = escape
        self.budget = budget
        self.want_words = words
        self.depth = 0
        self.operators = 0
        self.used: dict[str, None] = {}
        self.unset: dict[str, None] = {}
        self.buf: list[str] = []

    def check_size(self, value: str) -> None:
        if len(value) > self.budget.max_value:
            raise ExpansionTooLarge(f"over {self.budget.max_value} characters")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.n else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    # --- processStopOn ---------------------------------------------------------------------------------------
    def scan(self, stop: str, raw: bool) -> tuple[str, list[str]]:
        """Scan to ``stop`` (consumed) or the end of the text; ``raw`` keeps escape characters in the result."""
        result: list[str] = []
        size = 0
        self.buf.clear()
        words = _Words(self.buf) if self.want_words else None
        text, escape = self.text, self.escape
        while self.pos < self.n:
            ch = text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return "".join(result), words.finish() if words else []
            if ch in "$<'\"":
                if ch == "$":
                    piece = self.dollar()
                elif ch == "<":
                    piece = self.possible_heredoc()
                elif ch == "'":
                    piece = self.single_quote()
                else:
                    piece = self.double_quote(raw)
                size += len(piece)
                if size > self.budget.max_value:
                    raise ExpansionTooLarge(f"over {self.budget.max_value} characters")
                self.budget.spend(len(piece))
                result.append(piece)
                if words is not None:
                    if ch == "$":
                        words.add_string(piece)
                    else:
                        words.add_raw(piece)
                continue
            self.pos += 1
            if ch == escape:
                if raw:
                    result.append(ch)
                    if words is not None:
                        words.add_raw(ch)
                if self.pos >= self.n:
                    break  # an escape at the very end means nothing
                ch = text[self.pos]
                self.pos += 1
                if words is not None:
                    words.add_raw(ch)
            elif words is not None:
                words.add_char(ch)
            result.append(ch)
            size += 1
        if stop:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish() if words else []

    def nested(self, stop: str, raw: bool) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpansionLimit(f"${{...}} nested more than {MAX_DEPTH} deep")
        try:
            return self.scan(stop, raw)[0]
        finally:
            self.depth -= 1

    def single_quote(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise ExpansionError("unexpected end of statement while looking for matching single-quote")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def double_quote(self, raw: bool) -> str:
        out: list[str] = []
        self.pos += 1
        text, escape = self.text, self.escape
        while True:
            if self.pos >= self.n:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                if raw:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue  # the loop then reports the missing quote
                if nxt in ('"', "$", escape):
                    ch = nxt
                    self.pos += 1
            out.append(ch)

    def possible_heredoc(self) -> str:
        # `<<` and the blanks after it stay together in one word (a heredoc marker); the text is unchanged.
        self.pos += 1
        if self.peek() != "<":
            return "<"
        self.pos += 1
        start = self.pos
        while self.peek() in ("\t", "\r", " ") and self.peek():
            self.pos += 1
        return "<<" + self.text[start : self.pos]

    def name(self) -> str:
        start, text = self.pos, self.text
        if self.pos < self.n:
            ch = text[self.pos]
            if ch.isdecimal():
                while self.pos < self.n and text[self.pos].isdecimal():
                    self.pos += 1
                return text[start : self.pos]
            if ch in _SPECIAL_PARAMS:
                self.pos += 1
                return ch
        while self.pos < self.n and (text[self.pos].isalpha() or text[self.pos].isdecimal() or text[self.pos] == "_"):
            self.pos += 1
        return text[start : self.pos]

    def get(self, name: str) -> tuple[str, bool]:
        value = self.env.get(name)
        self.used[name] = None
        if value is None:
            self.unset[name] = None
            return "", False
        self.budget.spend(len(value))
        return value, True

    # --- processDollar ---------------------------------------------------------------------------------------
    def dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            return self.get(name)[0] if name else "$"
        self.pos += 1
        first = self.peek()
        if not first:
            raise ExpansionError("syntax error: missing '}'")
        if first in "{}:":
            raise ExpansionError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        modifier = op
        if op == "}":
            return self.get(name)[0]
        self.operators += 1
        if op == "/":
            return self.replace(name)
        if op not in (":", "+", "-", "?", "#", "%"):
            raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")
        null_is_unset = op == ":"
        if null_is_unset:
            op = self.next()
            modifier += op
        raw = op in ("#", "%")
        if null_is_unset and raw:
            raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")
        word = self.closing("}", raw, "syntax error: missing '}'")
        value, is_set = self.get(name)
        missing = not is_set or (null_is_unset and value == "")
        if op == "-":
            return word if missing else value
        if op == "+":
            return "" if missing else word
        if op == "?":
            if not is_set:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
            if missing:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if op in ("#", "%"):
            greedy = word[:1] == op
            pattern = word[1:] if greedy else word
            if op == "%":
                return trim_suffix(pattern, value, greedy, self.budget)
            return trim_prefix(pattern, value, greedy, self.budget)
        raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")

    def closing(self, stop: str, raw: bool, at_end: str) -> str:
        """A nested scan to ``stop``; an error that leaves the text exhausted is reported as ``at_end``."""
        try:
            return self.nested(stop, raw)
        except ExpansionLimit:
            raise
        except ExpansionError:
            if self.pos >= self.n:
                raise ExpansionError(at_end) from None
            raise

    def replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.pos += 1
        pattern = self.closing("/", True, "syntax error: missing '/' in ${}")
        replacement = self.closing("}", True, "syntax error: missing '}'")
        value, _ = self.get(name)
        glob = Glob(pattern, greedy=True)
        if replace_all:
            return glob.replace_all(value, replacement, self.budget)
        span = glob.search(value, 0, self.budget)
        return value if span is None else value[: span[0]] + replacement + value[span[1] :]


# --- patterns ---------------------------------------------------------------------------------------------------

_STAR, _ANY = 0, 1  # glob tokens; a literal character is itself a str


class Glob:
    """A shell pattern as BuildKit reads it (``*``, ``?``, ``\\`` escaping ``*``, ``?``, ``\\``; ``\\}`` and ``\\/``
    are ``}`` and ``/``), matched with the leftmost-first rule of Go's regexp, where ``*`` is ``.*`` (greedy) or
    ``.*?`` (shortest) and neither ``*`` nor ``?`` matches a newline.

    Matching runs one pass over the value keeping every live position of the pattern (a Pike VM): linear in
    value times pattern, never the exponential backtracking of a regex engine.

    >>> Glob("*o", greedy=False).search("foo.o", 0, Budget())
    (0, 2)
    >>> Glob("*o", greedy=True).search("foo.o", 0, Budget())
    (0, 5)
    """

    def __init__(self, pattern: str, greedy: bool, anchored: bool = False) -> None:
        self.pattern = pattern
        self.greedy = greedy
        self.anchored = anchored
        self.tokens = _glob_tokens(pattern)
        self.literal = None if any(t in (_STAR, _ANY) for t in self.tokens) else "".join(map(str, self.tokens))

    def _add(self, state: int, start: int, out: list[tuple[int, int]], seen: set[int]) -> None:
        """Add ``state`` and what it reaches without a character, in priority order (Go's leftmost-first)."""
        if state in seen:
            return
        seen.add(state)
        if state < len(self.tokens) and self.tokens[state] == _STAR:
            if self.greedy:
                out.append((state, start))
                self._add(state + 1, start, out, seen)  # consecutive stars were folded: no deep recursion
            else:
                self._add(state + 1, start, out, seen)
                out.append((state, start))
        else:
            out.append((state, start))

    def search(self, value: str, begin: int, budget: Budget) -> tuple[int, int] | None:
        """The (start, end) of the match Go's regexp finds from ``begin``, or None."""
        if self.literal is not None and self.literal:
            if self.anchored:
                return (0, len(self.literal)) if begin == 0 and value.startswith(self.literal) else None
            at = value.find(self.literal, begin)
            budget.spend(max(0, (at if at >= 0 else len(value)) - begin))
            return None if at < 0 else (at, at + len(self.literal))
        tokens, accept = self.tokens, len(self.tokens)
        threads: list[tuple[int, int]] = []
        seen: set[int] = set()
        self._add(0, begin, threads, seen)
        found: tuple[int, int] | None = None
        pos = begin
        while True:
            budget.spend(len(threads) + 1)
            ch = value[pos] if pos < len(value) else None
            following: list[tuple[int, int]] = []
            next_seen: set[int] = set()
            for state, start in threads:
                if state == accept:
                    found = (start, pos)
                    break  # threads after this one have lower priority
                if ch is None:
                    continue
                token = tokens[state]
                if token == _STAR:
                    if ch != "\n":
                        self._add(state, start, following, next_seen)
                elif token == _ANY:
                    if ch != "\n":
                        self._add(state + 1, start, following, next_seen)
                elif token == ch:
                    self._add(state + 1, start, following, next_seen)
            if ch is None:
                return found
            pos += 1
            if found is None and not self.anchored:
                self._add(0, pos, following, next_seen)  # a later start: lowest priority
            if not following:
                return found
            threads = following

    def replace_all(self, value: str, template: str, budget: Budget) -> str:
        """Go's ``Regexp.ReplaceAllString``: ``$0``/``${0}`` is the match, other ``$name`` nothing, ``$$`` a ``$``."""
        out: list[str] = []
        last_end = search_pos = 0
        end = len(value)
        size = 0
        while search_pos <= end:
            span = self.search(value, search_pos, budget)
            if span is None:
                break
            out.append(value[last_end : span[0]])
            if span[1] > last_end or span[0] == 0:
                piece = _go_template(template, value[span[0] : span[1]])
                out.append(piece)
                size += len(piece)
                budget.spend(len(piece))
                if size > budget.max_value:
                    raise ExpansionTooLarge(f"over {budget.max_value} characters")
            last_end = span[1]
            width = 1 if search_pos < end else 0
            if search_pos + width > span[1]:
                search_pos += width
            elif search_pos + 1 > span[1]:
                search_pos += 1
            else:
                search_pos = span[1]
        out.append(value[last_end:])
        return "".join(out)


def _glob_tokens(pattern: str) -> list[int | str]:
    tokens: list[int | str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            if not tokens or tokens[-1] != _STAR:  # `**` matches what `*` matches, from the same places
                tokens.append(_STAR)
        elif ch == "?":
            tokens.append(_ANY)
        elif ch == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/") and nxt:
                continue  # escaped so as not to end the ${}; the escape is not part of the pattern
            i += 1
            if nxt not in ("*", "?", "\\") or not nxt:
                what = f"'\\{nxt}'" if nxt else "'\\' at the end"
                raise ExpansionError(f"invalid pattern ({pattern}) in substitution: invalid escape {what}")
            tokens.append(nxt)
        else:
            tokens.append(ch)
    return tokens


def trim_prefix(pattern: str, value: str, greedy: bool, budget: Budget) -> str:
    """``${value#pattern}`` (``greedy``: ``##``)."""
    span = Glob(pattern, greedy, anchored=True).search(value, 0, budget)
    return value if span is None else value[span[1] :]


def trim_suffix(pattern: str, value: str, greedy: bool, budget: Budget) -> str:
    """``${value%pattern}`` (``greedy``: ``%%``): the prefix rule on the reversed pattern and value, as BuildKit."""
    return trim_prefix(reverse_pattern(pattern), value[::-1], greedy, budget)[::-1]


def reverse_pattern(pattern: str) -> str:
    """The pattern backwards, each escape still before the character it escapes (``a\\*c`` -> ``c\\*a``).

    >>> reverse_pattern("a\\\\*c"), reverse_pattern("ab\\\\")
    ('c\\\\*a', '\\\\ba')
    """
    chars = list(pattern)
    out = [""] * len(chars)
    last = len(chars) - 1
    i = 0
    while i <= last:
        ch = chars[i]
        at = last - i
        if ch == "\\" and i != last:
            out[at - 1] = ch
            out[at] = chars[i + 1]
            i += 2
        else:
            out[at] = ch
            i += 1
    return "".join(out)


def _go_template(template: str, match: str) -> str:
    out: list[str] = []
    i = 0
    while True:
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            return "".join(out)
        out.append(template[i:j])
        rest = template[j + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i = j + 2
            continue
        name, size = _template_name(rest)
        if name is None:
            out.append("$")  # malformed: the $ is literal
            i = j + 1
            continue
        if name == "0":
            out.append(match)  # the only group a pattern has; any other name or number is empty
        i = j + 1 + size


def _template_name(text: str) -> tuple[str | None, int]:
    brace = text.startswith("{")
    body = text[1:] if brace else text
    k = 0
    while k < len(body) and (body[k].isalpha() or body[k].isdecimal() or body[k] == "_"):
        k += 1
    if k == 0:
        return None, 0
    if brace:
        if k >= len(body) or body[k] != "}":
            return None, 0
        return body[:k], k + 2
    return body[:k], k
