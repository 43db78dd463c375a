"""Waste traced to the instructions that made it: "layer 3 deletes 90 kB that layer 2 added", with the fix.

Every byte the image wastes was added by one layer and hidden (deleted or overwritten) by a later one; the stack
already knows both (:class:`dockit.archive.stacking.Hidden`). A finding groups the hidden bytes by that pair of
layers, so the user reads one line per pair of steps to change, biggest first, with the advice the paths and
commands call for (a small table of well-known caches) or the generic one: do both in one step.

With the Dockerfile, each finding also says whether minid would merge the instruction that added the bytes and
the one that hid them (:meth:`dockit.merge.Result.why_apart`): merged, the bytes never reach a layer.

A final image that keeps a build toolchain (a compiler and its headers) is a finding too: nothing is hidden, but a
multi-stage build would leave those bytes behind.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockit.archive.model import REGULAR, Image
from dockit.archive.stacking import How, Stack

if TYPE_CHECKING:
    from collections.abc import Callable

    from dockit.dockerfile import Instruction
    from dockit.merge import Result as MergeResult


@dataclass(frozen=True, slots=True)
class Remedy:
    """A well-known cause of waste: the paths it leaves (a pattern over paths without the leading ``/``) and what
    to do instead."""

    name: str
    paths: re.Pattern[str]
    advice: str


# The caches package managers leave behind; a finding gets the remedy that covers most of its bytes (at least
# half), else the generic advice.
REMEDIES = (
    Remedy(
        "pip cache",
        re.compile(r"(^|/)\.cache/pip/"),
        "use `pip install --no-cache-dir` (or ENV PIP_NO_CACHE_DIR=1) so the cache is never written",
    ),
    Remedy(
        "npm cache",
        re.compile(r"(^|/)\.npm/"),
        "run `npm cache clean --force` in the same RUN as `npm install`/`npm ci`, or mount the cache "
        "(RUN --mount=type=cache,target=/root/.npm)",
    ),
    Remedy(
        "yarn cache",
        re.compile(r"(^|/)\.cache/yarn/"),
        "run `yarn cache clean` in the same RUN as `yarn install`, or mount the cache",
    ),
    Remedy("apk cache", re.compile(r"^var/cache/apk/"), "use `apk add --no-cache`"),
    Remedy(
        "apt lists",
        re.compile(r"^var/lib/apt/lists/"),
        "end the RUN that runs `apt-get update` with `rm -rf /var/lib/apt/lists/*`",
    ),
    Remedy(
        "apt archives",
        re.compile(r"^var/cache/apt/"),
        "run `apt-get clean` in the same RUN as `apt-get install` (or mount /var/cache/apt as a cache)",
    ),
    Remedy(
        "go build cache",
        re.compile(r"(^|/)\.cache/go-build/|(^|/)go/pkg/mod/"),
        "mount the caches (RUN --mount=type=cache,target=/root/.cache/go-build) or build in an earlier stage",
    ),
    Remedy(
        "cargo registry",
        re.compile(r"(^|/)\.?cargo/(registry|git)/"),
        "mount the registry (RUN --mount=type=cache,target=/usr/local/cargo/registry) or build in an earlier stage",
    ),
    Remedy("temporary files", re.compile(r"^(var/)?tmp/"), "create and delete temporary files in the same RUN"),
)
SAME_STEP = "create and remove them in the same RUN, or in an earlier stage that the image copies only results from"
OVERWRITE = "write these files once: the first copy still ships in its layer"

# Paths of a build toolchain in a final image: compilers, their support files and headers.
TOOLCHAIN = (
    "usr/lib/gcc/",
    "usr/libexec/gcc/",
    "usr/include/",
    "usr/local/go/pkg/tool/",
    "usr/local/rustup/toolchains/",
    "usr/local/cargo/bin/",
)
_TOOLCHAIN_BINARIES = re.compile(r"^usr/(local/)?bin/(cc|c\+\+|gcc|g\+\+|clang|ld|as|go|rustc|cargo)(-[\d.]+)?$")
TOOLCHAIN_MIN = 5_000_000  # below this a toolchain is not worth a finding
TOOLCHAIN_ADVICE = "build in an earlier stage and COPY --from it only what the image runs"


@dataclass(frozen=True, slots=True)
class Step:
    """The Dockerfile instruction a layer was made by: where it is, and its text on one line."""

    path: str
    line: int
    text: str
    instruction: Instruction | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, instruction: Instruction, path: str) -> Step:
        return cls(path, instruction.line, " ".join(instruction.text.split()), instruction)


@dataclass(frozen=True, slots=True)
class Merging:
    """What minid would do with a finding's two instructions: merge them, or keep them apart (``reason``)."""

    merges: bool
    reason: str = ""

    def command(self, path: str) -> str:
        """The command that merges them: in place, or (a Dockerfile read from stdin, ``-``) from stdin to stdout."""
        if path == "-":
            return "minid -"
        return f"minid -o {shlex.quote(path)} {shlex.quote(path)}"

    def sentence(self, path: str) -> str:
        """
        >>> Merging(True).sentence("Dockerfile")
        'minid would merge these: `minid -o Dockerfile Dockerfile`'
        >>> Merging(True).sentence("-")
        'minid would merge these: `minid -` (the Dockerfile on stdin)'
        >>> Merging(False, "ARG at line 4 is between them").sentence("Dockerfile")
        'minid would not merge these: ARG at line 4 is between them'
        """
        if self.merges:
            on_stdin = " (the Dockerfile on stdin)" if path == "-" else ""
            return f"minid would merge these: `{self.command(path)}`{on_stdin}"
        return f"minid would not merge these: {self.reason}"


