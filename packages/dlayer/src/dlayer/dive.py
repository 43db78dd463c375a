"""dive's figures, computed exactly as dive 0.13 computes them (``filetree/efficiency.go``, ``image.Analyze``).

dive builds one tree per layer (intermediate directories without a header get an empty payload), visits each
tree's leaves depth-first in name order, and for every path sums the sizes it sees: a whiteout counts the size of
the directory subtree it deletes from the layers below (nothing for a file). A path seen in two or more layers is
an "inefficiency"; ``inefficientBytes`` is the sum of their cumulative sizes (which counts the surviving copy too:
wagoodman/dive#684), and the efficiency score is sum(smallest size seen per path) / sum(all sizes seen).
Those quirks are kept on purpose so that the JSON matches dive's; dlayer's own ``wastedBytes`` is the honest figure.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from dockit.archive.model import Entry, Image, Layer

_DIR = 1 << 31
_SYMLINK = 1 << 27
_DEVICE = 1 << 26
_PIPE = 1 << 25
_SOCKET = 1 << 24
_SETUID = 1 << 23
_SETGID = 1 << 22
_CHARDEV = 1 << 21
_STICKY = 1 << 20
_TYPE_BITS = {"2": _SYMLINK, "3": _DEVICE | _CHARDEV, "4": _DEVICE, "5": _DIR, "6": _PIPE}
_MODE_TYPE_BITS = {
    0o040000: _DIR,
    0o010000: _PIPE,
    0o120000: _SYMLINK,
    0o060000: _DEVICE,
    0o020000: _DEVICE | _CHARDEV,
    0o140000: _SOCKET,
}


def go_file_mode(entry: Entry) -> int:
    """The Go ``os.FileMode`` of a tar header (``header.FileInfo().Mode()``), as dive's JSON shows it."""
    mode = entry.mode & 0o777
    if entry.mode & 0o4000:
        mode |= _SETUID
    if entry.mode & 0o2000:
        mode |= _SETGID
    if entry.mode & 0o1000:
        mode |= _STICKY
    mode |= _MODE_TYPE_BITS.get(entry.mode & 0o170000, 0)
    return mode | _TYPE_BITS.get(entry.type, 0)


# Shared by every node without children (most of them: 64 bytes each saved); _kids swaps in a dict of its own
# before a child is added. Never add to it directly.
_LEAF: dict[str, _Node] = {}


class _Node:
    __slots__ = ("children", "info", "name")

    def __init__(self, name: str, info: Entry | None) -> None:
        self.name = name
        self.info = info  # None: a directory dive made up because the layer has no header for it
        self.children = _LEAF

    def copy(self) -> _Node:
        twin = _Node(self.name, self.info)
        if self.children:
            twin.children = {k: v.copy() for k, v in self.children.items()}
        return twin

    def is_dir(self) -> bool:
        return self.info is not None and bool(go_file_mode(self.info) & _DIR)


def _kids(node: _Node) -> dict[str, _Node]:
    """``node.children``, ready to be added to."""
    if node.children is _LEAF:
        node.children = {}
    return node.children


def _add(root: _Node, parts: list[str], info: Entry | None) -> None:
    """dive's ``FileTree.AddPath``: create missing parents empty, drop opaque markers, set the payload."""
    node = root
    last = len(parts) - 1
    for i, name in enumerate(parts):
        if not name:
            continue
        child = node.children.get(name)
        if child is None:
            if name.startswith(".wh..wh.."):
                return
            child = _kids(node)[name] = _Node(name, None)
        node = child
        if i == last:
            node.info = info


def _tree(entries: list[Entry]) -> _Node:
    """One layer's tree, as dive's AddPath builds it; a path index makes each entry one or two dict lookups."""
    root = _Node("", None)
    index: dict[str, _Node] = {"": root}
    for e in entries:
        path = e.path
        node = index.get(path)
        if node is not None:
            node.info = e
            continue
        parent_path, _, name = path.rpartition("/")
        parent = index.get(parent_path)
        if parent is None:
            _add(root, path.split("/"), e)
            # re-index what _add made (rare: an entry whose parent has no header before it)
            node = root
            prefix = ""
            for part in path.split("/"):
                child = node.children.get(part)
                if child is None:
                    break
                prefix = f"{prefix}/{part}" if prefix else part
                index[prefix] = node = child
            continue
        if name.startswith(".wh..wh.."):
            continue
        node = _kids(parent)[name] = _Node(name, e)
        index[path] = node
    return root


