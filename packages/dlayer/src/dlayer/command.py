"""What one dlayer run does, given its options: read, report, print; returns the exit code.

The options are declared once, on :class:`Options` (:mod:`dockit.options`); ``dlayer.cli`` hands them to
:func:`dockit.cli.main`.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockit import options as o
from dockit.cli import write_output
from dockit.errors import UsageError

if TYPE_CHECKING:
    from dlayer.report import Report
    from dockit.archive.contents import DigestMode
    from dockit.archive.model import Image
    from dockit.archive.store import LayerCache
    from dockit.dockerfile import Dockerfile
    from dockit.merge import Result as MergeResult

# the CI rule options, by field, and the name each has in dive's .dive-ci and in dlayer.ci
CI_RULES = {
    "lowest_efficiency": "lowestEfficiency",
    "highest_wasted_bytes": "highestWastedBytes",
    "highest_user_wasted_percent": "highestUserWastedPercent",
    "highest_wasted_bytes_true": "highestWastedBytesTrue",
    "highest_wasted_percent": "highestWastedPercent",
    "max_file_size": "maxFileSize",
}


def _rule(kebab: str, help: str, metavar: str = "VALUE") -> Any:
    """A CI rule option, spelled as ours and as dive's (``--lowest-efficiency``, ``--lowestEfficiency``)."""
    camel = CI_RULES[kebab.removeprefix("--").replace("-", "_")]
    return o.option(kebab, "--" + camel, metavar=metavar, help="CI: " + help)


@dataclass(slots=True)
class Options:
    """dlayer's command line, as typed."""

    spec: str | None = o.argument(metavar="[SOURCE]", help="Archive, directory, '-' (stdin) or image reference.")
    file: str | None = o.option(
        "-f", "--file", metavar="SOURCE", help="The same as SOURCE (kept from earlier versions; default: stdin)."
    )
    source: str = o.option(
        "--source", metavar="KIND", default="auto", help="Where to read: auto, archive, docker, podman, registry."
    )
    quiet: bool = o.flag("-q", "--quiet", help="Do not say on stderr which source is read.")
    parallel: int = o.option("-P", "--parallel", default=4, minimum=1, help="Registry: layers fetched at once.")
    insecure: bool = o.flag("--insecure", help="Registry: allow plain HTTP (always allowed on loopback).")
    output: str = o.output_option("Write the text report here ('-': stdout).")
    max_files: int = o.option("-n", "--max-files", default=100, minimum=0, help="Paths shown per layer.")
    depth: int = o.option("-d", "--depth", default=8, minimum=1, help="Aggregate paths to this depth.")
    attrs: bool = o.flag("-a", "--attributes", help="Show mode, uid and gid.")
    width: int = o.option("-l", "--line-width", default=100, minimum=40, help="Line width.")
    interactive: bool = o.flag(
        "-i", "--interactive", help="Browse layers in a terminal UI (needs textual: the tui extra)."
    )
    tag: str | None = o.option("--tag", help="Image to read from a multi-image archive.")
    arch: str | None = o.option(
        "--platform", "--arch", metavar="OS/ARCH", help="Platform to choose: amd64, linux/arm64, ..."
    )
    json_path: str | None = o.option(
        "-j", "--json", metavar="PATH", help="Write dive-compatible JSON here ('-': stdout)."
    )
    ci: bool = o.flag("--ci", help="Apply dive's CI rules; exit 1 when one fails.")
    lowest_efficiency: str | None = _rule("--lowest-efficiency", "fail below this efficiency (0.9; 'disabled').")
    highest_wasted_bytes: str | None = _rule(
        "--highest-wasted-bytes", "fail above these inefficient bytes, dive's figure (e.g. 20MB; default disabled)."
    )
    highest_user_wasted_percent: str | None = _rule(
        "--highest-user-wasted-percent", "fail above this share of the user layers' bytes, dive's figure (0.1)."
    )
    highest_wasted_bytes_true: str | None = _rule(
        "--highest-wasted-bytes-true",
        "fail when later layers hide more than SIZE (the real waste, each copy once).",
        "SIZE",
    )
    highest_wasted_percent: str | None = _rule(
        "--highest-wasted-percent", "fail when more than this share of the image is hidden (0.1 or 10%)."
    )
    max_file_size: str | None = _rule("--max-file-size", "fail on any file over SIZE above the base layers.", "SIZE")
    forbid: list[str] = o.option(
        "--forbid", metavar="GLOB", multiple=True, help="CI: fail on paths in any layer, e.g. '**/*.pem' (repeatable)."
    )
    base_layers: int | None = o.option(
        "--base-layers", minimum=0, help="Layers from the base image (default: from --dockerfile, else 1)."
    )
    ci_config: str | None = o.option(
        "--ci-config", metavar="PATH", help="CI rules file (default: .dlayer-ci.yaml or dive's .dive-ci here)."
    )
    dockerfile: str | None = o.option(
        "--dockerfile", metavar="PATH", help="The Dockerfile the image was built from: findings name its lines."
    )
    target: str | None = o.option(
        "--target", metavar="STAGE", help="The stage the image was built as (default: the last)."
    )
    duplicates: bool = o.flag(
        "--duplicates", help="Hash the files that may be copies: report contents stored more than once."
    )

    @property
    def path(self) -> str:
        """What to read: SOURCE or ``-f`` (not two different ones), default stdin."""
        if self.spec is not None and self.file not in (None, "-", self.spec):
            raise UsageError(f"SOURCE {self.spec!r} and -f {self.file!r}: give one (-f is a synonym of SOURCE)")
        return self.spec or self.file or "-"

    @property
    def ci_rules(self) -> dict[str, str]:
        """The CI rules given on the command line, by their names in dlayer.ci."""
        return {rule: value for name, rule in CI_RULES.items() if (value := getattr(self, name)) is not None}


