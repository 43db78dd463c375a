"""What one dlayer run does, given its options: read, report, print; returns the exit code."""

from __future__ import annotations

import dataclasses
import gc
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockit.cli import write_output
from dockit.errors import UsageError

if TYPE_CHECKING:
    from dockit.dockerfile import Dockerfile


@dataclass(slots=True)
class Options:
    """dlayer's command-line options."""

    file: str = "-"
    source: str = "auto"
    quiet: bool = False
    parallel: int = 4
    insecure: bool = False
    max_files: int = 100
    depth: int = 8
    attrs: bool = False
    width: int = 100
    interactive: bool = False
    tag: str | None = None
    arch: str | None = None
    json_path: str | None = None
    ci: bool = False
    ci_rules: dict[str, str] = field(default_factory=dict)
    ci_config: str | None = None
    forbid: list[str] = field(default_factory=list)
    base_layers: int | None = None
    dockerfile: str | None = None
    target: str | None = None
    duplicates: bool = False


def run_dlayer(opts: Options) -> int:
    """Read the archive, build the report, write what the options ask for; 1 when a CI rule fails."""
    from dlayer import ci as ci_rules
    from dlayer import duplicates as dups
    from dlayer.dive import export_text
    from dlayer.findings import Step, trace
    from dlayer.findings import document as findings_document
    from dlayer.report import build_report
    from dlayer.text import render, render_findings
    from dockit.archive.sources import open_image, split_spec
    from dockit.history import map_layers

    kind, target = split_spec(opts.file, opts.source)
    if target == "-" and kind in ("auto", "archive") and sys.stdin.isatty():
        raise UsageError("no archive on stdin: pipe one in (docker save IMAGE | dlayer) or give SOURCE")
    if opts.interactive and opts.json_path == "-":
        raise UsageError("-i and -j - both want the terminal")
    if opts.json_path not in (None, "-") and _inside(opts.json_path, target):
        raise UsageError(f"-j {opts.json_path}: would overwrite the archive being read")
    rules = ci_rules.Rules()
    if opts.ci:
        config = ci_rules.read_config(opts.ci_config)
        rules = ci_rules.merged(config, opts.ci_rules, opts.forbid, opts.base_layers)
        ci_rules.check(rules)
    dockerfile = _read_dockerfile(opts.dockerfile) if opts.dockerfile is not None else None
    # A big image is ~100k small acyclic objects (entries, tree nodes): the cyclic collector would walk them over
    # and over as they are made, for nothing (measured: 20% of a run on the 1 GB bench image).
    gc.disable()
    try:
        image = open_image(
            opts.file,
            source=opts.source,
            tag=opts.tag,
            platform=opts.arch,
            parallel=opts.parallel,
            insecure=opts.insecure,
            announce=None if opts.quiet else _say,
            digests=opts.duplicates,
        )
        report = build_report(image, top=opts.max_files, depth=opts.depth)
        steps: dict[int, Step] = {}
        if dockerfile is not None:
            layer_map = map_layers(dockerfile, image.layers, opts.target)
            steps = {index: Step.of(inst, dockerfile.path) for index, inst in layer_map.instructions.items()}
            if rules.base_layers is None:  # what the Dockerfile did not make came with the base image
                rules = dataclasses.replace(rules, base_layers=layer_map.base_layers)
        findings = trace(image, report.stack, steps)
        duplicates = dups.find(image, report.stack) if opts.duplicates else []
    finally:
        gc.enable()
    results = ci_rules.evaluate(report, rules) if opts.ci else []
    if opts.json_path is not None:
        pretty = opts.json_path == "-" and sys.stdout.isatty()
        extra: dict[str, object] = {"findings": findings_document(findings, image)}
        if opts.duplicates:
            extra["duplicates"] = dups.document(duplicates)
        if opts.ci:
            extra["ci"] = ci_rules.document(results)
        doc = export_text(image, report.dive, report.wasted_bytes, indent=2 if pretty else None, extra=extra)
        write_output(opts.json_path, doc)
    if opts.interactive:
        from dlayer.tui import browse

        # the browser's extract commands name an archive file: for an image read from a daemon or a registry
        # there is none, and they say IMAGE.tar (what `docker save -o` or `skopeo copy ... oci-archive:` would write)
        browse(report, target if image.origin == "archive" else "-")
        return 0
    to_stdout = opts.json_path != "-"
    if not opts.ci and to_stdout:
        sys.stdout.write(render(report, width=opts.width, attrs=opts.attrs))
        sys.stdout.write(render_findings(findings, report, width=opts.width))
        if opts.duplicates:
            sys.stdout.write(dups.render(duplicates, width=opts.width))
    if opts.ci:
        out = sys.stdout if to_stdout else sys.stderr
        out.write(render(report, width=opts.width, attrs=opts.attrs, layers=False))
        out.write(render_findings(findings, report, width=opts.width))
        if opts.duplicates:
            out.write(dups.render(duplicates, width=opts.width))
        out.write(ci_rules.render(results))
        out.flush()
        return 1 if any(r.status == "FAIL" for r in results) else 0
    return 0


@dataclass(slots=True)
class DiffOptions:
    """``dlayer diff``'s options: two sources, read as the main command reads one."""

    a: str
    b: str
    source: str = "auto"
    quiet: bool = False
    parallel: int = 4
    insecure: bool = False
    arch: str | None = None
    json_path: str | None = None
    max_files: int = 50
    width: int = 100
    contents: bool = False


def run_diff(opts: DiffOptions) -> int:
    """Read both images, compare their final filesystems, print the comparison; exit 0 whatever differs."""
    from dlayer.diff import compare, document, render
    from dlayer.report import build_report
    from dockit.archive.sources import open_image

    if opts.a == opts.b == "-":
        raise UsageError("A and B cannot both be stdin")
    reports = []
    gc.disable()  # as in run_dlayer: a big image is many small acyclic objects
    try:
        for spec in (opts.a, opts.b):
            if spec == "-" and sys.stdin.isatty():
                raise UsageError("no archive on stdin: pipe one in or give SOURCE")
            image = open_image(
                spec,
                source=opts.source,
                platform=opts.arch,
                parallel=opts.parallel,
                insecure=opts.insecure,
                announce=None if opts.quiet else _say,
                digests=opts.contents,
            )
            reports.append(build_report(image, top=0))
        comparison = compare(reports[0], reports[1], contents=opts.contents)
    finally:
        gc.enable()
    if opts.json_path is not None:
        import json

        pretty = opts.json_path == "-" and sys.stdout.isatty()
        write_output(opts.json_path, json.dumps(document(comparison), indent=2 if pretty else None) + "\n")
    if opts.json_path != "-":
        sys.stdout.write(render(comparison, width=opts.width, most=opts.max_files))
    return 0


def _read_dockerfile(path: str) -> Dockerfile:
    """The Dockerfile the image was built from; a base that expands to nothing is fine (it is never pulled)."""
    from dockit.cli import read_bytes
    from dockit.dockerfile import parse

    return parse(read_bytes(path), path=path, strict_base=False)


def _say(line: str) -> None:
    sys.stderr.write(f"dlayer: {line}\n")
    sys.stderr.flush()


def _inside(out: str, archive: str) -> bool:
    """Whether writing ``out`` would replace the archive, or a file of the layout directory, being read."""
    if archive == "-":
        return False
    target, source = Path(out).resolve(), Path(archive).resolve()
    return target == source or source in target.parents