def _postorder(node: _Node, prefix: str, out: list[tuple[str, _Node]]) -> None:
    """dive's ``VisitDepthChildFirst``: children in name order, each node after its children, root excluded."""
    children = node.children
    for name in sorted(children):
        child = children[name]
        path = f"{prefix}/{name}"
        if child.children:
            _postorder(child, path, out)
        out.append((path, child))


def _walk(node: _Node) -> list[tuple[str, _Node]]:
    """Every node below ``node`` in dive's visiting order, with its path (``/a/b``)."""
    out: list[tuple[str, _Node]] = []
    _postorder(node, "", out)
    return out


def _get(root: _Node, path: str) -> _Node | None:
    node = root
    for name in path.split("/"):
        if not name:
            continue
        child = node.children.get(name)
        if child is None:
            return None
        node = child
    return node


def _stack(lower: _Node, upper: _Node) -> None:
    """dive's ``FileTree.Stack``, node by node: in name order, a whiteout removes its target from ``lower``; any other
    node (made-up parents too) is created if missing, its children stacked, then its payload overwrites."""
    for name in sorted(upper.children):
        child = upper.children[name]
        if name.startswith(".wh."):
            lower.children.pop(name[4:], None)
            continue
        twin = lower.children.get(name)
        if twin is None:
            twin = _kids(lower)[name] = _Node(name, None)
        if child.children:
            _stack(twin, child)
        twin.info = child.info


def _subtree_size(node: _Node) -> int:
    total = node.info.size if node.info is not None else 0
    for child in node.children.values():
        total += _subtree_size(child)
    return total


@dataclass(slots=True)
class Reference:
    """One ``fileReference`` item: a path seen in ``count`` layers, ``size`` bytes over all of them."""

    file: str
    count: int
    size: int


@dataclass(slots=True)
class DiveFigures:
    """What dive reports for an image."""

    size: int
    user_size: int
    inefficient_bytes: int
    efficiency: float
    references: list[Reference]
    trees: list[_Node]

    @property
    def user_wasted_percent(self) -> float:
        """dive's ``WastedUserPercent``: inefficient bytes over the bytes of every layer but the first."""
        if self.user_size:
            return self.inefficient_bytes / self.user_size
        return math.inf if self.inefficient_bytes else math.nan


def analyze(image: Image) -> DiveFigures:
    """dive's ``Image.Analyze`` over our model."""
    trees = [_tree(layer.entries) for layer in image.layers]
    seen: dict[str, list[int]] = {}  # path -> [cumulative size, smallest size, count]
    order: list[str] = []  # paths in the order they reached two sightings (dive appends them then)
    stacked: _Node | None = None  # layers 0..k-1 stacked on a copy of layer 0, made only when a whiteout needs it
    stacked_count = 0
    for k, tree in enumerate(trees):
        for path, node in _walk(tree):
            if node.children:
                continue
            name = node.name
            if name.startswith(".wh."):
                path = f"{path[: len(path) - len(name)]}{name[4:]}"
                if stacked is None:
                    stacked = trees[0].copy()
                while stacked_count < k:
                    _stack(stacked, trees[stacked_count])
                    stacked_count += 1
                before = _get(stacked, path)
                if before is None:
                    break  # dive's visitor errors out here and abandons the rest of this layer
                size = _subtree_size(before) if before.is_dir() else 0
            else:
                size = node.info.size if node.info is not None else 0
            slot = seen.get(path)
            if slot is None:
                seen[path] = [size, size, 1]
            else:
                slot[0] += size
                if size < slot[1]:
                    slot[1] = size
                slot[2] += 1
                if slot[2] == 2:
                    order.append(path)
    minimum = sum(s[1] for s in seen.values())
    discovered = sum(s[0] for s in seen.values())
    score = minimum / discovered if discovered else 1.0
    # dive sorts ascending by size (insertion sort, stable, for short lists) and exports the reverse
    refs = [Reference(p, seen[p][2], seen[p][0]) for p in order]
    refs.sort(key=lambda r: r.size)
    refs.reverse()
    sizes = [layer.size for layer in image.layers]
    return DiveFigures(
        size=sum(sizes),
        user_size=sum(sizes[1:]),
        inefficient_bytes=sum(r.size for r in refs),
        efficiency=score,
        references=refs,
        trees=trees,
    )


