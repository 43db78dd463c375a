"""Cargo: ``path =`` dependencies (also through ``workspace = true`` and ``[workspace.dependencies]``) and the
members of the workspace a package belongs to (cargo loads every member, so a missing one is an error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dignore.workspace import Edge, Workspace, entries, join, line_of, strings

SECTIONS = ("dependencies", "dev-dependencies", "build-dependencies")


def _dependency_tables(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for section in SECTIONS:
        table = manifest.get(section)
        if isinstance(table, dict):
            yield section, table
    targets = manifest.get("target")
    if isinstance(targets, dict):
        for cfg, target in targets.items():
            if isinstance(target, dict):
                for section in SECTIONS:
                    table = target.get(section)
                    if isinstance(table, dict):
                        yield f"target.{cfg}.{section}", table


def workspace_root(ws: Workspace, directory: str) -> tuple[str, dict[str, Any]] | None:
    """The workspace ``directory`` belongs to: the nearest Cargo.toml at or above it with ``[workspace]`` whose
    members include it (or that is it)."""
    found = ws.nearest(directory, lambda above: _workspace_table(ws, above))
    if found is None:
        return None
    above, table = found
    return found if above == directory or directory in _members(ws, above, table) else None


def _workspace_table(ws: Workspace, directory: str) -> dict[str, Any] | None:
    manifest = ws.toml(join(directory, "Cargo.toml"))
    table = manifest.get("workspace") if manifest else None
    return table if isinstance(table, dict) else None


def _members(ws: Workspace, root: str, table: dict[str, Any]) -> list[str]:
    return ws.members(root, strings(table, "members"), "Cargo.toml", strings(table, "exclude"))


def edges(ws: Workspace, directory: str) -> Iterator[Edge]:
    found = ws.manifest(directory, "Cargo.toml")
    if found is None:
        return
    file, manifest, text = found
    root = workspace_root(ws, directory)
    inherited: dict[str, Any] = {}
    if root is not None:
        deps = root[1].get("dependencies")
        inherited = deps if isinstance(deps, dict) else {}
    for section, name, spec, line in entries(text, _dependency_tables(manifest), "{}]"):
        if not isinstance(spec, dict):
            continue
        edge = ws.path_edge(directory, spec, file, line, f"{section} {name}: path")
        if edge is not None:
            yield edge
        elif spec.get("workspace") is True and root is not None:
            shared = inherited.get(name)
            if isinstance(shared, dict) and isinstance(shared.get("path"), str):
                root_file = join(root[0], "Cargo.toml")
                path = ws.local(root[0], shared["path"], root_file, line_of(ws.text(root_file), name))
                if path is not None:
                    yield Edge(path, file, line, f"{section} {name}: workspace = true, a path in {root_file}")
    if root is not None:
        root_file = join(root[0], "Cargo.toml")
        line = line_of(ws.text(root_file), "members")
        if root[0] != directory:
            yield Edge(root_file, root_file, line_of(ws.text(root_file), "[workspace]"), "workspace root", whole=False)
        for member in _members(ws, root[0], root[1]):
            if member != directory:
                yield Edge(member, root_file, line, "workspace member: cargo loads every member")
