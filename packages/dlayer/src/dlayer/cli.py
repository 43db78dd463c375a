"""dlayer's command line: a thin typer layer over :func:`dlayer.command.run_dlayer`.

Plain command lines skip typer (~0.1 s of imports, a fifth of a whole run on a 1 GB image) through
:mod:`dockit.fastcli`; ``--help``, ``--version`` and mistakes go through the typer app. ``OPTIONS`` lists exactly
the options the typer command declares (a test checks both paths behave the same).
"""

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from dockit.fastcli import Option, guard, parse_plain

if TYPE_CHECKING:
    import typer

    from dlayer.command import Options

TOOL = "dlayer"
HELP = """Why is this image big: per layer, the command that made it and the biggest files it added; then what the \
image wastes (bytes a later layer overwrote or deleted) and dive's efficiency figures.

`dlayer diff A B` compares two images (see `dlayer diff --help`).

SOURCE is an image archive (`docker save`, buildah, OCI; tar or directory; gzip, zstd or plain layers; the whole \
file gzip, zstd or xz compressed), - for stdin, or an image reference: read from the Docker daemon if it has it, \
else from its registry (no daemon needed). Prefixes choose: docker://, podman://, registry://, docker-archive://, \
oci-archive://. Examples: dlayer nginx:latest; docker save app | gzip | dlayer -n 10
"""
OPTIONS = [
    Option("file", ("-f", "--file")),
    Option("source", ("--source",)),
    Option("quiet", ("-q", "--quiet"), value=False),
    Option("parallel", ("-P", "--parallel")),
    Option("insecure", ("--insecure",), value=False),
    Option("max_files", ("-n", "--max-files")),
    Option("depth", ("-d", "--depth")),
    Option("attrs", ("-a", "--attributes"), value=False),
    Option("width", ("-l", "--line-width")),
    Option("interactive", ("-i", "--interactive"), value=False),
    Option("tag", ("--tag",)),
    Option("arch", ("--arch", "--platform")),
    Option("json_path", ("-j", "--json")),
    Option("ci", ("--ci",), value=False),
    Option("lowest_efficiency", ("--lowest-efficiency", "--lowestEfficiency")),
    Option("highest_wasted_bytes", ("--highest-wasted-bytes", "--highestWastedBytes")),
    Option("highest_user_wasted_percent", ("--highest-user-wasted-percent", "--highestUserWastedPercent")),
    Option("highest_wasted_bytes_true", ("--highest-wasted-bytes-true", "--highestWastedBytesTrue")),
    Option("highest_wasted_percent", ("--highest-wasted-percent", "--highestWastedPercent")),
    Option("max_file_size", ("--max-file-size", "--maxFileSize")),
    Option("forbid", ("--forbid",), multiple=True),
    Option("base_layers", ("--base-layers",)),
    Option("ci_config", ("--ci-config",)),
    Option("dockerfile", ("--dockerfile",)),
    Option("target", ("--target",)),
    Option("duplicates", ("--duplicates",), value=False),
]
POSITIONALS = ["spec"]  # SOURCE: the same as -f
MINIMUM = {
    "max_files": 0,
    "depth": 1,
    "width": 40,
    "parallel": 1,
    "base_layers": 0,
}  # the numeric options, with the least each takes
CI_RULES = {
    "lowest_efficiency": "lowestEfficiency",
    "highest_wasted_bytes": "highestWastedBytes",
    "highest_user_wasted_percent": "highestUserWastedPercent",
    "highest_wasted_bytes_true": "highestWastedBytesTrue",
    "highest_wasted_percent": "highestWastedPercent",
    "max_file_size": "maxFileSize",
}


def options(values: dict[str, Any]) -> "Options":
    """Options from parsed values: those not given keep the defaults of :class:`dlayer.command.Options` and, for
    the CI rules, of :mod:`dlayer.ci`."""
    from dlayer.command import Options

    given = dict(values)
    spec = given.pop("spec", None)
    if spec is not None:
        if given.get("file") not in (None, "-"):
            from dockit.errors import UsageError

            raise UsageError(f"SOURCE {spec!r} and -f {given['file']!r}: give one (-f is a synonym of SOURCE)")
        given["file"] = spec
    given = {k: v for k, v in given.items() if v is not None}  # typer passes None for what was not given
    rules = {rule: str(given.pop(dest)) for dest, rule in CI_RULES.items() if dest in given}
    for name in MINIMUM:  # text on the fast path
        if name in given:
            given[name] = int(given[name])
    return Options(**given, ci_rules=rules)


def _plain_options(values: dict[str, Any]) -> "Options | None":
    """The options of a plain command line, or None when a number is bad (typer then says why)."""
    for name, least in MINIMUM.items():
        if name in values:
            text = str(values[name])
            if not text.isdigit() or int(text) < least:
                return None
    from dockit.errors import UsageError

    try:
        return options(values)
    except UsageError:
        return None  # typer says it, the same way