def _file_info(node: _Node) -> dict[str, Any]:
    e = node.info
    if e is None:
        return {"path": "", "typeFlag": 0, "linkName": "", "size": 0, "fileMode": 0, "uid": 0, "gid": 0, "isDir": False}
    mode = go_file_mode(e)
    return {
        "path": e.name,
        "typeFlag": ord(e.type),
        "linkName": e.raw_link or e.link,
        "size": e.size,
        "fileMode": mode,
        "uid": e.uid,
        "gid": e.gid,
        "isDir": bool(mode & _DIR),
    }


def _layer_doc(layer: Layer, tree: _Node | None) -> dict[str, Any]:
    command = layer.history.created_by.removeprefix("/bin/sh -c ") if layer.history else "(missing)"
    return {
        "index": layer.index,
        "id": layer.source.split("/")[0],
        "digestId": layer.diff_id,
        "sizeBytes": layer.size,
        "command": command,
        "fileList": [_file_info(node) for _, node in _walk(tree)] if tree is not None else [],
    }


def _image_doc(figures: DiveFigures, wasted_bytes: int) -> dict[str, Any]:
    return {
        "sizeBytes": figures.size,
        "inefficientBytes": figures.inefficient_bytes,
        "efficiencyScore": figures.efficiency,
        "fileReference": [{"count": r.count, "sizeBytes": r.size, "file": r.file} for r in figures.references],
        "wastedBytes": wasted_bytes,
    }


def export(image: Image, figures: DiveFigures, wasted_bytes: int) -> dict[str, Any]:
    """dive's ``--json`` document, plus ``image.wastedBytes`` (bytes the final filesystem no longer shows)."""
    layers = [_layer_doc(layer, tree) for layer, tree in zip(image.layers, figures.trees, strict=True)]
    return {"layer": layers, "image": _image_doc(figures, wasted_bytes)}


_EMPTY_INFO = '{"path":"","typeFlag":0,"linkName":"","size":0,"fileMode":0,"uid":0,"gid":0,"isDir":false}'


def _file_info_json(node: _Node) -> str:
    """:func:`_file_info` as compact JSON, without building a dict (a layer of 20k files made 10 MB of them)."""
    e = node.info
    if e is None:
        return _EMPTY_INFO
    mode = go_file_mode(e)
    return (
        f'{{"path":{_quote(e.name)},"typeFlag":{ord(e.type)},"linkName":{_quote(e.raw_link or e.link)},"size":{e.size},'
        f'"fileMode":{mode},"uid":{e.uid},"gid":{e.gid},"isDir":{"true" if mode & _DIR else "false"}}}'
    )


def export_text(
    image: Image,
    figures: DiveFigures,
    wasted_bytes: int,
    indent: int | None = None,
    extra: dict[str, object] | None = None,
) -> bytes:
    """:func:`export` as UTF-8 JSON, built one layer at a time (a big image's file list never sits in memory
    as objects). Compact unless ``indent`` is given: the JSON of a 1 GB image is megabytes. ``extra`` adds
    top-level keys after dive's two (dive's readers ignore them)."""
    sep = (",", ": ") if indent else (",", ":")
    head = json.dumps(_image_doc(figures, wasted_bytes), indent=indent, separators=sep)
    pad = " " * (indent or 0)
    tail = "".join(
        f',\n{pad}"{key}": {textwrap.indent(json.dumps(value, indent=indent, separators=sep), pad).lstrip()}'
        if indent
        else f',"{key}":{json.dumps(value, separators=sep)}'
        for key, value in (extra or {}).items()
    )

    if indent:
        layers = [
            json.dumps(_layer_doc(layer, tree), indent=indent, separators=sep)
            for layer, tree in zip(image.layers, figures.trees, strict=True)
        ]
        body = (",\n").join(textwrap.indent(x, pad * 2) for x in layers)
        text = f'{{\n{pad}"layer": [\n{body}\n{pad}],\n{pad}"image": {textwrap.indent(head, pad).lstrip()}{tail}\n}}\n'
        return text.encode()
    parts = [b'{"layer":[']  # encoded as they are made: the text is never held twice
    for n, (layer, tree) in enumerate(zip(image.layers, figures.trees, strict=True)):
        doc = _layer_doc(layer, None)
        doc.pop("fileList")
        meta = json.dumps(doc, separators=sep)
        files = ",".join([_file_info_json(node) for _, node in _walk(tree)])
        parts.append((("," if n else "") + meta[:-1] + ',"fileList":[' + files + "]}").encode())
        del files
    parts.append(('],"image":' + head + tail + "}\n").encode())
    return b"".join(parts)
