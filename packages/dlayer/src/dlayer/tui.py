"""dlayer -i: a terminal browser over the report (textual): layers -> directories -> files, biggest first, with
the shell command that extracts the selected path from the archive. Needs ``pip install dlayer[tui]``."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dlayer.findings import Finding
from dlayer.report import LayerReport, Report
from dlayer.units import human
from dockit.archive.model import Entry, Layer
from dockit.errors import UsageError


@dataclass(slots=True)
class DirNode:
    """A directory of one layer: total bytes below it, subdirectories and files."""

    name: str
    size: int = 0
    dirs: dict[str, DirNode] = field(default_factory=dict)
    files: list[Entry] = field(default_factory=list)

    def children(self) -> list[DirNode | Entry]:
        """Subdirectories and files, biggest first (then by name)."""
        items: list[DirNode | Entry] = [*self.dirs.values(), *self.files]
        return sorted(items, key=lambda x: (-x.size, x.name if isinstance(x, DirNode) else x.basename))


def layer_tree(layer: Layer) -> DirNode:
    """The layer's entries as a directory tree with sizes summed upwards (whiteouts kept, as files of size 0)."""
    root = DirNode("/")
    for e in layer.entries:
        if e.is_dir:
            node = root
            for part in e.path.split("/"):
                node = node.dirs.setdefault(part, DirNode(part))
            continue
        node = root
        node.size += e.size
        parts = e.path.split("/")
        for part in parts[:-1]:
            node = node.dirs.setdefault(part, DirNode(part))
            node.size += e.size
        node.files.append(e)
    return root


def extract_command(archive: str, layer: Layer, entry: Entry) -> str:
    """The shell command that prints ``entry``'s contents from ``layer`` of ``archive``.

    >>> e = Entry("etc/passwd", "0", 10, 0o644, 0, 0, "", "etc/passwd")
    >>> extract_command("img.tar", Layer(0, "", "", [e], compression="gzip", source="blobs/sha256/ab"), e)
    'tar -xOf img.tar blobs/sha256/ab | tar -xzO etc/passwd'
    """
    unpack = {"gzip": "tar -xzO", "zstd": "tar --zstd -xO"}.get(layer.compression, "tar -xO")
    member = shlex.quote(entry.name)
    if archive in ("-", ""):
        archive = "IMAGE.tar"  # read from stdin: the user has to save it to run this
    if os.path.isdir(archive):
        return f"{unpack}f {shlex.quote(os.path.join(archive, layer.source))} {member}"
    return f"tar -xOf {shlex.quote(archive)} {shlex.quote(layer.source)} | {unpack} {member}"


def _label_layer(lr: LayerReport) -> str:
    command = " ".join(lr.layer.command.split())
    return f"[{lr.layer.index}] {human(lr.size):>8}  {command[:80]}"


def layer_findings(findings: Sequence[Finding], index: int) -> list[str]:
    """What a layer's detail says about the findings it takes part in, one line each.

    >>> f = Finding(2, 3, "deleted", 90000, [("root/.cache/pip/w.whl", 90000)], "pip cache", "use --no-cache-dir")
    >>> layer_findings([f], 2)
    ['adds 90 kB that layer 3 deletes (pip cache: use --no-cache-dir)']
    >>> layer_findings([f], 3)
    ['deletes 90 kB that layer 2 added (pip cache: use --no-cache-dir)']
    >>> import dataclasses
    >>> from dlayer.findings import Merging, Step
    >>> at = Step("Dockerfile", 2, "RUN pip install -r requirements.txt")
    >>> layer_findings([dataclasses.replace(f, added_at=at, merging=Merging(True))], 2)[0].split("; ")[1]
    'minid would merge these: `minid -o Dockerfile Dockerfile`)'
    """
    lines = []
    for f in findings:
        fix = f"{f.remedy}: {f.advice}" if f.remedy else f.advice
        if f.merging is not None and f.added_at is not None:
            fix += f"; {f.merging.sentence(f.added_at.path)}"
        verb = "deletes" if f.how == "deleted" else "overwrites"
        if f.how == "kept":
            if f.added_by == index:
                lines.append(f"keeps a {human(f.bytes)} build toolchain in the final image ({fix})")
        elif f.added_by == index:
            lines.append(f"adds {human(f.bytes)} that layer {f.hidden_by} {verb} ({fix})")
        elif f.hidden_by == index:
            lines.append(f"{verb} {human(f.bytes)} that layer {f.added_by} added ({fix})")
    return lines


def make_app(report: Report, archive: str, findings: Sequence[Finding] = ()) -> Any:
    """The textual App (imported here: textual is an optional extra); a layer's detail lists its findings."""
    try:
        from textual.app import App, ComposeResult
        from textual.widgets import Footer, Header, Static, Tree
    except ImportError:
        raise UsageError("-i needs textual: pip install 'dlayer[tui]'") from None

    class LayerBrowser(App[None]):
        """Layers -> directories -> files; the detail line shows the command and how to extract a file."""

        TITLE = "dlayer"
        BINDINGS = [("q", "quit", "Quit")]  # noqa: RUF012 - textual's own convention

        def compose(self) -> ComposeResult:
            yield Header()
            yield Tree(f"{report.image.name or '<untagged>'}  {human(report.size)}", id="layers")
            yield Static("", id="detail")
            yield Footer()

        def on_mount(self) -> None:
            tree: Tree[Any] = self.query_one(Tree)
            tree.root.expand()
            for lr in report.layers:
                node = tree.root.add(_label_layer(lr), data=("layer", lr.layer, layer_tree(lr.layer)))
                node.allow_expand = bool(lr.layer.entries)
            tree.focus()

        def _fill(self, node: Any) -> None:
            kind, layer, here = node.data
            if node.children or kind == "file":
                return
            for child in here.children():
                if isinstance(child, DirNode):
                    sub = node.add(f"{human(child.size):>8}  {child.name}/", data=("dir", layer, child))
                    sub.allow_expand = bool(child.dirs or child.files)
                else:
                    link = f" -> {child.link}" if child.link else ""
                    node.add_leaf(f"{human(child.size):>8}  {child.basename}{link}", data=("file", layer, child))

        def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
            if event.node.data is not None:
                self._fill(event.node)

        def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
            data = event.node.data
            detail = self.query_one("#detail", Static)
            if data is None:
                detail.update(f"{report.image.format}: {len(report.layers)} layers, {human(report.size)}")
                return
            kind, layer, item = data
            if kind == "file":
                detail.update(f"/{item.path}  {human(item.size)}\n$ {extract_command(archive, layer, item)}")
            else:
                command = layer.history.created_by if layer.history else "(missing)"
                detail.update("\n".join([command, *layer_findings(findings, layer.index)]))

    return LayerBrowser()


def browse(report: Report, archive: str, findings: Sequence[Finding] = ()) -> None:
    """Run the browser on the terminal (after the archive was read from stdin, input comes from /dev/tty)."""
    app = make_app(report, archive, findings)
    if not sys.stdin.isatty():
        try:
            tty = os.open("/dev/tty", os.O_RDWR)
        except OSError:
            raise UsageError("-i needs a terminal") from None
        os.dup2(tty, 0)
        os.close(tty)
    app.run()
