"""Which heredocs an instruction opens, read as the parser dockit runs reads them (BuildKit v0.12.5's
``frontend/dockerfile/parser``: ``canContainHeredoc``, ``heredocsFromLine``, ``heredocFromMatch``), and where
each body ends.

dockit's line scan (:func:`dockit.dockerfile.parse` runs it before the parser, to bound the parser's work) needs
the bodies exactly where the parser will find them: a body ended too early leaves its other lines counted as
instructions (and a long body's per-line copying unbounded); one ended too late is a false limit error. The rules:

- only ``RUN``, ``COPY`` and ``ADD`` open heredocs (also after ``ONBUILD``; keywords lowered a code point at a time,
  as Go lowers them), and not in their JSON form: the arguments after the ``--flags`` start with ``[`` and Go's
  decoder reads a JSON array of strings there (it ignores what follows the array; where it fails, on a number beyond
  float64 or ``NaN`` or nesting past 10,000, the line is in shell form);
- the logical line is split into words by BuildKit's shell lexer keeping quotes and escapes, variables left as
  written; a line it cannot split (an unclosed quote, ``${``) opens no heredoc at all; an empty word (``''`` with
  the quotes removed) is no word, and one U+FEFF at the start of each text lexed is dropped (Go's text/scanner);
- a word opens a heredoc when the whole word is ``[0-9]*<<`` or ``<<-`` and a NAME with no ``<``, and NAME with its
  quotes and escapes removed is one word: that is the terminator (``<<"EOF"``, ``<<E\\OF`` and ``<<'E'OF`` all end
  at ``EOF``; ``cat<<EOF``, ``<<EOF<<X``, ``"<<EOF"`` open nothing; ``<<EOF>out`` ends at ``EOF>out``);
- a body ends at the first line that equals the terminator once trailing CRs are cut, and, for ``<<-`` only,
  leading tabs.

>>> [(d.name, d.chomp, d.expand) for d in opened('RUN <<-"EOF" cat >x && 3<<E\\\\OF tee <<X')]
[('EOF', True, False), ('EOF', False, True), ('X', False, True)]
>>> opened("RUN echo '<<EOF'"), opened('RUN ["sh", "-c", "cat <<EOF"]'), opened("RUN cat <<EOF 'unclosed")
([], [], [])
>>> opened("RUN cat <<''"), [d.name for d in opened("RUN [1e999] <<\\ufeffEOF")]
([], ['EOF'])
>>> ends("\\tEOF", Marker("EOF", chomp=False)), ends("\\tEOF\\r", Marker("EOF", chomp=True))
(False, True)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from dockit.expand import _GO_SPACE

GO_SPACE = "".join(sorted(_GO_SPACE))  # unicode.IsSpace as str.strip's argument (str.strip() strips U+001C..U+001F)
_KEYWORDS = frozenset({"run", "copy", "add"})
_MARK = re.compile(r"([0-9]*)<<(-?)([^<]*)", re.DOTALL)  # reHeredoc, matched against a whole word
_GO_BLANKS = re.compile(r"[\t\v\f\r ]+")  # splitCommand's reWhitespace
# characters that mean only themselves to the lexer (not $, a quote, the escape, a blank, or the } a nested scan
# stops at), taken a run at a time: a 64 KiB line costs one regex pass, not 64 Ki steps
_PLAIN = "[^$'\"\\\\}" + GO_SPACE + "]+"
_PLAIN_WORDS = re.compile(f"(?:{_PLAIN}+[{GO_SPACE}]++)++")  # plain words, each ended by blanks: one match for many
_NON_BLANK = re.compile(f"[^{GO_SPACE}]+")
_PLAIN_RUN = re.compile(_PLAIN)


@dataclass(frozen=True)
class Marker:
    """A heredoc marker (``<<-EOF``) in an instruction: the line that ends its body, whether ``<<-`` strips leading
    tabs, and whether the body expands variables (no part of the marker quoted)."""

    name: str
    chomp: bool = False
    expand: bool = True


class _LexError(Exception):
    pass


_SEEN: dict[str, tuple[Marker, ...]] = {}
_SEEN_MIN = 4096  # a shorter line costs less to scan again than to keep
_SEEN_CHARS = 2 * 1024 * 1024  # the cache holds lines of at most this many characters in all (about 2 Dockerfiles)


def opened(line: str) -> list[Marker]:
    """The heredocs the logical ``line`` (continuations joined) opens, in the order their bodies follow it.

    A long line is scanned once: :func:`dockit.dockerfile.parse` asks about it twice (the line scan, then the
    parser's heredocs), and a long line can cost a second (the shell lexer, a deep JSON walk).
    """
    if len(line) < _SEEN_MIN:
        return _opened(line)
    if (seen := _SEEN.get(line)) is None:
        seen = _SEEN[line] = tuple(_opened(line))
        while sum(map(len, _SEEN)) > _SEEN_CHARS and len(_SEEN) > 1:
            del _SEEN[next(iter(_SEEN))]  # the oldest first: a dict keeps insertion order
    return list(seen)


def _opened(line: str) -> list[Marker]:
    if "<<" not in line or not _may_hold_heredocs(line):
        return []
    try:
        words = _Lexer(line, raw_quotes=True, raw_escapes=True).words()
    except _LexError:
        return []  # heredocsFromLine ignores the lexer's error: no heredoc
    docs = []
    for word in [w for w in words if "<<" in w]:  # a long line has many words, few with a marker
        m = _MARK.fullmatch(word)
        if not m or not m.group(3):
            continue
        try:
            names = _Lexer(m.group(3), raw_quotes=False, raw_escapes=False).words()
            quoted = _Lexer(m.group(3), raw_quotes=True, raw_escapes=False).words()
        except _LexError:
            return []  # the parser fails on this line; the scan has nothing to bound
        if len(names) == 1 and len(quoted) == 1:
            expand = _quotes(names[0]) == _quotes(quoted[0])  # heredocFromMatch: some part was quoted
            docs.append(Marker(names[0], chomp=m.group(2) == "-", expand=expand))
    return docs


def _finish(words: list[str], word: list[str]) -> list[str]:
    """getWords: the words, and the one being built if it has characters."""
    last = "".join(word)
    return [*words, last] if last else words


def _quotes(word: str) -> int:
    return word.count("'") + word.count('"')


def ends(line: str, doc: Marker) -> bool:
    """True when the body line ``line`` (without its newline) is ``doc``'s terminator."""
    line = line.rstrip("\r")
    return (line.lstrip("\t") if doc.chomp else line) == doc.name


def _may_hold_heredocs(line: str) -> bool:
    """canContainHeredoc: RUN, COPY or ADD (after ONBUILD too), not in JSON form."""
    keyword, args = _split_command(line)
    if _go_lower(keyword) == "onbuild" and args:
        keyword, args = _split_command(args)
    if _go_lower(keyword) not in _KEYWORDS:
        return False
    rest = args.lstrip(GO_SPACE)
    # where Go decodes the array, it is the JSON form or (not all strings) a parse error: no heredoc either way
    return not rest.startswith("[") or not _go_decodes(rest)


def _go_lower(word: str) -> str:
    """strings.ToLower: each code point by its single-character mapping (Python lowers U+0130 to "i\\u0307")."""
    return "".join(ch.lower()[0] for ch in word)


_JSON_TOKEN = re.compile(
    r"""[ \t\n\r]*+(?:
        (?P<str>"(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+")  # possessive: an unclosed string costs
        # its length, not 2**length
        |(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
        |(?P<lit>true|false|null)
        |(?P<punct>[][{}:,])
    )""",
    re.VERBOSE,
)
# after an array's element: the ", scalar" pairs that follow, taken in one match (the walk is Python per token)
_SCALAR_RUN = re.compile(
    r"""(?:[ \t\n\r]*+,[ \t\n\r]*+(?>"(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+"
    |-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null))++""",
    re.VERBOSE,
)
_GO_JSON_MAX_DEPTH = 10000  # encoding/json's maxNestingDepth
_CLOSER = {"[": "]", "{": "}"}


def _finite(number: str) -> float:
    value = float(number)
    if math.isinf(value):
        raise ValueError(f"{number} overflows float64")  # Go's ParseFloat fails, Python's float() is inf
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # Go's decoder refuses NaN and Infinity, Python's takes them


_GO_LIKE = json.JSONDecoder(parse_float=_finite, parse_int=_finite, parse_constant=_no_constant)
# an integer of fewer digits than float64's largest (309) is finite: Python's own int() reads it, at C speed
_GO_LIKE_SHORT_INTS = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)
_LONG_DIGITS = re.compile("[0-9]{309}")


