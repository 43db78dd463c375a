"""What one service keeps and why: the paths asked for, their workspace dependencies, minimal and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dignore.kept import WHOLE, Kept, check, minimal
from dockit.errors import DockitError

MANIFESTS = frozenset({"go.mod", "package.json", "Cargo.toml", "pyproject.toml"})


@dataclass(frozen=True)
class Want:
    """A path to keep and why (``named DIR``, ``Dockerfile:3: COPY src/``, ``dependency of ... via ...``)."""

    kept: Kept
    why: str

    @property
    def shown(self) -> str:
        k = self.kept
        return k.path if not k.glob else k.glob if k.path == WHOLE else f"{k.path}/{k.glob}"


@dataclass
class Plan:
    """The kept paths (minimal), every reason in the order found, and warnings about dependencies."""

    kept: list[Kept]
    wants: list[Want]
    warnings: list[str] = field(default_factory=list)

    def explain(self, root_files: list[str]) -> list[str]:
        """One line per kept path: what it is kept for (and which kept directory holds it, if absorbed)."""
        lines = [f"{name}: root file" for name in root_files]
        for want in self.wants:
            k = want.kept
            holder = next(
                (o.path for o in self.kept if o.is_dir and not o.glob and o != k and _inside(k.path, o.path)), None
            )
            lines.append(f"{want.shown}: {want.why}" + (f" (inside {holder})" if holder else ""))
        return lines


def _inside(path: str, directory: str) -> bool:
    return directory == WHOLE or path == directory or path.startswith(directory + "/")


def resolve(context: Path, wants: list[Want], deps: bool = True) -> Plan:
    """Add the workspace dependencies of the wanted directories (and of wanted manifests' directories)."""
    wants = list(wants)
    plan = Plan([], wants)
    if deps and not any(w.kept.path == WHOLE and not w.kept.glob for w in wants):
        from dignore.workspace import Workspace, dependencies

        ws = Workspace(context)
        start: list[str] = []
        for w in wants:
            k = w.kept
            directory = k.path if k.is_dir and not k.glob else k.path.rpartition("/")[0] or WHOLE
            manifest = (k.is_dir and not k.glob) or k.path.rsplit("/", 1)[-1] in MANIFESTS
            if manifest and directory not in start:
                start.append(directory)
        for edge in dependencies(ws, start):
            try:
                kept = check(context, edge.path, f"{edge.file}:{edge.line}", want_dir=False)
            except DockitError as e:
                ws.warnings.append(f"{e}; not kept")
                continue
            wants.append(Want(kept, edge.why()))
        plan.warnings = ws.warnings
    plan.kept = minimal([w.kept for w in wants])
    return plan
