"""The build context docker sends: walk a directory the way the docker CLI does, leaving out what .dockerignore says.

The walk follows moby's ``archive.TarWithOptions``: entries in lexical order, symlinks sent as links (never
followed), an excluded directory skipped whole unless an exception (``!path``) starts with its path, and the
entries inside such a directory sent only when no pattern excludes them. Excluded directories themselves are not
sent even when something inside them is.

Matching is moby/patternmatcher's ``MatchesOrParentMatches`` (a pattern matching any parent matches the path). The
Docker 20.10 CLI used the older ``Matches``, which tries only the parent as deep as the pattern has components, and
Docker 23+ uses ``MatchesUsingParentResults``; the results differ only once an exception has opened an excluded
directory, for patterns with ``**`` before their last component (20.10) or for a path excluded again by a pattern
that already matched its parent (23+). Docker 20.10 also compiles a pattern without wildcards to a regexp, where a
``^`` is an anchor: ``!svc/a^b`` re-includes nothing there (seen on Docker 20.10), while 23+ compares it as a string.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for f in ("a/x.txt", "a/y.log", "b/z.txt"):
...     (root / f).parent.mkdir(exist_ok=True); _ = (root / f).write_text("12345")
>>> [e.path for e in walk_context(root, PatternMatcher(["b", "*/*.log"]))]
['a', 'a/x.txt']
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dockit.errors import DockitError
from dockit.ignore import PatternMatcher

Kind = Literal["file", "dir", "symlink", "other"]
DOCKERIGNORE = ".dockerignore"


@dataclass(frozen=True)
class ContextEntry:
    """One entry of the build context: path relative to the root (slash-separated), its kind, and its size."""

    path: str
    kind: Kind
    size: int  # bytes of a regular file's content; 0 for anything else


@dataclass(frozen=True)
class ContextSize:
    """What a build context weighs: ``files`` counts everything that is not a directory."""

    files: int
    bytes: int

    @classmethod
    def of(cls, entries: Iterable[ContextEntry]) -> ContextSize:
        """Total the entries of a walk."""
        files = size = 0
        for e in entries:
            if e.kind != "dir":
                files += 1
                size += e.size
        return cls(files, size)


def read_dockerignore(root: str | os.PathLike[str], name: str = DOCKERIGNORE) -> PatternMatcher:
    """The matcher of ``root/name``; an empty one when the file does not exist."""
    path = Path(root, name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return PatternMatcher()
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=str(path)) from None
    return PatternMatcher.parse(data, str(path))


def sends(matcher: PatternMatcher, path: str) -> bool:
    """Whether docker's walk sends ``path`` (clean, relative): it reaches it and does not exclude it.

    The walk reaches a path when each directory above it is either not excluded or may re-include something below.

    >>> m = PatternMatcher(["vendor", "!vendor/keep", "cache", "!**/x"])
    >>> [sends(m, p) for p in ("vendor/keep", "vendor/other", "cache/x", "src/x")]
    [True, False, False, True]
    """
    parts = path.split("/")
    for i in range(1, len(parts)):
        above = "/".join(parts[:i])
        if matcher.matches(above) and not matcher.may_reinclude_below(above):
            return False
    return not matcher.matches(path)


def _kind(mode: int) -> Kind:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def walk_context(root: str | os.PathLike[str], matcher: PatternMatcher | None = None) -> Iterator[ContextEntry]:
    """Yield the entries docker sends for context directory ``root`` under ``matcher`` (default: all of them).

    Unreadable directories are a :class:`~dockit.errors.DockitError`, as they fail ``docker build``.
    """
    return walk_context_all(root, [matcher] if matcher else [])


def walk_context_all(root: str | os.PathLike[str], matchers: Sequence[PatternMatcher]) -> Iterator[ContextEntry]:
    """Yield the entries that docker's walk sends under each of ``matchers``: what all of them would send.

    An entry is sent when every walk reaches it and none excludes it; a directory is entered when every walk
    enters it (not excluded, or excluded with an exception that may re-include something below it).
    """
    base = os.path.realpath(root)
    if not os.path.isdir(base):
        raise DockitError("not a directory", path=str(root))
    active = tuple(m for m in matchers if m.patterns)
    yield from _walk(base, "", active, tuple(tuple(False for _ in m.patterns) for m in active))


def _walk(
    top: str, rel: str, ms: tuple[PatternMatcher, ...], parents: tuple[Sequence[bool], ...]
) -> Iterator[ContextEntry]:
    directory = os.path.join(top, rel) if rel else top
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=directory) from None
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as e:
            raise DockitError(e.strerror or str(e), path=entry.path) from None
        kind = _kind(st.st_mode)
        if kind == "dir":
            flags = tuple(m.flags(path, parent) for m, parent in zip(ms, parents, strict=True))
            excluded = [m for m, f in zip(ms, flags, strict=True) if m.decided(f)]
            if not excluded:
                yield ContextEntry(path, kind, 0)
            elif not all(m.may_reinclude_below(path) for m in excluded):
                continue
            yield from _walk(top, path, ms, flags)
        elif not any(m.decide(path, parent) for m, parent in zip(ms, parents, strict=True)):
            yield ContextEntry(path, kind, st.st_size if kind == "file" else 0)