def _go_like(text: str) -> json.JSONDecoder:
    return _GO_LIKE if _LONG_DIGITS.search(text) else _GO_LIKE_SHORT_INTS


def _go_decodes(text: str) -> bool:
    """Whether Go's ``json.Decoder.Decode`` into ``[]interface{}`` succeeds on the JSON value ``text`` starts with.

    It fails where Python's decoder does not: ``NaN``/``Infinity``, a number that overflows float64 (``1e999``, 400
    digits), nesting past 10,000. Python's decoder recurses (RecursionError at about 1,000 levels): deeper values
    are walked with an explicit stack instead, a token at a time (about 2.4 µs) but for the runs of scalars in an
    array, which the C decoder checks.
    """
    try:
        _go_like(text).raw_decode(text)
    except RecursionError:
        return _go_decodes_deep(text)
    except ValueError:
        return False
    return True


def _go_decodes_deep(text: str) -> bool:
    """:func:`_go_decodes` for values nested too deep for Python's decoder: one token at a time, a stack of
    open arrays and objects."""
    stack: list[str] = []
    expect = "value"  # value | first-value (or "]") | key | first-key (or "}") | colon | next ("," or the closer)
    pos = 0
    while m := _JSON_TOKEN.match(text, pos):
        pos, kind = m.end(), m.lastgroup
        tok = m.group(kind or 0)
        if expect in ("value", "first-value"):
            if tok in _CLOSER:
                stack.append(tok)
                if len(stack) > _GO_JSON_MAX_DEPTH:
                    return False
                expect = "first-value" if tok == "[" else "first-key"
                continue
            if kind == "num" and math.isinf(float(tok)):
                return False
            if kind not in ("str", "num", "lit") and not (tok == "]" and expect == "first-value"):
                return False
        elif expect in ("key", "first-key"):
            if kind == "str":
                expect = "colon"
                continue
            if not (tok == "}" and expect == "first-key"):
                return False
        elif expect == "colon":
            if tok != ":":
                return False
            expect = "value"
            continue
        elif tok == ",":
            expect = "value" if stack[-1] == "[" else "key"
            continue
        elif tok != _CLOSER[stack[-1]]:
            return False
        if tok in ("]", "}"):
            stack.pop()
            if not stack:
                return True
        expect = "next"
        if stack and stack[-1] == "[" and (run := _SCALAR_RUN.match(text, pos)):
            try:  # the C decoder checks the run's numbers (and strings) as Go's would, a thousand times faster
                _go_like(run.group()).decode(f"[0{run.group()}]")
            except ValueError:
                return False
            pos = run.end()
    return False  # a token Go's scanner rejects, or the end of the text inside the value


