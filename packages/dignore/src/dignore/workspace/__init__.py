"""Workspace dependencies: the local packages a kept directory's manifests name, followed transitively.

One module per ecosystem, each a function ``edges(ws, directory)`` that yields what ``directory``'s manifests name
(:data:`ECOSYSTEMS`); adding an ecosystem is one module and one row. Only paths inside the build context count: a
dependency elsewhere cannot be in the build, and nothing is ever looked up on the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dockit.errors import DockitError
from dockit.ignore import go_clean

T = TypeVar("T")

SKIP_DIRS = frozenset({".git", "node_modules", "target", ".venv", "__pycache__"})  # never searched for members


@dataclass(frozen=True)
class Edge:
    """``path`` (clean, relative to the context) is needed by ``of`` because of line ``line`` of manifest ``file``.

    ``whole`` is False when only the file ``path`` is needed, not a directory (go.work's other modules' go.mod).
    """

    path: str
    file: str
    line: int
    what: str
    whole: bool = True
    of: str = ""

    def why(self) -> str:
        """``dependency of svc/api via svc/api/go.mod:5 (replace)``."""
        return f"dependency of {self.of} via {self.file}:{self.line} ({self.what})"


@dataclass
class Workspace:
    """The context, with the manifests read once (several services share a workspace root)."""

    context: Path
    warnings: list[str] = field(default_factory=list)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def exists(self, rel: str) -> bool:
        return (self.context / rel).exists()

    def is_dir(self, rel: str) -> bool:
        path = self.context / rel
        return path.is_dir() and not path.is_symlink()

    def text(self, rel: str) -> str | None:
        """The file's text, or None when it does not exist."""
        key = ("text", rel)
        if key not in self._cache:
            try:
                self._cache[key] = (self.context / rel).read_text(encoding="utf-8", errors="surrogateescape")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                self._cache[key] = None
            except OSError as e:
                raise DockitError(e.strerror or str(e), path=str(self.context / rel)) from None
        value: str | None = self._cache[key]
        return value

    # the parsers are imported when a manifest of theirs is there: most kept directories have one kind or none
    def toml(self, rel: str) -> dict[str, Any] | None:
        if self.text(rel) is None:
            return None
        import tomllib

        return self._parsed(rel, "toml", tomllib.loads, tomllib.TOMLDecodeError)

    def json(self, rel: str) -> dict[str, Any] | None:
        if self.text(rel) is None:
            return None
        import json

        return self._parsed(rel, "json", json.loads, json.JSONDecodeError)

    def yaml(self, rel: str) -> dict[str, Any] | None:
        if self.text(rel) is None:
            return None
        import yaml

        return self._parsed(rel, "yaml", yaml.safe_load, yaml.YAMLError)

    def _parsed(
        self, rel: str, kind: str, parse: Callable[[str], Any], error: type[Exception]
    ) -> dict[str, Any] | None:
        key = (kind, rel)
        if key not in self._cache:
            text = self.text(rel)
            try:
                value = parse(text) if text is not None else None
            except error as e:
                raise DockitError(f"not valid {kind.upper()}: {str(e).splitlines()[0]}", path=rel) from None
            self._cache[key] = value if isinstance(value, dict) else None
        parsed: dict[str, Any] | None = self._cache[key]
        return parsed

    def local(self, base: str, target: str, file: str, line: int) -> str | None:
        """``target`` (relative to directory ``base``) as a clean context path; None, warned, when it leaves the
        context or does not exist."""
        if os.path.isabs(target):
            rel = os.path.relpath(go_clean(target), go_clean(str(self.context.absolute())))
        else:
            rel = go_clean(f"{base}/{target}" if base != "." else target)
        if rel == ".." or rel.startswith("../") or rel.startswith("/"):
            self.warnings.append(f"{file}:{line}: {target} is outside the build context; not kept")
            return None
        if not self.exists(rel):
            self.warnings.append(f"{file}:{line}: {target}: no such file or directory; not kept")
            return None
        return rel

    def manifest(self, directory: str, name: str) -> tuple[str, dict[str, Any], str | None] | None:
        """``directory``'s manifest ``name`` (JSON or TOML by its name): its path, content and text; None if absent."""
        file = join(directory, name)
        data = self.json(file) if name.endswith(".json") else self.toml(file)
        return None if data is None else (file, data, self.text(file))

    def path_edge(self, base: str, spec: object, file: str, line: int, what: str) -> Edge | None:
        """The edge of a manifest entry ``{path = "..."}`` (a table with a string ``path``), when it is local."""
        target = spec.get("path") if isinstance(spec, dict) else None
        if not isinstance(target, str):
            return None
        path = self.local(base, target, file, line)
        return Edge(path, file, line, what) if path is not None else None

    def members(self, base: str, patterns: Sequence[str], marker: str, exclude: Sequence[str] = ()) -> list[str]:
        """Directories below ``base`` matching the glob ``patterns`` (``!`` to drop) that hold a ``marker`` file."""
        key = ("members", f"{base}\0{marker}\0" + "\0".join(patterns) + "\0\0" + "\0".join(exclude))
        if key not in self._cache:
            found: set[str] = set()
            for pattern in patterns:
                negate = pattern.startswith("!")
                hits = set(self._glob(base, go_clean(pattern.removeprefix("!"))))
                found = found - hits if negate else found | hits
            for pattern in exclude:
                found -= set(self._glob(base, go_clean(pattern)))
            self._cache[key] = sorted(d for d in found if (self.context / d / marker).is_file())
        members: list[str] = self._cache[key]
        return members

    def _glob(self, base: str, pattern: str) -> Iterator[str]:
        parts = [p for p in pattern.split("/") if p not in ("", ".")]
        yield from self._glob_from(base, parts)

    def _glob_from(self, at: str, parts: list[str]) -> Iterator[str]:
        if not parts:
            yield at
            return
        head, rest = parts[0], parts[1:]
        if head == "**":
            yield from self._glob_from(at, rest)
            for sub in self._subdirs(at):
                yield from self._glob_from(sub, parts)
            return
        if head == "..":
            return  # members are below the workspace root
        if not any(c in head for c in "*?["):
            child = head if at == "." else f"{at}/{head}"
            if self.is_dir(child):
                yield from self._glob_from(child, rest)
            return
        import fnmatch

        for sub in self._subdirs(at):
            if fnmatch.fnmatchcase(sub.rsplit("/", 1)[-1], head):
                yield from self._glob_from(sub, rest)

    def _subdirs(self, at: str) -> list[str]:
        try:
            with os.scandir(self.context / at) as it:
                names = [e.name for e in it if e.is_dir(follow_symlinks=False) and e.name not in SKIP_DIRS]
        except OSError:
            return []
        return [n if at == "." else f"{at}/{n}" for n in sorted(names)]

    def nearest(self, directory: str, find: Callable[[str], T | None]) -> tuple[str, T] | None:
        """The first of ``directory`` and the directories above it where ``find`` finds something (a workspace
        root's table or globs), and what it found; None when none has any."""
        for above in self.ancestors(directory):
            found = find(above)
            if found is not None:
                return above, found
        return None

    def ancestors(self, directory: str) -> Iterator[str]:
        """``directory`` and the directories above it, up to the context root (``.``)."""
        parts = [] if directory == "." else directory.split("/")
        for i in range(len(parts), -1, -1):
            yield "/".join(parts[:i]) or "."


