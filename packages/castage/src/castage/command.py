"""castage's command line, declared once (:mod:`dockit.options`), and what a run does with it: read the
Dockerfile, :func:`castage.generate.generate`, write the script or bake file (or compare it: --check/--diff)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from castage.mode import MODES_HELP, Mode
from dockit import options as o


@dataclass
class Options:
    """What the command line says (the writers' own options are :class:`castage.options.Options`)."""

    dockerfile: str | None = o.dockerfile_argument()
    file: str | None = o.file_option(
        "Same as DOCKERFILE ('-': stdin; default ./Dockerfile); passed on to docker build when given."
    )
    image: str = o.option(
        "-i",
        "--image",
        help="Repository for the stage images, without a tag: IMAGE:STAGE.",
        default="",
        required=True,
        metavar="IMAGE",
    )
    context: str = o.option("-p", "--context", help="Build context.", default=".", metavar="DIR")
    target: str | None = o.option(
        "-t",
        "--target",
        metavar="STAGE",
        help="Only this stage and the stages it needs (default: the named stages and the last).",
    )
    push: bool = o.flag("--push", help="Push each stage image after building it.")
    mode: Mode = o.option("--mode", help=MODES_HELP + ".", default=Mode.LEGACY, metavar="MODE")
    build_args: list[str] = o.build_arg_option("Passed on to every build, and resolves FROM $NAME; NAME alone: env.")
    platforms: list[str] = o.platform_option("Passed on to every build (several: buildx, bake).", multiple=True)
    output: str = o.output_option("Write here ('-': stdout), atomically; a new script is executable.")
    check: bool = o.check_option()
    diff: bool = o.diff_option()
    final_tag: str | None = o.option(
        "--final-tag", metavar="TAG", help="Tag of an unnamed last stage (default: latest)."
    )
    scope_prefix: str | None = o.option(
        "--scope-prefix", metavar="PREFIX", help="GitHub Actions cache scopes are PREFIX/STAGE (default: image path)."
    )
    image_manifest: bool = o.flag(
        "--image-manifest",
        help="Registry cache as an OCI image manifest (for registries that reject cache manifests, e.g. ECR).",
    )
    branch: str | None = o.option(
        "--branch",
        metavar="BRANCH",
        help=(
            "Tags and caches STAGE-BRANCH (on the default branch an unnamed last stage keeps IMAGE:latest or "
            "--final-tag): read this branch's, then the default branch's; write only it."
        ),
    )
    default_branch: str = o.option(
        "--default-branch", metavar="BRANCH", help="The branch whose cache --branch builds read second.", default="main"
    )


def execute(opts: Options) -> int:
    """Read the Dockerfile, write the script (or bake file) to ``opts.output``, or compare it with what is there."""
    import os

    from castage.generate import generate
    from dockit.cli import read_bytes
    from dockit.errors import DockitError
    from dockit.output import compare_output, comparing, write_output

    path = o.dockerfile_path(opts.dockerfile, opts.file)
    compare = comparing(opts.output, opts.check, opts.diff)
    data = read_bytes(path)
    context = opts.context
    if context != "-" and context and not os.path.isdir(context):
        raise DockitError("no such directory" if not os.path.exists(context) else "not a directory", path=context)
    result = generate(
        data,
        image=opts.image,
        path=path,
        file_given=opts.dockerfile is not None or opts.file is not None,
        context=context,
        target=opts.target,
        build_args=opts.build_args,
        platforms=opts.platforms,
        push=opts.push,
        mode=opts.mode,
        final_tag=opts.final_tag,
        scope_prefix=opts.scope_prefix,
        image_manifest=opts.image_manifest,
        branch=opts.branch,
        default_branch=opts.default_branch,
    )
    for warning in result.warnings:
        print(f"castage: warning: {warning}", file=sys.stderr)
    if compare:
        return compare_output("castage", opts.output, result.text, check=opts.check, diff=opts.diff)
    write_output(opts.output, result.text, executable=result.executable)
    return 0
