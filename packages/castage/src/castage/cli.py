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

from castage.mode import Mode
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
]
HELP = (
    "Print a bash script that pulls, builds, tags (and with --push pushes) every stage of a multi-stage "
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
) -> None:
    """Read the Dockerfile, print the script: what either path runs once the options are read."""
    from castage.generate import DEFAULT_DOCKERFILE, generate
    from dockit.cli import read_bytes, write_output

    path = DEFAULT_DOCKERFILE if file is None else file
    script = generate(
        read_bytes(path),
        image=image,
        path=path,
        file_given=file is not None,
        context=context,
        target=target,
        build_args=build_arg or (),
        push=push,
        mode=mode,
    )
    write_output("-", script)


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
        mode: Annotated[
            Mode,
            typer.Option(
                "--mode",
                help="legacy: stage images + inline cache; buildx: registry cache per stage; "
                "gha: GitHub Actions cache.",
            ),
        ] = Mode.LEGACY,
        build_arg: Annotated[
            list[str] | None,
            typer.Option(
                "--build-arg",
                metavar="K=V",
                help="Passed on to every build, and resolves FROM $K; K alone: from the env.",
            ),
        ] = None,
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=version_callback(TOOL, __version__), is_eager=True, help="Show the version."
            ),
        ] = False,
    ) -> None:
        execute(image, file, context, target, push, mode, build_arg)

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