def build_app() -> "typer.Typer":
    """The typer app (imports typer: about 0.1 s)."""
    import typer

    from dlayer import __version__
    from dlayer.command import run_dlayer
    from dockit.cli import version_callback

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=HELP)
    def dlayer(
        spec: Annotated[
            str | None, typer.Argument(metavar="[SOURCE]", help="Archive, directory, '-' (stdin) or image reference.")
        ] = None,
        file: Annotated[
            str, typer.Option("-f", "--file", help="The same as SOURCE (kept from earlier versions).")
        ] = "-",
        source: Annotated[
            str, typer.Option("--source", help="Where to read: auto, archive, docker, podman, registry.")
        ] = "auto",
        quiet: Annotated[
            bool, typer.Option("-q", "--quiet", help="Do not say on stderr which source is read.")
        ] = False,
        parallel: Annotated[int, typer.Option("-P", "--parallel", min=1, help="Registry: layers fetched at once.")] = 4,
        insecure: Annotated[
            bool, typer.Option("--insecure", help="Registry: allow plain HTTP (always allowed on loopback).")
        ] = False,
        max_files: Annotated[int, typer.Option("-n", "--max-files", min=0, help="Paths shown per layer.")] = 100,
        depth: Annotated[int, typer.Option("-d", "--depth", min=1, help="Aggregate paths to this depth.")] = 8,
        attrs: Annotated[bool, typer.Option("-a", "--attributes", help="Show mode, uid and gid.")] = False,
        width: Annotated[int, typer.Option("-l", "--line-width", min=40, help="Line width.")] = 100,
        interactive: Annotated[
            bool,
            typer.Option("-i", "--interactive", help="Browse layers in a terminal UI (needs textual: the tui extra)."),
        ] = False,
        tag: Annotated[str | None, typer.Option("--tag", help="Image to read from a multi-image archive.")] = None,
        arch: Annotated[
            str | None, typer.Option("--arch", "--platform", help="Platform to choose: amd64, linux/arm64, ...")
        ] = None,
        json_path: Annotated[
            str | None, typer.Option("-j", "--json", help="Write dive-compatible JSON here ('-': stdout).")
        ] = None,
        ci: Annotated[bool, typer.Option("--ci", help="Apply dive's CI rules; exit 1 when one fails.")] = False,
        lowest_efficiency: Annotated[
            str | None,
            typer.Option(
                "--lowest-efficiency", "--lowestEfficiency", help="CI: fail below this efficiency (0.9; 'disabled')."
            ),
        ] = None,
        highest_wasted_bytes: Annotated[
            str | None,
            typer.Option(
                "--highest-wasted-bytes",
                "--highestWastedBytes",
                help="CI: fail above these inefficient bytes, dive's figure (e.g. 20MB; default disabled).",
            ),
        ] = None,
        highest_user_wasted_percent: Annotated[
            str | None,
            typer.Option(
                "--highest-user-wasted-percent",
                "--highestUserWastedPercent",
                help="CI: fail above this share of the user layers' bytes, dive's figure (0.1).",
            ),
        ] = None,
        highest_wasted_bytes_true: Annotated[
            str | None,
            typer.Option(
                "--highest-wasted-bytes-true",
                "--highestWastedBytesTrue",
                help="CI: fail when later layers hide more than SIZE (the real waste, each copy once).",
            ),
        ] = None,
        highest_wasted_percent: Annotated[
            str | None,
            typer.Option(
                "--highest-wasted-percent",
                "--highestWastedPercent",
                help="CI: fail when more than this share of the image is hidden (0.1 or 10%).",
            ),
        ] = None,
        max_file_size: Annotated[
            str | None,
            typer.Option(
                "--max-file-size", "--maxFileSize", help="CI: fail on any file over SIZE above the base layers."
            ),
        ] = None,
        forbid: Annotated[
            list[str] | None,
            typer.Option(
                "--forbid", metavar="GLOB", help="CI: fail on paths in any layer, e.g. '**/*.pem' (repeatable)."
            ),
        ] = None,
        base_layers: Annotated[
            int | None,
            typer.Option(
                "--base-layers", min=0, help="Layers from the base image (default: from --dockerfile, else 1)."
            ),
        ] = None,
        ci_config: Annotated[
            str | None,
            typer.Option("--ci-config", help="CI rules file (default: .dlayer-ci.yaml or dive's .dive-ci here)."),
        ] = None,
        dockerfile: Annotated[
            str | None,
            typer.Option("--dockerfile", help="The Dockerfile the image was built from: findings name its lines."),
        ] = None,
        target: Annotated[
            str | None, typer.Option("--target", help="The stage the image was built as (default: the last).")
        ] = None,
        duplicates: Annotated[
            bool,
            typer.Option(
                "--duplicates", help="Hash every file (costs reading them): report contents stored more than once."
            ),
        ] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Version."),
        ] = False,
    ) -> int:
        here = locals()  # the parameters, and the names the body closes over (run_dlayer): take only OPTIONS
        given = {o.dest: here[o.dest] for o in OPTIONS}
        given["forbid"] = list(forbid or [])
        if spec is not None:
            given["spec"] = spec
        return run_dlayer(options(given))

    return app