def _split_command(line: str) -> tuple[str, str]:
    """splitCommand: the keyword and the arguments after its ``--flags``."""
    parts = _GO_BLANKS.split(line.strip(GO_SPACE), maxsplit=1)
    return parts[0], (_after_flags(parts[1]) if len(parts) == 2 else "").strip(GO_SPACE)


def _after_flags(line: str) -> str:
    """extractBuilderFlags: what follows the leading ``--flag`` words (Go walks bytes: so does this)."""
    data = line.encode("utf-8", "surrogatepass")
    n = len(data)
    pos = 0
    in_word = in_quote = False
    word = b""
    quote = 0
    while pos < n:
        ch = data[pos]
        if not in_word and not in_quote:
            if chr(ch) in _GO_SPACE:
                pos += 1
                continue
            if ch != 0x2D or pos + 1 == n or data[pos + 1] != 0x2D:
                return data[pos:].decode("utf-8", "replace")
            in_word = True
        if in_word:
            if chr(ch) in _GO_SPACE:
                in_word = False
                if word == b"--":
                    return data[pos:].decode("utf-8", "replace")
                word = b""
            elif ch in (0x22, 0x27):
                quote, in_word, in_quote = ch, False, True
            elif ch != 0x5C:
                word += data[pos : pos + 1]
            elif pos + 1 < n:  # an escape at the very end is dropped
                pos += 1
                word += data[pos : pos + 1]
        else:  # in a quote
            if ch == quote or (ch == 0x5C and pos + 1 == n):  # the quote closes (an escape at the end: too)
                in_word, in_quote = True, False
            else:
                if ch == 0x5C:
                    pos += 1
                word += data[pos : pos + 1]
        pos += 1
    return ""


