"""castage's command line: options -> :func:`castage.generate.generate` -> the script on stdout.

Importing typer costs more than the rest of a castage run, so ``main()`` reads plain command lines itself
(:mod:`dockit.fastcli`) and builds the typer app only for ``--help``, ``--version`` and mistakes (a missing
``--image``, an unknown ``--mode``). ``OPTIONS`` must list exactly the options the typer command declares; tests
check that, and that both paths behave the same.
"""

# No `from __future__ import annotations` here: typer evaluates the command's annotations, and the command is defined
# inside build_app(), where string annotations could not see its local `typer`.

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from castage.mode import MODES_HELP, Mode
from dockit.fastcli import Option, guard, parse_plain

if TYPE_CHECKING:
    import typer

TOOL = "castage"
OPTIONS = [
    Option("image", ("-i", "--image")),
    Option("file", ("-f", "--file")),
    Option("context", ("-p", "--context")),
    Option("target", ("-t", "--target")),
    Option("push", ("--push",), value=False),
    Option("mode", ("--mode",)),
    Option("build_arg", ("--build-arg",), multiple=True),
    Option("platform", ("--platform",), multiple=True),
    Option("output", ("-o", "--output")),
    Option("final_tag", ("--final-tag",)),
    Option("scope_prefix", ("--scope-prefix",)),
    Option("image_manifest", ("--image-manifest",), value=False),
    Option("branch", ("--branch",)),
    Option("default_branch", ("--default-branch",)),
]
HELP = (
    "Print a bash script (or a docker-bake.hcl) that pulls, builds, tags (and with --push pushes) every stage of a "
    "Dockerfile, so that CI builds reuse each stage's cache."
)


def execute(
    image: str,
    file: str | None = None,
    context: str = ".",
    target: str | None = None,
    push: bool = False,
    mode: Mode = Mode.LEGACY,
    build_arg: Sequence[str] | None = None,
    platform: Sequence[str] | None = None,
    output: str = "-",
    final_tag: str | None = None,
    scope_prefix: str | None = None,
    image_manifest: bool = False,
    branch: str | None = None,
    default_branch: str = "main",
) -> None:
    """Read the Dockerfile, print the script (or write it to ``output``): what either path runs once the options
    are read."""
    import os

    from castage.generate import DEFAULT_DOCKERFILE, generate
    from dockit.cli import read_bytes, write_output
    from dockit.errors import DockitError

    path = DEFAULT_DOCKERFILE if file is None else file
    data = read_bytes(path)
    if context != "-" and context and not os.path.isdir(context):
        raise DockitError("no such directory" if not os.path.exists(context) else "not a directory", path=context)
    result = generate(
        data,
        image=image,
        path=path,
        file_given=file is not None,
        context=context,
        target=target,
        build_args=build_arg or (),
        platforms=platform or (),
        push=push,
        mode=mode,
        final_tag=final_tag,
        scope_prefix=scope_prefix,
        image_manifest=image_manifest,
        branch=branch,
        default_branch=default_branch,
    )
    for warning in result.warnings:
        print(f"{TOOL}: warning: {warning}", file=sys.stderr)
    write_output(output, result.text, executable=result.executable)


def build_app() -> "typer.Typer":
    """The typer app (imports typer: about 0.05 s)."""
    import typer

    from castage import __version__
    from dockit.cli import version_callback

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command(help=HELP)
    def castage(
        image: Annotated[
            str, typer.Option("-i", "--image", help="Repository for the stage images, without a tag: IMAGE:STAGE.")
        ],
        file: Annotated[
            str | None,
            typer.Option(
                "-f",
                "--file",
                help="Dockerfile ('-': stdin; default ./Dockerfile); passed on to docker build when given.",
                show_default=False,
            ),
        ] = None,
        context: Annotated[str, typer.Option("-p", "--context", help="Build context.")] = ".",
        target: Annotated[
            str | None,
            typer.Option(
                "-t", "--target", help="Only this stage and the stages it needs (default: every named stage)."
            ),
        ] = None,
        push: Annotated[bool, typer.Option("--push", help="Push each stage image after building it.")] = False,
        mode: Annotated[Mode, typer.Option("--mode", help=MODES_HELP + ".")] = Mode.LEGACY,
        build_arg: Annotated[
            list[str] | None,
            typer.Option(
                "--build-arg",
                metavar="K=V",
                help="Passed on to every build, and resolves FROM $K; K alone: from the env.",
            ),
        ] = None,
        platform: Annotated[
            list[str] | None,
            typer.Option("--platform", metavar="OS/ARCH", help="Passed on to every build (several: buildx, bake)."),
        ] = None,
        output: Annotated[
            str,
            typer.Option(
                "-o",
                "--output",
                metavar="FILE",
                help="Write here ('-': stdout), atomically; a new script is executable.",
            ),
        ] = "-",
        final_tag: Annotated[
            str | None,
            typer.Option("--final-tag", metavar="TAG", help="Tag of an unnamed last stage (default: latest)."),
        ] = None,
        scope_prefix: Annotated[
            str | None,
            typer.Option("--scope-prefix", help="GitHub Actions cache scopes are PREFIX-STAGE (default: image path)."),
        ] = None,
        image_manifest: Annotated[
            bool,
            typer.Option(
                "--image-manifest",
                help="Registry cache as an OCI image manifest (for registries that reject cache manifests, e.g. ECR).",
            ),
        ] = False,
        branch: Annotated[
            str | None,
            typer.Option(
                "--branch",
                help="Tags and caches STAGE-BRANCH: read this branch's, then the default branch's; write only it.",
            ),
        ] = None,
        default_branch: Annotated[
            str, typer.Option("--default-branch", help="The branch whose cache --branch builds read second.")
        ] = "main",
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Show the version."
            ),
        ] = False,
    ) -> None:
        execute(
            image,
            file,
            context,
            target,
            push,
            mode,
            build_arg,
            platform,
            output,
            final_tag,
            scope_prefix,
            image_manifest,
            branch,
            default_branch,
        )

    return app


def plain_options(args: Sequence[str]) -> dict[str, Any] | None:
    """The options of a plain command line, ready for :func:`execute`; None when typer must handle it.

    Typer reports a missing ``--image`` and a ``--mode`` that is not one of the modes, so those go to it.
    """
    values = parse_plain(args, OPTIONS, [])
    if values is None or "image" not in values:
        return None
    try:
        values["mode"] = Mode(str(values.get("mode", Mode.LEGACY)))
    except ValueError:
        return None
    return values


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, so importing castage.cli stays cheap
        globals()["app"] = app = build_app()
        return app
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: plain command lines run directly, everything else goes through typer."""
    args = sys.argv[1:] if argv is None else list(argv)
    plain = plain_options(args)
    if plain is not None:
        guard(TOOL, lambda: execute(**plain))
    from dockit.cli import run

    run(build_app(), TOOL, args)
