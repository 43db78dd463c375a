"""Docker's .dockerignore language, once: read an ignore file, compile its patterns, match paths, rebase patterns.

The rules are moby's, reproduced exactly (github.com/moby/patternmatcher and its ``ignorefile`` reader):

* reading: a UTF-8 BOM is dropped from the first line; a line whose first character is ``#`` is a comment (``#``
  anywhere else is an ordinary character); surrounding whitespace is trimmed (Go's ``strings.TrimSpace``); a leading
  ``!`` marks an exception; the rest is cleaned with Go's ``filepath.Clean`` and one leading ``/`` is dropped.
* matching: ``*`` and ``?`` never cross ``/``; ``**`` spans any number of directories; ``\\`` escapes the next
  character; a pattern that matches a directory matches everything below it; the last pattern that matches decides,
  so an exception re-includes what earlier patterns excluded.

>>> m = PatternMatcher.parse("node_modules\\n*.log\\n!keep.log\\n")
>>> [m.matches(p) for p in ("node_modules/x/y.js", "a.log", "keep.log", "sub/a.log")]
[True, True, False, False]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from dockit.errors import DockitError

# Go's unicode.IsSpace, which strings.TrimSpace uses: narrower than str.isspace (no \x1c-\x1f), so trim with this.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
# bufio.Scanner's default token limit: moby's reader fails on a longer line, and so do we.
MAX_LINE = 64 * 1024
_REGEX_ESCAPED = frozenset(".+()|{}$")  # moby escapes these when it turns a pattern into a regexp
_GLOB_SPECIAL = frozenset("*?[]\\^")  # what must be escaped to stand for itself in a regexp-compiled pattern
_LITERAL_UNSAFE = frozenset("*?[]\\\n\r")  # what makes a literal path need escaping at all


def go_trim_space(s: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return s.strip(GO_SPACE)


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash-separated path (unlike posixpath.normpath, ``//a`` becomes ``/a``).

    >>> [go_clean(p) for p in ("", "a//b/./c/..", "/../a/", "../../a", "//x")]
    ['.', 'a/b', '/a', '../../a', '/x']
    """
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
        else:
            parts.append(comp)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


@dataclass(frozen=True)
class IgnoreLine:
    """One pattern of an ignore file as moby's reader returns it (``!`` kept in front), with its line number."""

    text: str
    line: int


def read_ignorefile(data: bytes | str, path: str = ".dockerignore") -> list[IgnoreLine]:
    """The patterns of an ignore file, normalised exactly as moby's ``ignorefile.ReadAll`` does.

    >>> [p.text for p in read_ignorefile(b"\\xef\\xbb\\xbf# c\\n /a//b/ \\n! ./keep\\n  # not a comment\\n")]
    ['a/b', '!keep', '# not a comment']
    """
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # bufio.ScanLines yields no empty token after a final newline
    out: list[IgnoreLine] = []
    for number, line in enumerate(lines, start=1):
        if len(line) >= MAX_LINE:
            raise DockitError("line too long (docker reads at most 64 KiB per line)", path=path, line=number)
        if line.endswith(b"\r"):
            line = line[:-1]
        text = line.decode("utf-8", "surrogateescape")
        if text.startswith("#"):
            continue
        pattern = go_trim_space(text)
        if not pattern:
            continue
        invert = pattern[0] == "!"
        if invert:
            pattern = go_trim_space(pattern[1:])
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        out.append(IgnoreLine("!" + pattern if invert else pattern, number))
    return out


class MatchType(Enum):
    """How moby matches a compiled pattern: plain comparisons when it can, a regexp otherwise."""

    EXACT = "exact"
    PREFIX = "prefix"  # "dir/**": everything below
    SUFFIX = "suffix"  # "**/name" and other leading-** patterns without further wildcards
    REGEXP = "regexp"


