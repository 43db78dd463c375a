"""What a Dockerfile reads from the build context: COPY/ADD sources and RUN bind mounts of the stages a target needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dockit.ignore import go_clean

_WILD = frozenset("*?[\\")  # what makes a path component a glob (filepath.Match syntax)
_UNKNOWN = "\0"  # what a variable expands to here: a character no path holds, so the path widens where it stands


class _AnyVariable(Mapping[str, str]):
    """Every variable is set, to a value no path holds: what a build argument might be is not known here."""

    def __getitem__(self, name: str) -> str:
        return _UNKNOWN

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def source_word(word: str, escape: str = "\\") -> str:
    """A COPY/ADD source or mount source as BuildKit reads it: quotes removed, the escape character honoured.

    A variable's value is not known here; it stands as ``$`` (a wildcard of sorts for :func:`context_path`).

    >>> [source_word(w) for w in ("\\\\conf", "'q'", '"a b"', "svc/${APP:-api}/x", "`x", "$HOME")]
    ['conf', 'q', 'a b', 'svc/$/x', '`x', '$']
    >>> source_word("`x", escape="`")
    'x'
    """
    from dockit.expand import expand

    return expand(word, _AnyVariable(), escape).value.replace(_UNKNOWN, "$")


@dataclass(frozen=True)
class ContextUse:
    """One path the build reads from the context, and the instruction that reads it.

    ``path`` is a clean path relative to the root (``.`` for all of it); ``glob``, when set, is a last component
    with wildcards (``*.go``) that the build reads inside directory ``path``.
    """

    path: str
    glob: str | None
    source: str  # as written in the Dockerfile
    keyword: str
    line: int


def context_path(source: str) -> tuple[str, str | None]:
    """Where ``source`` (a COPY source, a mount source) reads: a literal path, and a last-component glob if any.

    Sources are relative to the context root whatever their leading ``/`` or ``..``, as BuildKit scopes them. A
    wildcard before the last component, or a variable anywhere, widens the path to the directory above it.

    >>> [context_path(s) for s in ("./app/", "/src/*.go", "svc/${APP}/x", "../../lib", "*/x", "go.*")]
    [('app', None), ('src', '*.go'), ('svc', None), ('lib', None), ('.', None), ('.', 'go.*')]
    """
    rel = go_clean("/" + source)[1:]
    parts = rel.split("/") if rel else []
    literal: list[str] = []
    for i, part in enumerate(parts):
        if "$" in part:
            break
        if _WILD & set(part):
            if i == len(parts) - 1:
                return "/".join(literal) or ".", part
            break
        literal.append(part)
    return "/".join(literal) or ".", None


def context_uses(
    text: str | bytes,
    path: str = "Dockerfile",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
) -> list[ContextUse]:
    """Every context path the stages ``target`` needs (default: the last stage) read, in file order; ``build_args``
    are the ``--build-arg`` values, which choose stages (``FROM base-${VARIANT}``).

    COPY/ADD sources without ``--from`` (heredocs and ADD's URLs aside) and RUN ``--mount`` binds without
    ``from=`` (whose source defaults to the whole context).

    >>> df = "FROM a AS b\\nCOPY x /\\nFROM c\\nCOPY go.* src/ /\\nRUN --mount=target=/m make\\n"
    >>> [(u.path, u.glob) for u in context_uses(df)]
    [('.', 'go.*'), ('src', None), ('.', None)]
    """
    from dockit.dockerfile import parse
    from dockit.errors import DockerfileError
    from dockit.expand import ExpansionError

    df = parse(text, path=path, build_args=build_args)
    uses: list[ContextUse] = []

    def use(src: str, keyword: str, line: int) -> None:
        try:
            word = source_word(src, df.escape)
        except ExpansionError as e:
            raise DockerfileError(f"{keyword} {src}: {e}", path, line) from None
        uses.append(ContextUse(*context_path(word), src, keyword, line))

    for stage in df.closure(target):
        for inst in stage.instructions:
            if inst.keyword in ("COPY", "ADD") and "from" not in inst.flags:
                for src in inst.args[:-1]:
                    if src.startswith("<<") and inst.heredocs:
                        continue
                    if inst.keyword == "ADD" and ("://" in src or src.startswith("git@")):
                        continue
                    use(src, inst.keyword, inst.line)
            elif inst.keyword == "RUN":
                for mount in inst.mounts():
                    if mount.get("type", "bind") == "bind" and "from" not in mount:
                        use(mount.get("source") or ".", "RUN --mount", inst.line)
    return uses
