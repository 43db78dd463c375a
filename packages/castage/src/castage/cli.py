"""castage's command line: options -> :func:`castage.generate.generate` -> the script on stdout."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from castage import __version__
from castage.mode import Mode
from dockit.cli import version_callback

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command(
    help="Print a bash script that pulls, builds, tags (and with --push pushes) every stage of a multi-stage "
    "Dockerfile, so that CI builds reuse each stage's cache."
)
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
        typer.Option("-t", "--target", help="Only this stage and the stages it needs (default: every named stage)."),
    ] = None,
    push: Annotated[bool, typer.Option("--push", help="Push each stage image after building it.")] = False,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="legacy: stage images + inline cache; buildx: registry cache per stage; gha: GitHub Actions cache.",
        ),
    ] = Mode.LEGACY,
    build_arg: Annotated[
        list[str] | None,
        typer.Option(
            "--build-arg", metavar="K=V", help="Passed on to every build, and resolves FROM $K; K alone: from the env."
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback("castage", __version__), is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
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


def main() -> NoReturn:
    from dockit.cli import run

    run(app, "castage")
