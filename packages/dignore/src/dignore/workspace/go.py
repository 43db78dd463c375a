"""Go: ``go.mod`` ``replace`` directives to local paths, and the modules of the ``go.work`` a module belongs to.

In workspace mode go reads the go.mod of every module ``go.work`` uses (a missing one is an error), and builds from
the directories of the modules it needs: a used module the service's go.mod requires is kept whole (transitively),
the others only by their go.mod.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dignore.workspace import Edge, Workspace, join

_COMMENT = re.compile(r"//.*$")


@dataclass(frozen=True)
class Directive:
    """One directive of a go.mod or go.work file: ``verb`` (``require``, ``replace``, ``use``...), its words, line."""

    verb: str
    words: list[str]
    line: int


def directives(text: str) -> list[Directive]:
    """The directives of a go.mod/go.work file, blocks (``require ( ... )``) flattened.

    >>> [(d.verb, d.words) for d in directives("module a\\nreplace (\\n  b => ../b // local\\n)\\nuse ./c\\n")]
    [('module', ['a']), ('replace', ['b', '=>', '../b']), ('use', ['./c'])]
    """
    out: list[Directive] = []
    block: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        words = [w.strip('"`') for w in _COMMENT.sub("", raw).split()]
        if not words:
            continue
        if block is not None:
            if words == [")"]:
                block = None
            else:
                out.append(Directive(block, words, number))
        elif len(words) == 2 and words[1] == "(":
            block = words[0]
        else:
            out.append(Directive(words[0], words[1:], number))
    return out


def _is_local(path: str) -> bool:
    return path.startswith(("./", "../", "/")) or path in (".", "..")


def module_path(ws: Workspace, directory: str) -> str | None:
    """The ``module`` line of ``directory``'s go.mod."""
    text = ws.text(join(directory, "go.mod"))
    for d in directives(text or ""):
        if d.verb == "module" and d.words:
            return d.words[0]
    return None


def _replaces(ws: Workspace, directory: str, file: str, text: str) -> Iterator[Edge]:
    for d in directives(text):
        if d.verb == "replace" and "=>" in d.words:
            target = d.words[d.words.index("=>") + 1 :]
            if target and _is_local(target[0]):
                path = ws.local(directory, target[0], file, d.line)
                if path is not None:
                    yield Edge(path, file, d.line, "replace")


def edges(ws: Workspace, directory: str) -> Iterator[Edge]:
    gomod = join(directory, "go.mod")
    text = ws.text(gomod)
    if text is None:
        return
    yield from _replaces(ws, directory, gomod, text)
    for above in ws.ancestors(directory):
        work = join(above, "go.work")
        work_text = ws.text(work)
        if work_text is not None:
            yield from _workspace(ws, directory, text, above, work, work_text)
            return


def _workspace(ws: Workspace, directory: str, gomod: str, root: str, work: str, text: str) -> Iterator[Edge]:
    used: dict[str, tuple[str, int]] = {}  # module path -> (directory, go.work line)
    member = False
    for d in directives(text):
        if d.verb == "use" and d.words:
            path = ws.local(root, d.words[0], work, d.line)
            if path is None:
                continue
            member = member or path == directory
            module = module_path(ws, path)
            if module is not None:
                used[module] = (path, d.line)
    if not member:
        return  # go only uses this go.work for the modules it lists
    yield from _replaces(ws, root, work, text)
    required = {d.words[0]: d.line for d in directives(gomod) if d.verb == "require" and d.words}
    for module, (path, line) in sorted(used.items(), key=lambda m: m[1]):
        if path == directory:
            continue
        if module in required:
            yield Edge(path, work, line, f"use, required by {join(directory, 'go.mod')}:{required[module]}")
        else:
            yield Edge(join(path, "go.mod"), work, line, "use: go reads every workspace module's go.mod", whole=False)