def run_dlayer(opts: Options) -> int:
    """Read the archive, build the report, write what the options ask for; 1 when a CI rule fails."""
    from dlayer import ci as ci_rules
    from dlayer import duplicates as dups
    from dlayer.dive import export_text
    from dlayer.findings import Step, trace
    from dlayer.findings import document as findings_document
    from dlayer.report import build_report
    from dlayer.text import render, render_findings
    from dockit.archive.contents import DUPLICATES
    from dockit.archive.sources import split_spec
    from dockit.history import map_layers

    path = opts.path
    kind, target = split_spec(path, opts.source)
    if target == "-" and kind in ("auto", "archive") and sys.stdin.isatty():
        raise UsageError("no archive on stdin: pipe one in (docker save IMAGE | dlayer) or give SOURCE")
    if opts.interactive and opts.json_path == "-":
        raise UsageError("-i and -j - both want the terminal")
    for flag, out in (("-j", opts.json_path), ("-o", opts.output)):
        if out not in (None, "-") and _inside(out, target):
            raise UsageError(f"{flag} {out}: would overwrite the archive being read")
    if opts.dockerfile == "-" and target == "-":
        raise UsageError("--dockerfile - and the image cannot both come from stdin")
    if opts.target is not None and opts.dockerfile is None:
        raise UsageError("--target names a stage of --dockerfile: give --dockerfile too")
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
        image = _open(path, opts, digests=DUPLICATES if opts.duplicates else False, tag=opts.tag)
        report = build_report(image, top=opts.max_files, depth=opts.depth)
        steps: dict[int, Step] = {}
        merges = None
        if dockerfile is not None:
            merges = functools.partial(_merges, dockerfile)
            layer_map = map_layers(dockerfile, image.layers, opts.target)
            steps = {index: Step.of(inst, dockerfile.path) for index, inst in layer_map.instructions.items()}
            if rules.base_layers is None:  # what the Dockerfile did not make came with the base image
                rules = dataclasses.replace(rules, base_layers=layer_map.base_layers)
        findings = trace(image, report.stack, steps, merges)
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
        browse(report, target if image.origin == "archive" else "-", findings)
        return 1 if any(r.status == "FAIL" for r in results) else 0
    text = render(report, width=opts.width, attrs=opts.attrs, layers=not opts.ci)
    text += render_findings(findings, report, width=opts.width)
    if opts.duplicates:
        text += dups.render(duplicates, width=opts.width)
    if opts.ci:
        text += ci_rules.render(results)
    if opts.output != "-" or opts.json_path != "-":
        write_output(opts.output, text)
    elif opts.ci:  # stdout holds the JSON: the CI verdict goes to stderr
        sys.stderr.write(text)
        sys.stderr.flush()
    return 1 if any(r.status == "FAIL" for r in results) else 0


