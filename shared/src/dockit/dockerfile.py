"""The one model of a Dockerfile every tool uses, on top of BuildKit's own parser (the ``dockerfile`` package).

The parser gives instructions with exact line spans; this module adds what it lacks: parser directives, verbatim
text (so ``str(parse(text)) == text``), leading comments, ONBUILD's inner flags, line numbers in errors, guards
against inputs that crash or silently truncate it, stages and their dependencies by BuildKit's rules, with one
deliberate restriction: a ``--from`` naming a later stage is an error (BuildKit allows it, the classic builder reads
it as an image name).

>>> df = parse("ARG V=3\\nFROM alpine:${V} AS base\\nFROM base\\nCOPY --from=base /a /b\\n")
>>> [s.name for s in df.closure(None)], df.stages[1].deps()
(['base', None], [0])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from dockit.errors import DockerfileError
from dockit.expand import Budget, Expansion, ExpansionError, ExpansionTooLarge, expand
from dockit.heredocs import GO_SPACE, ends, opened
from dockit.limits import (
    MAX_DOCKERFILE_BYTES,
    MAX_INSTRUCTION_LINES,
    MAX_INSTRUCTIONS,
    MAX_LINE,
    MAX_WORD_WORK,
    size,
)

DEFAULT_PLATFORM = "linux/amd64"
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm/v7"}
_MACHINES |= {"armv6l": "arm/v6", "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x"}
_MACHINES |= {"riscv64": "riscv64"}


def host_platform() -> str:
    """The platform docker builds for when given none: this machine's (``linux/amd64`` on x86-64).

    >>> host_platform().startswith("linux/")
    True
    """
    import platform

    return "linux/" + _MACHINES.get(platform.machine().lower(), DEFAULT_PLATFORM.split("/", 1)[1])


KEYWORDS = frozenset(
    {
        *("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL"),
        *("MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"),
    }
)
PLATFORM_ARGS = (
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
)
KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^git@")
# A shell word as BuildKit's lexers read one: quoted parts (spaces and all, to the end if unterminated) and escapes.
_WORD = re.compile(r"""(?:[^\s"'\\`]|[\\`].|"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|[\\`"'])+""", re.S)
_INDEX_DIGITS = 9  # a --from index with more digits names no stage (there are at most MAX_INSTRUCTIONS)


@dataclass(frozen=True)
class Directive:
    """A parser directive such as ``# syntax=docker/dockerfile:1`` (name lower-cased)."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class Heredoc:
    """A heredoc body. ``expand`` is False for a quoted marker (``<<'EOF'``), ``chomp`` True for ``<<-``."""

    name: str
    content: str
    expand: bool = True
    chomp: bool = False


@dataclass
class Instruction:
    """One instruction with its verbatim source.

    ``flags`` maps a flag name (no dashes) to its values in order: ``COPY --from=build`` -> ``{"from": ["build"]}``;
    a bare flag (``--link``) has the value ``""``. ``args`` are the arguments as BuildKit split them (JSON form
    decoded; shell form RUN/CMD/ENTRYPOINT is one string). ``text`` is the exact source of lines
    ``start_line..end_line`` (continuations, inner comments and heredoc bodies included) and ``lead`` the comment and
    blank lines just above it, which belong with it.
    """

    keyword: str
    flag_list: tuple[str, ...]
    args: list[str]
    json: bool
    heredocs: list[Heredoc]
    start_line: int
    end_line: int
    text: str
    lead: str = ""
    lead_start: int = 0
    original: str = ""
    inner: Instruction | None = None  # the instruction an ONBUILD wraps, re-read with its flags and heredocs

    @property
    def line(self) -> int:
        return self.start_line

    @cached_property
    def flags(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for flag in self.flag_list:
            name, _, value = flag.lstrip("-").partition("=")
            out.setdefault(name.lower(), []).append(value)
        return out

    def flag(self, name: str) -> str | None:
        """The last value of flag ``name`` (as BuildKit takes it), or None when absent."""
        values = self.flags.get(name)
        return values[-1] if values else None

    def mounts(self) -> list[dict[str, str]]:
        """The ``--mount`` flags of a RUN, each parsed with :func:`parse_mount`."""
        return [parse_mount(v) for v in self.flags.get("mount", [])]

    def pairs(self) -> list[tuple[str, str]]:
        """An ENV's or LABEL's ``(key, value)`` pairs, values as written (BuildKit expands them); [] for others.

        >>> parse('FROM a\\nENV A=1 B="x y"\\n').stages[0].instructions[0].pairs()
        [('A', '1'), ('B', '"x y"')]
        """
        if self.keyword not in ("ENV", "LABEL") or len(self.args) % 2:
            return []
        return [(self.args[i], self.args[i + 1]) for i in range(0, len(self.args), 2)]

    def arg_items(self) -> list[tuple[str, str | None]]:
        """An ARG's ``(name, default)`` items, defaults as written and None where there is none; [] for others.

        >>> parse("ARG A=1 B\\nFROM a\\n").global_args[0].arg_items()
        [('A', '1'), ('B', None)]
        """
        if self.keyword != "ARG":
            return []
        items = []
        for item in self.args:
            name, eq, default = item.partition("=")
            items.append((name, default if eq else None))
        return items

    def sources_dest(self) -> tuple[list[str], str] | None:
        """A COPY's or ADD's sources and destination, as written; None for a heredoc source or another keyword.

        >>> parse("FROM a\\nCOPY a b /d/\\n").stages[0].instructions[0].sources_dest()
        (['a', 'b'], '/d/')
        """
        if self.keyword not in ("COPY", "ADD") or self.heredocs or len(self.args) < 2:
            return None
        return self.args[:-1], self.args[-1]

    def __str__(self) -> str:
        return self.lead + self.text


@dataclass(frozen=True)
class StageRef:
    """A reference from an instruction to another stage or to an external image.

    ``kind`` is ``from`` (FROM base), ``copy`` (COPY/ADD --from) or ``mount`` (RUN --mount from=); ``stage`` is the
    index of the stage referred to, or None for an external image named ``ref``.
    """

    kind: str
    ref: str
    stage: int | None
    instruction: Instruction


@dataclass
class Stage:
    """One build stage: its FROM instruction and the instructions up to the next FROM."""

    index: int
    name: str | None
    base_raw: str
    base: str
    platform: str | None
    from_instruction: Instruction
    instructions: list[Instruction]
    refs: list[StageRef] = field(default_factory=list)
    assumed_args: dict[str, str] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.from_instruction.start_line

    @property
    def label(self) -> str:
        """The name, or the index for an unnamed stage (how users refer to it)."""
        return self.name if self.name is not None else str(self.index)

    def deps(self) -> list[int]:
        """Indexes of the stages this stage needs (FROM, COPY --from, RUN --mount from=), sorted, no repeats."""
        return sorted({r.stage for r in self.refs if r.stage is not None})

    def all_instructions(self) -> list[Instruction]:
        """The FROM instruction followed by the others."""
        return [self.from_instruction, *self.instructions]

    def __str__(self) -> str:
        return "".join(str(i) for i in self.all_instructions())


@dataclass
class Dockerfile:
    """A parsed Dockerfile. ``str(df)`` gives back the source text byte for byte."""

    source: str
    path: str
    directives: list[Directive]
    preamble: str  # the directive lines (verbatim) that open the file
    global_args: list[Instruction]  # ARGs before the first FROM
    stages: list[Stage]
    trailer: str  # comment / blank lines after the last instruction
    build_args: dict[str, str]
    platform: str
    strict_base: bool = True  # False: a FROM that expands to nothing is kept (tools that never need the image)
    encoding: SourceEncoding = field(default_factory=lambda: SourceEncoding())

    @property
    def eol(self) -> str:
        """The file's line ending (CRLF when its first line ends so), for lines a tool adds."""
        first = self.source.find("\n")
        return "\r\n" if first > 0 and self.source[first - 1] == "\r" else "\n"

    _by_name: dict[str, Stage] = field(default_factory=dict, repr=False, compare=False)

    @property
    def escape(self) -> str:
        for d in self.directives:
            if d.name == "escape":
                return d.value
        return "\\"

    def instructions(self) -> Iterator[Instruction]:
        """Every instruction in file order."""
        yield from self.global_args
        for stage in self.stages:
            yield from stage.all_instructions()

    def stage(self, ref: str | int) -> Stage:
        """A stage by index (int or digits) or by name (case-insensitive); DockerfileError when there is none."""
        found = self.find_stage(ref)
        if found is None:
            available = ", ".join(
                f"{s.index} ({s.name})" if s.name is not None else f"{s.index} (unnamed)" for s in self.stages
            )
            raise DockerfileError(f"no stage {str(ref)!r}; stages: {available}", path=self.path)
        return found

    def find_stage(self, ref: str | int) -> Stage | None:
        if isinstance(ref, int) or is_index(ref):
            i = stage_index(ref) if isinstance(ref, str) else ref
            return self.stages[i] if i is not None and 0 <= i < len(self.stages) else None
        wanted = ref.lower()
        if not self._by_name:  # parse() fills it; a Dockerfile built by hand gets it on first use
            self._by_name = {s.name: s for s in self.stages if s.name is not None}
        return self._by_name.get(wanted)

    def closure(self, target: str | int | None = None) -> list[Stage]:
        """The stages ``target`` needs, itself included, in file order; ``None`` means the last stage.

        >>> df = parse("FROM a AS x\\nFROM b AS y\\nFROM c\\nCOPY --from=x / /\\n")
        >>> [s.index for s in df.closure(None)]
        [0, 2]
        """
        start = self.stages[-1] if target is None else self.stage(target)
        seen: set[int] = set()
        todo = [start.index]
        while todo:
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo.extend(self.stages[i].deps())
        return [s for s in self.stages if s.index in seen]

    @cached_property
    def names_in_use(self) -> frozenset[str]:
        """Every stage name, and every image name a FROM or ``--from`` refers to (lower-cased): the words a new stage
        name must not be, or it would capture a reference."""
        used = {s.name for s in self.stages if s.name is not None}
        used |= {r.ref.lower() for s in self.stages for r in s.refs} | {s.base.lower() for s in self.stages}
        return frozenset(used)

    def base_env(self) -> dict[str, str]:
        """The variables FROM lines see: built-in platform ARGs, then global ARGs (defaults or --build-arg)."""
        return _global_env(self.global_args, self.build_args, self.platform, self.escape, self.path, Budget())[0]

    def __str__(self) -> str:
        return self.preamble + "".join(str(i) for i in self.instructions()) + self.trailer


def is_index(ref: str) -> bool:
    """Whether a ``--from`` value is a stage index (ASCII digits only: ``int()`` takes other digits too)."""
    return ref.isascii() and ref.isdigit()


def stage_index(ref: str) -> int | None:
    """The stage index ``ref`` (digits) names, or None when it is too long to name any stage.

    >>> stage_index("007"), stage_index("9" * 5000)
    (7, None)
    """
    digits = ref.lstrip("0") or "0"
    return int(digits) if len(digits) <= _INDEX_DIGITS else None


def shown(value: str, limit: int = 60) -> str:
    """A value for a one-line message, cut to ``limit`` characters.

    >>> shown("1" * 100, 20)
    '11111111111111111111... (100 characters)'
    """
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"


def is_remote_source(source: str) -> bool:
    """An ADD source BuildKit fetches instead of reading the context: a URL or a git reference.

    >>> is_remote_source("https://x/y.tgz"), is_remote_source("git@github.com:a/b.git"), is_remote_source("a/b")
    (True, True, False)
    """
    return _REMOTE.match(source) is not None


def parse_mount(value: str) -> dict[str, str]:
    """Parse a ``--mount`` value the way BuildKit does (CSV, ``key=value``; a bare key maps to ``""``).

    >>> parse_mount("type=bind,from=build,source=/out,target=/in,readonly")
    {'type': 'bind', 'from': 'build', 'source': '/out', 'target': '/in', 'readonly': ''}
    """
    import csv

    fields = next(csv.reader([value]), [])
    out: dict[str, str] = {}
    for item in fields:
        key, _, val = item.partition("=")
        out[key.strip().lower()] = val
    if "src" in out and "source" not in out:
        out["source"] = out["src"]
    for alias in ("dst", "destination"):
        if alias in out and "target" not in out:
            out["target"] = out[alias]
    return out


@dataclass(frozen=True)
class SourceEncoding:
    """How a Dockerfile's bytes became its text, so a tool gives back the same bytes for what it did not touch.

    A file that is not UTF-8 (Latin-1 is common in old repositories, and docker builds it) is read as Latin-1: every
    byte is one character, so every byte comes back as it was.

    >>> enc = decode_source(b"\\xef\\xbb\\xbfFROM a\\r\\nLABEL x=caf\\xe9\\r\\n")[1]
    >>> enc, enc.encode("FROM a\\r\\nLABEL x=caf\\xe9\\r\\n")
    (SourceEncoding(bom=True, charset='latin-1'), b'\\xef\\xbb\\xbfFROM a\\r\\nLABEL x=caf\\xe9\\r\\n')
    """

    bom: bool = False
    charset: str = "utf-8"

    def encode(self, text: str) -> bytes:
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode(self.charset)


def decode(data: bytes | str, path: str = "Dockerfile") -> str:
    """The Dockerfile's text (see :func:`decode_source`)."""
    return decode_source(data, path)[0]


def decode_source(data: bytes | str, path: str = "Dockerfile") -> tuple[str, SourceEncoding]:
    """The Dockerfile's text and its encoding: BOM stripped, UTF-8 or else Latin-1, and no input the parser would
    crash or truncate on."""
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(f"larger than {size(MAX_DOCKERFILE_BYTES)} (the limit)", path)
    encoding = SourceEncoding()
    if isinstance(data, bytes):
        bom = data.startswith(b"\xef\xbb\xbf")
        if bom:
            data = data[3:]
        try:
            text = data.decode("utf-8")
            encoding = SourceEncoding(bom)
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            encoding = SourceEncoding(bom, "latin-1")
    else:
        text = data.removeprefix("\ufeff")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            # A lone surrogate would reach Go as invalid data and kill the whole process.
            raise DockerfileError("lone surrogate character", path, text.count("\n", 0, e.start) + 1) from None
    nul = text.find("\0")
    if nul >= 0:
        raise DockerfileError("NUL byte in the file", path, text.count("\n", 0, nul) + 1)
    if len(text) > MAX_LINE:
        for number, physical in enumerate(text.split("\n"), 1):
            if len(physical.encode()) > MAX_LINE:
                raise DockerfileError(f"line longer than {MAX_LINE} bytes", path, number)
    if len(text.encode()) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(f"larger than {size(MAX_DOCKERFILE_BYTES)} (the limit)", path)
    return text, encoding


def parse(
    data: bytes | str,
    path: str = "Dockerfile",
    build_args: Mapping[str, str] | None = None,
    platform: str = DEFAULT_PLATFORM,
    strict_base: bool = True,
) -> Dockerfile:
    """Parse a Dockerfile and resolve its stages.

    ``build_args`` override global ARG defaults and built-in platform ARGs when resolving ``FROM`` lines;
    ``platform`` (``os/arch[/variant]``) sets the TARGET*/BUILD* built-ins. Raises DockerfileError with the line.
    With ``strict_base`` False, a FROM whose image expands to nothing (``ARG BASE`` without a default and no
    --build-arg) is not an error: its stage's ``base`` is ``""``.
    """
    text, encoding = decode_source(data, path)
    lines = text.split("\n")
    directives, n_directive_lines = _read_directives(lines, path)
    escape = next((d.value for d in directives if d.name == "escape"), "\\")
    starts = _instruction_starts(lines, n_directive_lines, escape, path)
    commands = _buildkit_parse(text, path, lines, n_directive_lines, starts)
    if not commands:
        raise DockerfileError("file with no instructions", path)

    instructions: list[Instruction] = []
    prev_end = n_directive_lines
    for cmd in commands:
        inst = _instruction(cmd, lines, prev_end, escape, path)
        instructions.append(inst)
        prev_end = getattr(cmd, "end_line")  # noqa: B009
    preamble = "".join(line + "\n" for line in lines[:n_directive_lines])
    trailer = "\n".join(lines[prev_end:])  # the last instruction's text already ends with its newline

    df = Dockerfile(
        source=text,
        path=path,
        directives=directives,
        preamble=preamble,
        global_args=[],
        stages=[],
        trailer=trailer,
        build_args=dict(build_args or {}),
        platform=platform,
        strict_base=strict_base,
        encoding=encoding,
    )
    _build_stages(df, instructions)
    return df


def _read_directives(lines: list[str], path: str) -> tuple[list[Directive], int]:
    found: list[Directive] = []
    count = 0
    for number, line in enumerate(lines, 1):
        m = _DIRECTIVE.match(line.rstrip("\r"))
        if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        name, value = m.group(1).lower(), m.group(2)
        if any(d.name == name for d in found):
            raise DockerfileError(f"only one {name} parser directive can be used", path, number)
        if name == "escape" and value not in ("\\", "`"):
            raise DockerfileError(f"invalid escape token {value!r}: must be ` or \\", path, number)
        found.append(Directive(name, value, number))
        count = number
    return found, count


def _buildkit_parse(text: str, path: str, lines: list[str], n_directive_lines: int, starts: list[int]) -> list[object]:
    """BuildKit's commands for ``text``; its errors (which carry no line) as a DockerfileError with the line."""
    import dockerfile as buildkit

    try:
        return list(buildkit.parse_string(text))
    except buildkit.GoParseError as e:
        message = str(e)
    except UnicodeDecodeError:
        # The parser splits some words byte by byte (flag names, HEALTHCHECK's options) and hands back the halves of
        # a multi-byte character.
        message = "a non-ASCII character where the parser splits bytes (a flag or option name?)"
    return_line = _error_line(lines, n_directive_lines, starts, message)
    raise DockerfileError(message, path, return_line)


def _parser_message(text: str) -> str | None:
    """What :func:`_buildkit_parse` would report for ``text``, or None when it parses."""
    import dockerfile as buildkit

    try:
        buildkit.parse_string(text)
    except buildkit.GoParseError as e:
        return str(e)
    except UnicodeDecodeError:
        return "a non-ASCII character where the parser splits bytes (a flag or option name?)"
    return None


def _error_line(lines: list[str], n_directive_lines: int, starts: list[int], message: str) -> int | None:
    """The line of the instruction the parser fails on with ``message``.

    Instructions parse independently once the directives are known, so each probe parses one half of the remaining
    instructions on its own (with the directive lines in front): about twice the file's parse time in all, where
    probing growing prefixes would cost the file's parse time once per halving.
    """
    head = "\n".join(lines[:n_directive_lines]) + "\n" if n_directive_lines else ""
    bounds = [*starts, len(lines) + 1]

    def fails(lo: int, hi: int) -> bool:  # instructions lo..hi-1
        chunk = "\n".join(lines[bounds[lo] - 1 : bounds[hi] - 1])
        return _parser_message(head + chunk + "\n") == message

    lo, hi = 0, len(starts)
    if hi == 0:
        return 1  # nothing but comments and blank lines: "file with no instructions"
    if not fails(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(lo, mid):
            hi = mid
        elif fails(mid, hi):
            lo = mid
        else:  # the error needs both halves: our instruction boundaries are not the parser's
            return None
    return bounds[lo]


def _instruction_starts(lines: list[str], n_directive_lines: int, escape: str, path: str) -> list[int]:
    """The first line of each instruction, found the way BuildKit's parser reads lines, before it runs.

    This bounds the parser's work: it joins a continued line and collects a heredoc body by copying the text so far
    once per physical line it adds, so one long instruction costs its lines times its bytes. Heredocs are found and
    ended by the parser's own rules (:mod:`dockit.heredocs`), continuation lines joined as it joins them.
    """
    starts: list[int] = []
    work = 0  # the parser's word work so far (see _word_work)
    n = len(lines)
    i = n_directive_lines
    while i < n:
        first = lines[i].rstrip("\r").lstrip(GO_SPACE)  # Go's unicode.IsSpace: not U+001C..U+001F
        i += 1
        if not first or first.startswith("#"):
            continue
        start = i
        if len(starts) == MAX_INSTRUCTIONS:
            raise DockerfileError(f"more than {MAX_INSTRUCTIONS:,} instructions (the limit)", path, start)
        starts.append(start)
        parts = [_trimmed(first, escape)]
        more = parts[0] is not first
        while more and i < n:
            if i - start + 1 >= MAX_INSTRUCTION_LINES:
                raise DockerfileError(
                    f"instruction continued over more than {MAX_INSTRUCTION_LINES:,} lines (the limit)", path, start
                )
            line = lines[i].rstrip("\r")
            i += 1
            stripped = line.lstrip(GO_SPACE)
            if not stripped or stripped.startswith("#"):
                continue
            parts.append(_trimmed(line, escape))
            more = parts[-1] is not line
        logical = "".join(parts) if len(parts) > 1 else parts[0]
        work += _word_work(logical)
        if work > MAX_WORD_WORK:
            longest = max((len(m.group()) for m in _WORD.finditer(logical)), default=0)
            raise DockerfileError(
                f"words too long for the parser (the longest here has {longest:,} characters; the limit: "
                f"their squared lengths add up to {MAX_WORD_WORK:,} at most)",
                path,
                start,
            )
        i = _skip_heredocs(logical, lines, i, start, path)
    return starts


def _word_work(logical: str) -> int:
    """The sum of the squares of the shell words' lengths in an instruction's logical line (quotes make one word).

    BuildKit's lexers build each word a character at a time by string concatenation, so a word of n characters costs
    n**2: 1 MiB of 1 KiB words takes a second, one 64 KiB word 1.6 s. A short line is counted as one word, a bound
    that costs nothing to compute.

    >>> _word_work("RUN echo hi"), _word_work("RUN " + "x" * 300), _word_work('RUN "a b" c' + " " * 300)
    (121, 90009, 35)
    """
    if len(logical) < 256:
        return len(logical) ** 2
    # without quotes or escapes the words are the blank-separated pieces (re's \s is str.isspace, as split's is);
    # counting the lengths in C keeps a line of 300,000 short words from costing a Python step per word
    words = _WORD.findall(logical) if any(q in logical for q in _QUOTING) else logical.split()
    return sum(n * n * count for n, count in Counter(map(len, words)).items())


_QUOTING = ('"', "'", "\\", "`")


def _trimmed(line: str, escape: str) -> str:
    r"""``line`` without BuildKit's trimContinuationCharacter (the escape and blanks at its end, unless the escape is
    itself escaped), or ``line`` itself (the same object) if it does not continue.

    >>> _trimmed("RUN a \\ ", "\\"), _trimmed("RUN a \\\\", "\\"), _trimmed("\\", "\\"), _trimmed("a`", "`")
    ('RUN a ', 'RUN a \\\\', '', 'a')
    """
    body = line.rstrip(" \t")
    if not body.endswith(escape) or body[-2:-1] == escape:
        return line
    return body[:-1]


def _skip_heredocs(logical: str, lines: list[str], i: int, start: int, path: str) -> int:
    """The index of the line after the heredoc bodies the instruction ``logical`` opens (``i`` if none)."""
    for doc in opened(logical):
        while True:
            if i >= len(lines):
                return i  # unterminated: the parser says so, and the body was bounded by the lines that exist
            if i - start + 1 >= MAX_INSTRUCTION_LINES:
                raise DockerfileError(
                    f"heredoc {shown(doc.name)!r} not terminated within {MAX_INSTRUCTION_LINES:,} lines (the limit)",
                    path,
                    start,
                )
            i += 1
            if ends(lines[i - 1], doc):
                break
    return i


def _heredocs(cmd_heredocs: tuple[object, ...], logical: str) -> list[Heredoc]:
    if not cmd_heredocs:
        return []
    marks = opened(logical)  # the parser gives names and bodies; quoting and <<- come from its own rules
    out = []
    for i, h in enumerate(cmd_heredocs):
        name, content = getattr(h, "name"), getattr(h, "content")  # noqa: B009 - untyped extension objects
        chomp, expand = (marks[i].chomp, marks[i].expand) if i < len(marks) else (False, True)
        out.append(Heredoc(name=name, content=content, expand=expand, chomp=chomp))
    return out


def _instruction(cmd: object, lines: list[str], prev_end: int, escape: str, path: str) -> Instruction:
    c = cmd  # a dockerfile.Command: the extension module ships no type information
    start, end = getattr(c, "start_line"), getattr(c, "end_line")  # noqa: B009
    keyword = str(getattr(c, "cmd")).upper()  # noqa: B009
    if keyword not in KEYWORDS:
        raise DockerfileError(f"unknown instruction: {getattr(c, 'cmd')}", path, start)  # noqa: B009
    lead_start = prev_end + 1
    inst = Instruction(
        keyword=keyword,
        flag_list=tuple(getattr(c, "flags")),  # noqa: B009
        args=list(getattr(c, "value")),  # noqa: B009
        json=bool(getattr(c, "json")),  # noqa: B009
        # the markers are on the first logical line, which continuations may spread over several physical ones
        heredocs=_heredocs(getattr(c, "heredocs"), str(getattr(c, "original")).split("\n", 1)[0]),  # noqa: B009
        start_line=start,
        end_line=end,
        text="\n".join(lines[start - 1 : end]) + ("\n" if end < len(lines) else ""),
        lead="".join(line + "\n" for line in lines[lead_start - 1 : start - 1]),
        lead_start=lead_start,
        original=str(getattr(c, "original")),  # noqa: B009
    )
    if keyword == "ONBUILD":
        inst.inner = _onbuild_inner(inst, escape, path)
    return inst


def _onbuild_inner(inst: Instruction, escape: str, path: str) -> Instruction | None:
    """Re-read ONBUILD's instruction from its text: the parser drops the inner flags and heredoc bodies."""
    import dockerfile as buildkit

    # The keyword, then blanks and line continuations (`ONBUILD \` on a line of its own) up to the trigger.
    keyword = re.match(rf"\s*\S+(?:[ \t]+|{re.escape(escape)}[ \t]*\r?\n)*", inst.text)
    consumed = keyword.group(0) if keyword else ""
    body = inst.text[len(consumed) :]
    if not body.strip():
        raise DockerfileError("ONBUILD needs an instruction", path, inst.line)
    prefix = f"# escape={escape}\n" if escape != "\\" else ""
    try:
        commands = buildkit.parse_string(prefix + body)
    except buildkit.GoParseError as e:
        raise DockerfileError(f"ONBUILD: {e}", path, inst.line) from None
    except UnicodeDecodeError:
        message = "a non-ASCII character where the parser splits bytes (a flag or option name?)"
        raise DockerfileError(f"ONBUILD: {message}", path, inst.line) from None
    if not commands:
        return None
    offset = inst.start_line - 1 + consumed.count("\n") - prefix.count("\n")
    inner_lines = (prefix + body).split("\n")
    try:
        inner = _instruction(commands[0], inner_lines, commands[0].start_line - 1, escape, path)
    except DockerfileError as e:  # its line is the re-read text's: report the ONBUILD's own
        raise DockerfileError(f"ONBUILD: {e.message}", path, inst.line) from None
    if inner.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
        raise DockerfileError(f"{inner.keyword} is not allowed as an ONBUILD trigger", path, inst.line)
    inner.start_line += offset
    inner.end_line += offset
    inner.lead_start += offset
    return inner


def _global_env(
    global_args: list[Instruction],
    build_args: Mapping[str, str],
    platform: str,
    escape: str,
    path: str,
    budget: Budget,
) -> tuple[dict[str, str], set[str]]:
    """The FROM-line environment and the names whose value came from the user (--build-arg / --platform)."""
    parts = platform.split("/")
    os_, arch, variant = parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""
    env = {}
    for prefix in ("TARGET", "BUILD"):
        env[f"{prefix}PLATFORM"] = platform
        env[f"{prefix}OS"] = os_
        env[f"{prefix}ARCH"] = arch
        env[f"{prefix}VARIANT"] = variant
    given = {k for k in build_args if k in env}
    env.update({k: v for k, v in build_args.items() if k in env})
    for inst in global_args:
        for name, default in inst.arg_items():
            if name in build_args:
                env[name] = build_args[name]
                given.add(name)
            elif default is not None:
                env[name] = expand_word(default, env, escape, budget, f"ARG {name}", path, inst.line).value
            elif name not in PLATFORM_ARGS:
                env.pop(name, None)
    return env, given


def _build_stages(df: Dockerfile, instructions: list[Instruction]) -> None:
    path, escape = df.path, df.escape
    i = 0
    while i < len(instructions) and instructions[i].keyword != "FROM":
        inst = instructions[i]
        if inst.keyword != "ARG":
            raise DockerfileError(f"{inst.keyword} before the first FROM (only ARG may come first)", path, inst.line)
        df.global_args.append(inst)
        i += 1
    if i == len(instructions):
        raise DockerfileError("no FROM instruction", path, instructions[-1].line)
    budget = Budget()  # one for the whole file: its expansions together stay bounded
    env, given = _global_env(df.global_args, df.build_args, df.platform, escape, path, budget)

    names: dict[str, Stage] = {}
    current: Stage | None = None
    for inst in instructions[i:]:
        if inst.keyword != "FROM":
            assert current is not None
            current.instructions.append(inst)
            continue
        current = _new_stage(df, inst, env, given, names, budget)
        df.stages.append(current)
        if current.name is not None:
            names[current.name] = current
    df._by_name = names
    for stage in df.stages:
        _resolve_refs(df, stage, names)


def expand_word(
    word: str, env: Mapping[str, str], escape: str, budget: Budget, what: str, path: str, line: int
) -> Expansion:
    """:func:`dockit.expand.expand` with its errors as DockerfileError naming ``what`` (``ARG A9``) and the line."""
    try:
        return expand(word, env, escape, budget)
    except ExpansionTooLarge as e:
        name = what.split()[-1] if what.startswith("ARG ") else what
        raise DockerfileError(f"expansion of {name} too large ({e.reason})", path, line) from None
    except ExpansionError as e:
        shown = word if len(word) <= 60 else word[:57] + "..."
        raise DockerfileError(f"{what}: failed to process {shown!r}: {e}", path, line) from None


def _new_stage(
    df: Dockerfile,
    inst: Instruction,
    env: dict[str, str],
    given: set[str],
    names: dict[str, Stage],
    budget: Budget,
) -> Stage:
    path = df.path
    args = inst.args
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise DockerfileError("FROM needs an image and an optional 'AS name'", path, inst.line)
    unknown = [f for f in inst.flags if f != "platform"]
    if unknown:
        raise DockerfileError(f"unknown flag for FROM: --{unknown[0]}", path, inst.line)
    name = None
    if len(args) == 3:
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileError(f"invalid stage name {args[2]!r}: must match [a-z][a-z0-9-_.]*", path, inst.line)
        if name in names:
            raise DockerfileError(f"duplicate stage name {name!r} (first at line {names[name].line})", path, inst.line)
    expanded = expand_word(args[0], env, df.escape, budget, "FROM", path, inst.line)
    if not expanded.value and df.strict_base:
        raise DockerfileError(f"FROM {args[0]} expands to an empty image name", path, inst.line)
    assumed = {n: env.get(n, "") for n in expanded.used if n not in given}
    platform = inst.flag("platform")
    return Stage(
        index=len(df.stages),
        name=name,
        base_raw=args[0],
        base=expanded.value,
        platform=(
            expand_word(platform, env, df.escape, budget, "FROM --platform", path, inst.line).value
            if platform is not None
            else None
        ),
        from_instruction=inst,
        instructions=[],
        assumed_args=assumed,
    )


def _resolve_refs(df: Dockerfile, stage: Stage, names: dict[str, Stage]) -> None:
    path = df.path
    base = names.get(stage.base.lower())
    if base is not None and base.index < stage.index:
        stage.refs.append(StageRef("from", stage.base, base.index, stage.from_instruction))
    else:
        stage.refs.append(StageRef("from", stage.base, None, stage.from_instruction))
    for inst in stage.instructions:
        if inst.keyword in ("COPY", "ADD") and "from" in inst.flags:
            ref = inst.flag("from") or ""
            if "$" in ref:
                raise DockerfileError(f"--from={ref}: variables are not expanded in --from", path, inst.line)
            stage.refs.append(StageRef("copy", ref, _stage_ref(df, stage, ref, inst, allow_index=True), inst))
        elif inst.keyword == "RUN":
            for mount in inst.mounts():
                source = mount.get("from")
                if source is None:
                    continue
                if "$" in source:
                    raise DockerfileError(f"--mount from={source}: variables are not expanded here", path, inst.line)
                target = _stage_ref(df, stage, source, inst, allow_index=False)
                stage.refs.append(StageRef("mount", source, target, inst))


def _stage_ref(df: Dockerfile, stage: Stage, ref: str, inst: Instruction, allow_index: bool) -> int | None:
    if not ref:
        raise DockerfileError("empty --from", df.path, inst.line)
    if allow_index and is_index(ref):
        i = stage_index(ref)
        if i is None or i >= len(df.stages):
            what = f"{i}" if i is not None else "of that number"
            raise DockerfileError(f"--from={shown(ref, 20)}: there is no stage {what}", df.path, inst.line)
        if i >= stage.index:
            raise DockerfileError(f"--from={ref}: refers to this stage or a later one", df.path, inst.line)
        return i
    target = df.find_stage(ref) if not is_index(ref) else None
    if target is None:
        return None  # an external image
    if target.index == stage.index:
        raise DockerfileError(f"--from={ref}: a stage cannot copy from itself", df.path, inst.line)
    if target.index > stage.index:
        # BuildKit would accept it (it only rejects cycles), but the classic builder would pull an image of that name:
        # a Dockerfile that means different things to different builders is reported, not guessed at.
        raise DockerfileError(
            f"--from={ref}: stage {ref!r} is defined later (line {target.line}); move it above", df.path, inst.line
        )
    return target.index