def _check_glob_syntax(pattern: str) -> str | None:
    """Why Go's ``filepath.Match`` would reject ``pattern`` (moby checks each pattern with it), or None."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return "trailing backslash"
            i += 2
        elif c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while True:
                if i < n and pattern[i] == "]" and ranges > 0:
                    i += 1
                    break
                i = _class_char(pattern, i)  # lo
                if i < 0:
                    return "malformed character class"
                if i < n and pattern[i] == "-":
                    i = _class_char(pattern, i + 1)  # hi
                    if i < 0:
                        return "malformed character class"
                ranges += 1
        else:
            i += 1
    return None


def _class_char(pattern: str, i: int) -> int:
    """Past one character of a class (Go's getEsc), or -1 where filepath.Match reports ErrBadPattern."""
    if i >= len(pattern) or pattern[i] in "-]":
        return -1
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return -1
    return i + 1


# Go RE2 escapes that moby's translation can produce (a backslash passes the next character through): the ones
# Python's re (with re.ASCII) reads the same way, and \z, which Python spells \Z. Others are refused, not guessed.
_GO_ESCAPES = {c: "\\" + c for c in "dDsSwWbBAafnrtv"} | {"z": "\\Z"}


def _compile(pattern: str) -> tuple[MatchType, re.Pattern[str] | None]:
    """moby's ``Pattern.compile``: the match type and, for REGEXP, the regexp (Go syntax rendered for Python)."""
    out = ["^"]
    kind = MatchType.EXACT
    i, n, step = 0, len(pattern), 0
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    if kind is MatchType.EXACT:
                        kind = MatchType.PREFIX
                    else:
                        out.append(".*")
                        kind = MatchType.REGEXP
                else:
                    out.append("(?:.*/)?")
                    kind = MatchType.REGEXP
                if step == 0:
                    kind = MatchType.SUFFIX
            else:
                out.append("[^/]*")
                kind = MatchType.REGEXP
        elif c == "?":
            out.append("[^/]")
            kind = MatchType.REGEXP
        elif c in _REGEX_ESCAPED:
            out.append("\\" + c)
        elif c == "\\":
            if i < n:
                nxt = pattern[i]
                i += 1
                if nxt.isascii() and nxt.isalnum():
                    if nxt not in _GO_ESCAPES:
                        raise ValueError(f"unsupported escape \\{nxt}")
                    out.append(_GO_ESCAPES[nxt])
                elif not nxt.isascii():
                    raise ValueError(f"invalid escape \\{nxt}")
                else:
                    out.append(re.escape(nxt))
                kind = MatchType.REGEXP
            else:
                out.append("\\\\")
        elif c in "[]":
            out.append(c)
            kind = MatchType.REGEXP
        else:
            out.append(c)  # what Go's regexp reads literally, Python's re does too (^ is an anchor in both)
        step += 1
    if kind is not MatchType.REGEXP:
        return kind, None
    out.append("\\Z")  # Go's $ without (?m) is end of text; Python's $ would also match before a final newline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": same meaning as in Go
        try:
            return kind, re.compile("".join(out), re.ASCII)
        except re.error as e:
            raise ValueError(f"invalid pattern: {e}") from None


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern: ``text`` without its ``!``, ``exclusion`` true for a ``!`` exception."""

    text: str
    exclusion: bool
    kind: MatchType
    regex: re.Pattern[str] | None = field(repr=False, compare=False)

    @classmethod
    def compile(cls, source: str) -> Pattern:
        """Compile one pattern the way moby's ``patternmatcher.New`` does; ValueError says what is wrong.

        >>> Pattern.compile("**/*.go").match("a/b/c.go"), Pattern.compile("!a/*").exclusion
        (True, True)
        """
        p = go_clean(go_trim_space(source))
        exclusion = p.startswith("!")
        if exclusion:
            if len(p) == 1:
                raise ValueError('illegal exclusion pattern: "!"')
            p = p[1:]
        problem = _check_glob_syntax(p)
        if problem:
            raise ValueError(f"syntax error in pattern: {problem}")
        kind, regex = _compile(p)
        return cls(p, exclusion, kind, regex)

    def match(self, path: str) -> bool:
        """Whether this pattern matches ``path`` itself (slash-separated, relative to the context root)."""
        kind = self.kind
        if kind is MatchType.EXACT:
            return path == self.text
        if kind is MatchType.PREFIX:
            return path.startswith(self.text[:-2])
        if kind is MatchType.SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None

    def rebased(self, prefix: str) -> str | None:
        """This pattern, with ``!`` if an exception, re-rooted at directory ``prefix``; None if it matches nothing.

        Within ``prefix`` the result matches exactly what this pattern matches when ``prefix`` is the context
        root, and it matches nothing outside ``prefix``. A plain ``prefix + "/" + pattern`` is not enough:
        moby treats ``**name`` as "ends with name" but ``svc/**name`` as "a component named name".

        >>> [Pattern.compile(p).rebased("svc/api") for p in ("!keep", "**/*.tmp", "**.log", "dist/**", ".")]
        ['!svc/api/keep', 'svc/api/**/*.tmp', 'svc/api/**/*.log', 'svc/api/dist/**', None]
        """
        text = self.text
        if text in (".", "/") or text == ".." or text.startswith("../"):
            return None  # never matches a path inside a context, and must not start to once prefixed
        base = _escape_regex(prefix)  # joined to a pattern compiled as a regexp, where ^ is an anchor
        if self.kind is MatchType.EXACT:
            out = escape_literal(f"{prefix}/{text}")
        elif self.kind is MatchType.PREFIX:
            out = escape_literal(f"{prefix}/{text[:-2]}") + "**"
        elif self.kind is MatchType.SUFFIX:
            suffix = text[2:]
            if not suffix:
                out = base + "/**"
            elif suffix.startswith("/"):
                out = base + "/**/" + _escape_chars(suffix[1:])
            else:
                out = base + "/**/*" + _escape_chars(suffix)
        else:
            out = f"{base}/{text}"
        return ("!" + out) if self.exclusion else out

    def within(self, directory: str) -> list[str] | None:
        """Patterns (with ``!`` if an exception) for what this pattern decides inside ``directory``, and nothing else.

        For a path below ``directory`` (a clean relative path), the result matches exactly when this pattern matches,
        through a parent or not; outside it, never. One pattern naming ``directory`` itself when this pattern matches
        it or a parent of it; ``[]`` when it matches nothing below it; None for what component steps cannot follow
        (a ``**`` inside a name, an escaped ``/``).

        >>> [Pattern.compile(p).within("svc/api") for p in ("**/node_modules", "!svc/*/keep", "*.log", "svc", "x**")]
        [['svc/api/**/node_modules'], ['!svc/api/keep'], [], ['svc/api'], None]
        """
        bang = "!" if self.exclusion else ""
        parts = directory.split("/")
        if any(self.match("/".join(parts[: i + 1])) for i in range(len(parts))):
            return [bang + escape_literal(directory)]
        comps = self.text.split("/")
        if "\\/" in self.text or any("**" in c and c != "**" for c in comps):
            return None
        states = _star_closure(comps, {0})
        for name in parts:
            after = set()
            for i in states:
                if i < len(comps) and (comps[i] == "**" or _component_matches(comps[i], name)):
                    after.add(i if comps[i] == "**" else i + 1)
            states = _star_closure(comps, after)
        out = []
        for i in sorted(states):
            if i == len(comps) or (i > 0 and comps[i - 1] == "**" and i - 1 in states):
                continue  # matches the directory itself (checked above), or what the `**` before it covers already
            out.append(bang + escape_below(directory, "/".join(comps[i:])))
        return out


def _star_closure(comps: list[str], states: set[int]) -> set[int]:
    """``states`` and the positions a ``**`` at one of them reaches by matching no component."""
    out = set(states)
    for i in sorted(states):
        while i < len(comps) and comps[i] == "**":
            i += 1
            out.add(i)
    return out


def _component_matches(glob: str, name: str) -> bool:
    """Whether one pattern component (no ``/``, no ``**``) matches one path component, as moby matches it."""
    regex = _compile(glob)[1]
    return glob == name if regex is None else regex.match(name) is not None


def _escape_chars(text: str) -> str:
    out = []
    for c in text:
        if c in _GLOB_SPECIAL:
            out.append("\\" + c)
        elif c == "\n":
            out.append("[\\n]")
        elif c == "\r":
            out.append("[\\r]")
        else:
            out.append(c)
    return "".join(out)


def escape_literal(path: str) -> str:
    """A pattern that matches exactly ``path`` (a clean relative path), whatever characters its names hold.

    A path without pattern characters stays as it is (moby then compares it as a string, ``^`` and all).

    >>> escape_literal("svc/a^b"), escape_literal("svc/a*b"), escape_literal("!odd"), escape_literal(" pad ")
    ('svc/a^b', 'svc/a\\\\*b', '\\\\!odd', '[ ]pad[ ]')
    """
    if not (_LITERAL_UNSAFE & set(path) or path[:1] in ("!", "#") or path[:1] in GO_SPACE or path[-1:] in GO_SPACE):
        return path
    return _escape_regex(path)


def escape_below(directory: str, pattern: str) -> str:
    """A pattern matching what ``pattern`` matches inside literal ``directory``: the directory escaped as it must be
    where it is joined to a pattern that compiles to a regexp (``^`` is an anchor there), literally otherwise.

    >>> escape_below("svc/a^b", "*.txt"), escape_below("svc/a^b", "keep"), escape_below("svc/a*b", "x")
    ('svc/a\\\\^b/*.txt', 'svc/a^b/keep', 'svc/a\\\\*b/x')
    """
    if _compile(pattern)[0] is MatchType.EXACT and "\\" not in pattern:
        return escape_literal(f"{directory}/{pattern}")
    return f"{_escape_regex(directory)}/{pattern}"


def pattern_line(pattern: Pattern) -> str:
    """``pattern`` as a line of an ignore file that reads back as the same pattern (``!`` for an exception).

    >>> [pattern_line(p) for p in PatternMatcher.parse(" #x\\n!a/b\\n").patterns]
    ['\\\\#x', '!a/b']
    """
    text = "\\" + pattern.text if pattern.text.startswith("#") and not pattern.exclusion else pattern.text
    return ("!" + text) if pattern.exclusion else text


def _escape_regex(path: str) -> str:
    """``path`` as a pattern that matches it literally once moby compiles the pattern to a regexp."""
    out = _escape_chars(path)
    if out[:1] in ("!", "#"):
        out = "\\" + out
    elif out[:1] and out[0] in GO_SPACE:
        out = f"[{out[0]}]{out[1:]}"
    if out[-1:] and out[-1] in GO_SPACE:
        out = f"{out[:-1]}[{out[-1]}]"
    return out


class PatternMatcher:
    """An ordered list of compiled patterns: moby's ``PatternMatcher`` with ``MatchesOrParentMatches``."""

    def __init__(self, patterns: Iterable[str | IgnoreLine] = (), path: str | None = None) -> None:
        """Compile ``patterns`` (lines as :func:`read_ignorefile` returns them, or plain strings).

        A bad pattern is a :class:`~dockit.errors.DockitError` naming ``path`` and its line.
        """
        compiled: list[Pattern] = []
        for n, item in enumerate(patterns, start=1):
            text, line = (item.text, item.line) if isinstance(item, IgnoreLine) else (item, n)
            if not go_trim_space(text):
                continue
            try:
                compiled.append(Pattern.compile(text))
            except ValueError as e:
                raise DockitError(f"{e}: {text!r}", path=path, line=line if path else None) from None
        self.patterns: Sequence[Pattern] = tuple(compiled)

    @classmethod
    def parse(cls, data: bytes | str, path: str = ".dockerignore") -> PatternMatcher:
        """Read and compile an ignore file's content; errors name ``path`` and the line."""
        return cls(read_ignorefile(data, path), path=path)

    def matches(self, path: str) -> bool:
        """Whether docker leaves ``path`` (relative, slash-separated) out of the build context.

        A pattern that matches any parent directory of ``path`` counts as matching ``path``; the last pattern
        that matches wins.
        """
        path = go_clean(path)
        if path == ".":
            return False
        return self.decide(path, self.parent_flags(path))

    def parent_flags(self, path: str) -> tuple[bool, ...]:
        """For each pattern, whether it matches some parent directory of ``path``."""
        parts = path.split("/")[:-1]
        ancestors = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return tuple(any(p.match(a) for a in ancestors) for p in self.patterns)

    def flags(self, path: str, parent: Sequence[bool]) -> tuple[bool, ...]:
        """For each pattern, whether it matches ``path`` or one of its parents (given the parent's flags)."""
        return tuple(f or p.match(path) for f, p in zip(parent, self.patterns, strict=True))

    def decide(self, path: str, parent: Sequence[bool]) -> bool:
        """Whether ``path`` is excluded, given for each pattern whether it matches one of its parents."""
        patterns = self.patterns
        for i in range(len(patterns) - 1, -1, -1):
            if parent[i] or patterns[i].match(path):
                return not patterns[i].exclusion
        return False

    def decided(self, flags: Sequence[bool]) -> bool:
        """Whether a path is excluded, given for each pattern whether it matches the path or a parent."""
        for i in range(len(flags) - 1, -1, -1):
            if flags[i]:
                return not self.patterns[i].exclusion
        return False

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether docker walks into excluded ``directory``: some exception's text starts with ``directory/``.

        Docker's context walker (moby's archive.TarWithOptions, docker-py alike) skips an excluded directory
        unless an exception starts with its path literally, so ``!**/keep`` re-includes nothing inside one.
        """
        prefix = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)