def join(directory: str, name: str) -> str:
    """``name`` inside context directory ``directory``."""
    return name if directory == "." else f"{directory}/{name}"


def entries(
    text: str | None, tables: Iterable[tuple[str, Any]], section_at: str, name_at: str = "{}"
) -> Iterator[tuple[str, str, Any, int]]:
    """``(section, name, spec, line)`` for every entry of a manifest's dependency ``tables`` (``(section, table)``;
    a table that is not a mapping is passed over). ``line`` is the first line holding ``name_at`` filled with the
    name, from the first line holding ``section_at`` filled with the section (``"{}]"``: a TOML table header).

    >>> list(entries('[dependencies]\\na = "1"\\n', [("dependencies", {"a": "1"}), ("dev", None)], "{}]"))
    [('dependencies', 'a', '1', 2)]
    """
    for section, table in tables:
        if not isinstance(table, dict):
            continue
        start = line_of(text, section_at.format(section))
        for name, spec in table.items():
            yield section, name, spec, line_of(text, name_at.format(name), start=start)


def alternatives(spec: Any) -> list[Any]:
    """A dependency's specs: several where the manifest lists one per marker or platform (uv, Poetry), else one."""
    return spec if isinstance(spec, list) else [spec]


def strings(table: dict[str, Any], key: str) -> list[str]:
    """The strings of the list ``table[key]`` (``members``, ``exclude``), anything else passed over."""
    return [str(m) for m in table.get(key, []) if isinstance(m, str)]


def line_of(text: str | None, *needles: str, start: int = 1) -> int:
    """The first line (from ``start``) holding every one of ``needles``; ``start`` when none does."""
    if text is None:
        return start
    for number, line in enumerate(text.splitlines()[start - 1 :], start=start):
        if all(n in line for n in needles):
            return number
    return start


def _ecosystems() -> list[Callable[[Workspace, str], Iterator[Edge]]]:
    from dignore.workspace import cargo, go, node, python

    return [go.edges, node.edges, cargo.edges, python.edges]


ECOSYSTEMS: list[tuple[str, str]] = [
    ("Go", "go.work use, go.mod replace => ./path"),
    ("npm, pnpm, yarn", "package.json workspace:, file:, link: and workspace package names"),
    ("Cargo", "path = dependencies, [workspace] members"),
    ("Python", "[tool.uv.sources] path / workspace = true, Poetry path dependencies"),
]


def dependencies(ws: Workspace, start: Sequence[str]) -> list[Edge]:
    """What the directories ``start`` need, transitively: each dependency once, with the first reason found."""
    finders = _ecosystems()
    seen = set(start)
    out: list[Edge] = []
    queue = list(start)
    while queue:
        directory = queue.pop(0)
        for finder in finders:
            for edge in finder(ws, directory):
                if edge.path in seen or any(edge.path.startswith(s + "/") for s in seen if s != "."):
                    continue
                seen.add(edge.path)
                out.append(Edge(edge.path, edge.file, edge.line, edge.what, edge.whole, directory))
                if edge.whole and ws.is_dir(edge.path):
                    queue.append(edge.path)
    return out