@dataclass(frozen=True, slots=True)
class Finding:
    """Bytes one layer (``added_by``) put in the image that a later one (``hidden_by``) deleted or overwrote; or,
    ``how == "kept"``, a toolchain the final image still holds (``hidden_by`` is then -1)."""

    added_by: int
    hidden_by: int
    how: How | str
    bytes: int
    paths: list[tuple[str, int]]  # biggest first
    remedy: str
    advice: str
    added_at: Step | None = None  # the Dockerfile instruction, when the layers are mapped to one
    hidden_at: Step | None = None
    merging: Merging | None = None  # when both are mapped

    @property
    def files(self) -> int:
        return len(self.paths)


@dataclass(slots=True)
class _Group:
    bytes: int = 0
    paths: dict[str, int] = field(default_factory=dict)


def remedy_for(paths: dict[str, int], how: str) -> tuple[str, str]:
    """The remedy covering most of ``paths``' bytes (at least half), else the generic advice for ``how``.

    >>> remedy_for({"root/.cache/pip/http/ab": 90, "app/x": 10}, "deleted")[0]
    'pip cache'
    >>> remedy_for({"app/big.bin": 10}, "overwritten")
    ('', 'write these files once: the first copy still ships in its layer')
    """
    total = sum(paths.values())
    best, best_bytes = None, 0
    for remedy in REMEDIES:
        covered = sum(size for path, size in paths.items() if remedy.paths.search(path))
        if covered > best_bytes:
            best, best_bytes = remedy, covered
    if best is not None and best_bytes * 2 >= total:
        return best.name, best.advice
    return "", SAME_STEP if how == "deleted" else OVERWRITE


def trace(
    image: Image, stack: Stack, mapping: dict[int, Step] | None = None, merges: Callable[[], MergeResult] | None = None
) -> list[Finding]:
    """The findings of an image, biggest first (ties: the lower layer first); ``merges`` makes minid's result on the
    Dockerfile whose instructions ``mapping`` holds, which says which pairs it would merge. It is called only when a
    finding has both its steps mapped (the merge engine takes about a second on a 10,000-RUN Dockerfile)."""
    groups: dict[tuple[int, int, str], _Group] = {}
    for h in stack.hidden:
        if not h.wasted:
            continue
        group = groups.setdefault((h.layer, h.by, h.how), _Group())
        group.bytes += h.wasted
        group.paths[h.entry.path] = group.paths.get(h.entry.path, 0) + h.wasted
    mapping = mapping or {}
    found = []
    result: MergeResult | None = None
    for (added, hidden, how), group in groups.items():
        name, advice = remedy_for(group.paths, how)
        paths = sorted(group.paths.items(), key=lambda item: (-item[1], item[0]))
        added_at, hidden_at = mapping.get(added), mapping.get(hidden)
        if result is None and merges is not None and added_at is not None and hidden_at is not None:
            result = merges()
        merging = _merging(result, added_at, hidden_at)
        found.append(Finding(added, hidden, how, group.bytes, paths, name, advice, added_at, hidden_at, merging))
    found += _toolchains(image, stack, mapping)
    return sorted(found, key=lambda f: (-f.bytes, f.added_by, f.hidden_by))


def _merging(merges: MergeResult | None, added: Step | None, hidden: Step | None) -> Merging | None:
    if merges is None or added is None or hidden is None or added.instruction is None or hidden.instruction is None:
        return None
    reason = merges.why_apart(added.instruction, hidden.instruction)
    return Merging(True) if reason is None else Merging(False, reason)


def _toolchains(image: Image, stack: Stack, mapping: dict[int, Step]) -> list[Finding]:
    hidden = {(h.layer, h.entry.path) for h in stack.hidden}
    out = []
    for layer in image.layers:
        paths = {
            e.path: e.size
            for e in layer.entries
            if e.type == REGULAR
            and (e.path.startswith(TOOLCHAIN) or _TOOLCHAIN_BINARIES.match(e.path))
            and (layer.index, e.path) not in hidden
        }
        total = sum(paths.values())
        if total >= TOOLCHAIN_MIN:
            ordered = sorted(paths.items(), key=lambda item: (-item[1], item[0]))
            at = mapping.get(layer.index)
            out.append(Finding(layer.index, -1, "kept", total, ordered, "build toolchain", TOOLCHAIN_ADVICE, at))
    return out


def document(findings: list[Finding], image: Image) -> list[dict[str, object]]:
    """The findings as JSON: camelCase keys like the rest of dive's export, every path with its bytes."""
    command = {layer.index: layer.command for layer in image.layers}

    def step(layer: int, at: Step | None) -> dict[str, object] | None:
        if layer < 0:
            return None
        where = {"path": at.path, "line": at.line, "instruction": at.text} if at is not None else None
        return {"layer": layer, "command": command.get(layer, ""), "dockerfile": where}

    return [
        {
            "bytes": f.bytes,
            "how": f.how,
            "added": step(f.added_by, f.added_at),
            "hidden": step(f.hidden_by, f.hidden_at),
            "remedy": f.remedy,
            "advice": f.advice,
            "minid": _merging_document(f),
            "paths": [{"path": "/" + path, "bytes": size} for path, size in f.paths],
        }
        for f in findings
    ]


def _merging_document(f: Finding) -> dict[str, object] | None:
    if f.merging is None or f.added_at is None:
        return None
    m = f.merging
    return {"merges": m.merges, "reason": m.reason or None, "command": m.command(f.added_at.path) if m.merges else None}
