"""The paths a build needs, normalised against the context root and checked to be really there."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dockit.errors import DockitError
from dockit.ignore import go_clean

WHOLE = "."  # the context root itself: keep everything


@dataclass(frozen=True, order=True)
class Kept:
    """A path to keep in the context: ``path`` relative to the root, clean, ``.`` for all of it.

    ``is_dir`` says whether it is a directory (whose own .dockerignore is carried over). With ``glob`` set (a
    single component with wildcards, ``*.go``), what is kept is what the glob matches inside directory ``path``.
    """

    path: str
    is_dir: bool
    glob: str | None = None

    @property
    def key(self) -> list[str]:
        """Sort key: component by component, so ``svc`` < ``svc/api`` < ``svc-x``."""
        parts = self.path.split("/")
        return [*parts, self.glob] if self.glob else parts


def normalize(context: Path, arg: str, what: str = "directory") -> str:
    """``arg`` as a clean path relative to ``context``: ``./svc/api/``, ``svc//api`` and ``svc/api`` are one path.

    An absolute ``arg`` must lie inside the context. A path that leaves the context is a DockitError.

    >>> normalize(Path("/repo"), "./svc//api/"), normalize(Path("/repo"), "/repo/lib"), normalize(Path("."), ".")
    ('svc/api', 'lib', '.')
    """
    root = go_clean(str(context.absolute()))
    rel = os.path.relpath(go_clean(arg), root) if os.path.isabs(arg) else go_clean(arg)
    if rel == ".." or rel.startswith("../") or rel.startswith("/"):
        raise DockitError(f"{what} is outside context '{context}'", path=arg)
    return rel


def check(context: Path, rel: str, arg: str, want_dir: bool, glob: str | None = None) -> Kept:
    """The :class:`Kept` for ``rel``: every component must exist, none may be a symlink, a DIR must be a directory.

    Docker sends a symlink as a link, never what it points to, so keeping a path through a link keeps nothing.
    """
    if rel == WHOLE:
        return Kept(WHOLE, True, glob)
    current = context
    st: os.stat_result | None = None
    for part in rel.split("/"):
        current = current / part
        try:
            st = current.lstat()
        except FileNotFoundError:
            raise DockitError(
                f"no such {'directory' if want_dir else 'file or directory'} in context '{context}'", path=arg
            ) from None
        except OSError as e:
            raise DockitError(e.strerror or str(e), path=arg) from None
        if stat.S_ISLNK(st.st_mode):
            raise DockitError(
                f"{current.relative_to(context)} is a symbolic link: docker sends the link, not what it points to",
                path=arg,
            )
    assert st is not None
    is_dir = stat.S_ISDIR(st.st_mode)
    if (want_dir or glob) and not is_dir:
        raise DockitError("not a directory", path=arg)
    return Kept(rel, is_dir, glob)


def minimal(kept: list[Kept]) -> list[Kept]:
    """Sorted, without repeats and without paths inside another kept directory (the outer one keeps them).

    >>> [k.path for k in minimal([Kept("svc/api", True), Kept("lib", True), Kept("svc", True), Kept("lib", True)])]
    ['lib', 'svc']
    """
    if any(k.path == WHOLE and not k.glob for k in kept):
        return [Kept(WHOLE, True)]
    out: list[Kept] = []
    for k in sorted(set(kept), key=lambda k: k.key):
        inside = [o for o in out if o.is_dir and not o.glob]
        if not any(k.path.startswith(o.path + "/") or (k.glob and k.path == o.path) for o in inside):
            out.append(k)
    return out