DIFF_HELP = """Compare two images: the layers they share (said once), every path added, removed or changed (type, \
size, mode, owner, link) biggest first, and the totals side by side. A and B are any SOURCE dlayer reads: archives, \
'-' (one of them), image references (daemon or registry). Exit 0 whatever differs. \
Contents are compared only with --contents (it reads every file of both).

Example: dlayer diff app:1.4 app:1.5
"""
DIFF_OPTIONS = [
    Option("source", ("--source",)),
    Option("quiet", ("-q", "--quiet"), value=False),
    Option("parallel", ("-P", "--parallel")),
    Option("insecure", ("--insecure",), value=False),
    Option("arch", ("--arch", "--platform")),
    Option("json_path", ("-j", "--json")),
    Option("max_files", ("-n", "--max-files")),
    Option("width", ("-l", "--line-width")),
    Option("contents", ("--contents",), value=False),
]
DIFF_MINIMUM = {"parallel": 1, "max_files": 0, "width": 40}


def build_diff_app() -> "typer.Typer":
    """The typer app of ``dlayer diff`` (help and usage errors)."""
    import typer

    from dlayer.command import DiffOptions, run_diff

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=DIFF_HELP)
    def diff(
        a: Annotated[str, typer.Argument(metavar="A", help="The first image (any SOURCE).")],
        b: Annotated[str, typer.Argument(metavar="B", help="The second image (any SOURCE).")],
        source: Annotated[str, typer.Option("--source", help="auto, archive, docker, podman, registry.")] = "auto",
        quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Do not say which source is read.")] = False,
        parallel: Annotated[int, typer.Option("-P", "--parallel", min=1, help="Registry: layers at once.")] = 4,
        insecure: Annotated[bool, typer.Option("--insecure", help="Registry: allow plain HTTP.")] = False,
        arch: Annotated[str | None, typer.Option("--arch", "--platform", help="Platform to choose.")] = None,
        json_path: Annotated[str | None, typer.Option("-j", "--json", help="Write JSON here ('-': stdout).")] = None,
        max_files: Annotated[int, typer.Option("-n", "--max-files", min=0, help="Changes shown.")] = 50,
        width: Annotated[int, typer.Option("-l", "--line-width", min=40, help="Line width.")] = 100,
        contents: Annotated[
            bool, typer.Option("--contents", help="Hash both images' files: same-header files whose data differs too.")
        ] = False,
    ) -> int:
        return run_diff(
            DiffOptions(a, b, source, quiet, parallel, insecure, arch, json_path, max_files, width, contents)
        )

    return app


def diff_main(args: list[str]) -> NoReturn:
    """``dlayer diff A B``: plain command lines run directly, everything else goes through typer."""
    plain = parse_plain(args, DIFF_OPTIONS, ["a", "b"])
    if (
        plain is not None
        and "b" in plain
        and all(
            str(plain[k]).isdigit() and int(str(plain[k])) >= least for k, least in DIFF_MINIMUM.items() if k in plain
        )
    ):
        from dlayer.command import DiffOptions, run_diff

        values = {k: int(str(v)) if k in DIFF_MINIMUM else v for k, v in plain.items()}
        guard(TOOL, lambda: run_diff(DiffOptions(**values)))  # type: ignore[arg-type]
    from dockit.cli import run

    run(build_diff_app(), f"{TOOL} diff", args)


def _exit_now(code: int) -> NoReturn:
    """Exit without tearing down the ~100k objects of a big report one by one (7% of a run): output is flushed,
    files were closed by write_output, nothing else needs finalizing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: plain command lines run directly, everything else goes through typer."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["diff"]:  # the one subcommand; an archive called diff is ./diff
        diff_main(args[1:])
    plain = parse_plain(args, OPTIONS, POSITIONALS)
    opts = _plain_options(plain) if plain is not None else None
    if opts is not None:
        from dlayer.command import run_dlayer

        chosen = opts
        try:
            guard(TOOL, lambda: run_dlayer(chosen))
        except SystemExit as done:
            _exit_now(done.code if isinstance(done.code, int) else 1)
    from dockit.cli import run

    run(build_app(), TOOL, args)
