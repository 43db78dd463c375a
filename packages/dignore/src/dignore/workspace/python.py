"""Python: uv's ``[tool.uv.sources]`` (``path = ...``, ``workspace = true`` against ``[tool.uv.workspace] members``;
the workspace root's sources apply to its members) and Poetry's path dependencies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dignore.workspace import Edge, Workspace, alternatives, entries, join, strings

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """PEP 503: ``Foo_Bar.baz`` and ``foo-bar-baz`` are one project.

    >>> normalize("Foo_Bar.baz")
    'foo-bar-baz'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(manifest: dict[str, Any]) -> set[str]:
    """The projects a pyproject depends on, in any group."""
    project = manifest.get("project") or {}
    lists: list[Any] = [project.get("dependencies") or []]
    lists += list((project.get("optional-dependencies") or {}).values())
    lists += list((manifest.get("dependency-groups") or {}).values())
    lists.append(((manifest.get("tool") or {}).get("uv") or {}).get("dev-dependencies") or [])
    names = set()
    for items in lists:
        for item in items if isinstance(items, list) else []:
            m = _NAME.match(item) if isinstance(item, str) else None
            if m:
                names.add(normalize(m.group(1)))
    return names


def _uv(manifest: dict[str, Any]) -> dict[str, Any]:
    uv = (manifest.get("tool") or {}).get("uv")
    return uv if isinstance(uv, dict) else {}


def workspace(ws: Workspace, directory: str) -> tuple[str, dict[str, str]] | None:
    """The uv workspace ``directory`` belongs to: its root and project name -> member directory."""
    found = ws.nearest(directory, lambda above: _workspace_table(ws, above))
    if found is None:
        return None
    above, table = found
    names: dict[str, str] = {}
    for member in [above, *ws.members(above, strings(table, "members"), "pyproject.toml", strings(table, "exclude"))]:
        project = (ws.toml(join(member, "pyproject.toml")) or {}).get("project") or {}
        if isinstance(project.get("name"), str):
            names.setdefault(normalize(project["name"]), member)
    return (above, names) if directory in names.values() else None


def _workspace_table(ws: Workspace, directory: str) -> dict[str, Any] | None:
    manifest = ws.toml(join(directory, "pyproject.toml"))
    table = _uv(manifest).get("workspace") if manifest else None
    return table if isinstance(table, dict) else None


def _sources(
    ws: Workspace, directory: str, file: str, sources: Any, only: set[str] | None, member_of: str
) -> Iterator[Edge]:
    """The edges of a ``[tool.uv.sources]`` table of ``file`` (paths relative to ``directory``) for ``member_of``."""
    members = None
    for _, name, spec, line in entries(ws.text(file), [("", sources)], "tool.uv.sources"):
        if only is not None and normalize(name) not in only:
            continue
        for entry in alternatives(spec):
            if not isinstance(entry, dict):
                continue
            edge = ws.path_edge(directory, entry, file, line, f"tool.uv.sources {name}: path")
            if edge is not None:
                yield edge
            elif entry.get("workspace") is True:
                members = members or workspace(ws, member_of)
                member = members[1].get(normalize(name)) if members else None
                if member is None:
                    ws.warnings.append(f"{file}:{line}: {name}: workspace = true, but no workspace member of that name")
                else:
                    yield Edge(member, file, line, f"tool.uv.sources {name}: workspace = true")


def _poetry(ws: Workspace, directory: str, file: str, manifest: dict[str, Any]) -> Iterator[Edge]:
    poetry = (manifest.get("tool") or {}).get("poetry")
    if not isinstance(poetry, dict):
        return
    tables = [("dependencies", poetry.get("dependencies")), ("dev-dependencies", poetry.get("dev-dependencies"))]
    for group, body in (poetry.get("group") or {}).items():
        if isinstance(body, dict):
            tables.append((f"group.{group}.dependencies", body.get("dependencies")))
    for section, name, spec, line in entries(ws.text(file), tables, "poetry.{}]"):
        for entry in alternatives(spec):
            if isinstance(entry, dict) and "path" in entry:
                edge = ws.path_edge(directory, entry, file, line, f"tool.poetry.{section} {name}: path")
                if edge is not None:
                    yield edge


def edges(ws: Workspace, directory: str) -> Iterator[Edge]:
    found = ws.manifest(directory, "pyproject.toml")
    if found is None:
        return
    file, manifest, _text = found
    yield from _sources(ws, directory, file, _uv(manifest).get("sources"), None, directory)
    root = workspace(ws, directory)
    if root is not None and root[0] != directory:
        root_file = join(root[0], "pyproject.toml")
        own = set((_uv(manifest).get("sources") or {}).keys())
        wanted = _requirement_names(manifest) - {normalize(n) for n in own}
        root_sources = _uv(ws.toml(root_file) or {}).get("sources")
        yield from _sources(ws, root[0], root_file, root_sources, wanted, directory)
    yield from _poetry(ws, directory, file, manifest)