@dataclass(slots=True)
class DiffOptions:
    """``dlayer diff``'s options: two sources, read as the main command reads one."""

    a: str = o.argument(metavar="A", help="The first image (any SOURCE).", required=True)
    b: str = o.argument(metavar="B", help="The second image (any SOURCE).", required=True)
    source: str = o.option("--source", metavar="KIND", default="auto", help="auto, archive, docker, podman, registry.")
    quiet: bool = o.flag("-q", "--quiet", help="Do not say which source is read.")
    parallel: int = o.option("-P", "--parallel", default=4, minimum=1, help="Registry: layers at once.")
    insecure: bool = o.flag("--insecure", help="Registry: allow plain HTTP.")
    arch: str | None = o.option("--platform", "--arch", metavar="OS/ARCH", help="Platform to choose.")
    json_path: str | None = o.option("-j", "--json", metavar="PATH", help="Write JSON here ('-': stdout).")
    max_files: int = o.option("-n", "--max-files", default=50, minimum=0, help="Changes shown.")
    width: int = o.option("-l", "--line-width", default=100, minimum=40, help="Line width.")
    contents: bool = o.flag("--contents", help="Hash both images' files: same-header files whose data differs too.")


def run_diff(opts: DiffOptions) -> int:
    """Read both images, compare their final filesystems, print the comparison; exit 0 whatever differs."""
    from dlayer.diff import compare, document, render
    from dlayer.report import build_report

    if opts.a == opts.b == "-":
        raise UsageError("A and B cannot both be stdin")
    from dockit.archive import LayerCache
    from dockit.archive.sources import skips_cached

    specs = (opts.a, opts.b)
    for spec in specs:
        if spec == "-" and sys.stdin.isatty():
            raise UsageError("no archive on stdin: pipe one in or give SOURCE")
    # the second read skips the layers the first had, unless it is a stream: so a stream goes first
    order = (1, 0) if skips_cached(opts.a, opts.source) and not skips_cached(opts.b, opts.source) else (0, 1)
    reports: dict[int, Report] = {}
    cache = LayerCache(digests=opts.contents)
    gc.disable()  # as in run_dlayer: a big image is many small acyclic objects
    try:
        for side in order:
            # B's line may come first: each line says which side it is about
            name = "AB"[side] + (" (read first, as it is read whole)" if order[0] == side == 1 else "")
            image = _open(specs[side], opts, digests=opts.contents, cache=cache, side=name)
            reports[side] = build_report(image, top=0, final=True, dive=False)
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


def _open(
    spec: str,
    opts: Options | DiffOptions,
    *,
    digests: DigestMode,
    tag: str | None = None,
    cache: LayerCache | None = None,
    side: str = "",
) -> Image:
    """An image read as both commands read one: ``--source``, ``--platform``, ``-P``, ``--insecure``; a line on stderr
    names where it is read from unless ``-q`` (after ``side``, if given: ``dlayer: A: reading ...``)."""
    from dockit.archive.sources import open_image

    def say(line: str) -> None:
        _say(f"{side}: {line}" if side else line)

    return open_image(
        spec,
        source=opts.source,
        tag=tag,
        platform=opts.arch,
        parallel=opts.parallel,
        insecure=opts.insecure,
        announce=None if opts.quiet else say,
        digests=digests,
        cache=cache,
    )


def _merges(dockerfile: Dockerfile) -> MergeResult:
    from dockit.merge import minify_dockerfile

    return minify_dockerfile(dockerfile)


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
