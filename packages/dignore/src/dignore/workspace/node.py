"""npm, pnpm and yarn: package.json dependencies on ``workspace:``, ``file:``, ``link:`` (and ``portal:``) specs, and
on the workspace's own packages by name.

The workspace is the nearest directory at or above the package whose package.json has ``workspaces`` (npm, yarn;
a list or ``{"packages": [...]}``) or that holds a ``pnpm-workspace.yaml`` (``packages:``). Its members are the
directories its globs match that hold a package.json; a dependency whose name is a member's is that member (npm and
yarn link it whatever the version range; pnpm with ``workspace:``), unless the spec says otherwise (``npm:``, a URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dignore.workspace import Edge, Workspace, entries, join

SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
PATH_SPECS = ("file:", "link:", "portal:")
REMOTE = ("npm:", "http:", "https:", "git:", "git+", "github:", "gitlab:", "bitbucket:", "jsr:", "catalog:")


def workspace_globs(ws: Workspace, directory: str) -> tuple[list[str], str] | None:
    """The member globs of the workspace rooted at ``directory`` and the file that lists them, if it is one."""
    pnpm = join(directory, "pnpm-workspace.yaml")
    config = ws.yaml(pnpm) if ws.text(pnpm) is not None else None
    if config is not None and isinstance(config.get("packages"), list):
        return [str(p) for p in config["packages"]], pnpm
    manifest = ws.json(join(directory, "package.json"))
    spec: Any = manifest.get("workspaces") if manifest else None
    if isinstance(spec, dict):
        spec = spec.get("packages")
    if isinstance(spec, list):
        return [str(p) for p in spec], join(directory, "package.json")
    return None


def members(ws: Workspace, directory: str) -> tuple[dict[str, str], str, str] | None:
    """Package name -> directory for the workspace ``directory`` belongs to, its root and the file listing it."""
    found = ws.nearest(directory, lambda above: workspace_globs(ws, above))
    if found is None:
        return None
    above, (globs, listing) = found
    names: dict[str, str] = {}
    for member in ws.members(above, globs, "package.json"):
        manifest = ws.json(join(member, "package.json"))
        name = manifest.get("name") if manifest else None
        if isinstance(name, str):
            names.setdefault(name, member)
    return names, above, listing


def edges(ws: Workspace, directory: str) -> Iterator[Edge]:
    found = ws.manifest(directory, "package.json")
    if found is None:
        return
    file, manifest, text = found
    workspace = members(ws, directory)
    by_name = workspace[0] if workspace else {}
    for section, name, spec, line in entries(text, ((s, manifest.get(s)) for s in SECTIONS), '"{}"', '"{}"'):
        if not isinstance(spec, str):
            continue
        if spec.startswith(PATH_SPECS):
            target = spec.split(":", 1)[1]
            path = ws.local(directory, target, file, line)
            if path is not None:
                yield Edge(path, file, line, f"{section} {name}: {spec}")
        elif spec.startswith("workspace:") or (name in by_name and not spec.startswith(REMOTE)):
            member = by_name.get(name)
            if member is None:
                ws.warnings.append(f"{file}:{line}: {name}: {spec}: no workspace package of that name")
            elif member != directory:
                yield Edge(member, file, line, f"{section} {name}: {spec}")