class _Lexer:
    """BuildKit v0.12.5's shell lexer (shell/lex.go) as heredocsFromLine and heredocFromMatch run it: backslash as
    the escape (whatever the Dockerfile's escape directive), no variable set and unset ones kept as written;
    ``raw_quotes`` and ``raw_escapes`` keep quotes and escapes in the words."""

    def __init__(self, text: str, *, raw_quotes: bool, raw_escapes: bool) -> None:
        self.text = text
        self.pos = 1 if text.startswith("\ufeff") else 0  # text/scanner skips a BOM as the very first character
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def words(self) -> list[str]:
        return self.scan("")[1]

    def scan(self, stop: str) -> tuple[str, list[str]]:
        """processStopOn: the text up to ``stop`` (consumed) and its words; each call has its own words."""
        result: list[str] = []
        words: list[str] = []
        word: list[str] = []
        in_word = False

        def add_char(ch: str) -> None:
            nonlocal in_word
            if ch in _GO_SPACE:
                if in_word and (text := "".join(word)):  # '' makes no word of its own, as in Go
                    words.append(text)
                    word.clear()
                    in_word = False
            else:
                word.append(ch)
                in_word = True

        while self.pos < len(self.text):
            if many := _PLAIN_WORDS.match(self.text, self.pos):
                chunk = many.group()
                first, *rest = _NON_BLANK.findall(chunk)
                word.append(first)  # the first run ends the word being built, the others are whole words
                words.append("".join(word))
                word.clear()
                words.extend(rest)
                in_word = False
                result.append(chunk)
                self.pos = many.end()
                continue
            if plain := _PLAIN_RUN.match(self.text, self.pos):
                word.append(plain.group())
                in_word = True
                result.append(plain.group())
                self.pos = plain.end()
                continue
            ch = self.peek()
            if stop and ch == stop:
                self.pos += 1
                return "".join(result), _finish(words, word)
            if ch in "$'\"":
                piece = self.dollar() if ch == "$" else self.single_quote() if ch == "'" else self.double_quote()
                result.append(piece)
                if ch == "$" and not _GO_SPACE.isdisjoint(piece):
                    for c in piece:  # blanks from an expansion split words
                        add_char(c)
                elif ch == "$":
                    if piece:
                        word.append(piece)
                        in_word = True
                else:
                    word.append(piece)
                    in_word = True
                continue
            ch = self.next()
            if ch == "\\":
                if self.raw_escapes:
                    word.append(ch)
                    in_word = True
                    result.append(ch)
                ch = self.next()
                if not ch:
                    break
                word.append(ch)
                in_word = True
            else:
                add_char(ch)
            result.append(ch)
        if stop:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), _finish(words, word)

    def single_quote(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise _LexError("unexpected end of statement while looking for matching single-quote")
        body = self.text[self.pos : end]
        self.pos = end + 1
        return f"'{body}'" if self.raw_quotes else body

    def double_quote(self) -> str:
        self.pos += 1
        out = ['"'] if self.raw_quotes else []
        while True:
            ch = self.peek()
            if not ch:
                raise _LexError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == "\\":
                if self.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in '"$\\':
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        start, text = self.pos, self.text
        if self.pos < len(text):
            ch = text[self.pos]
            if ch.isdecimal():
                while self.pos < len(text) and text[self.pos].isdecimal():
                    self.pos += 1
                return text[start : self.pos]
            if ch in "@*#?-$!0":
                self.pos += 1
                return ch
        while self.pos < len(text) and (
            text[self.pos].isalpha() or text[self.pos].isdecimal() or text[self.pos] == "_"
        ):
            self.pos += 1
        return text[start : self.pos]

    def dollar(self) -> str:
        """processDollar with no variable set: unset ones stay as written (SkipUnsetEnv)."""
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            return f"${name}" if name else "$"
        self.pos += 1
        first = self.peek()
        if not first or first in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        if op == "}":
            return f"${{{name}}}"
        modifier = op
        if op == ":":
            modifier += self.next()
        elif op not in "+-?" or not op:
            raise _LexError(f"unsupported modifier ({op}) in substitution")
        word, _ = self.scan("}")
        return f"${{{name}{modifier}{word}}}"
