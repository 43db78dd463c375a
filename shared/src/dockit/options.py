"""Command-line options declared once, as metadata on the fields of a tool's ``Options`` dataclass.

Everything else is derived from that one declaration: the typer-free parser of :mod:`dockit.argv` (every plain run
and every usage error), and the typer command of :mod:`dockit.typer_command` (``--help`` and shell completion). The
option groups several tools share are declared here, once: the Dockerfile positional and ``-f``, ``--build-arg``,
``--platform``, ``-o`` and the black-style ``--check``/``--diff``.

This module imports neither typer nor the tools; declaring options costs nothing at start-up.

>>> from dataclasses import dataclass
>>> @dataclass
... class Opts:
...     target: str | None = option("-t", "--target", help="Stage to print.")
...     quiet: bool = flag("-q", "--quiet", help="No warnings.")
>>> [(s.dest, s.names, s.kind) for s in specs(Opts)]
[('target', ('-t', '--target'), 'value'), ('quiet', ('-q', '--quiet'), 'flag')]
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Literal

from dockit.errors import UsageError

_KEY = "dockit.option"
STDIO = "-"
DEFAULT_DOCKERFILE = "Dockerfile"

Kind = Literal["value", "flag", "multiple", "int", "choice"]


@dataclass(frozen=True)
class Spec:
    """One option or positional as declared: its spellings, help, and what it takes."""

    names: tuple[str, ...]  # empty for a positional
    help: str
    kind: Kind = "value"
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # accepted spellings that --help does not show
    minimum: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    variadic: bool = False  # a positional taking any number of words
    show_default: bool = True
    bare: str | None = None  # the value of the option given without one (``--compose`` alone); None: it needs one
    dest: str = ""  # the field's name, filled in by specs()
    default: Any = None

    @property
    def positional(self) -> bool:
        return not self.names

    @property
    def label(self) -> str:
        """How usage errors name it: ``'-t' / '--target'``, or the metavar of a positional."""
        if self.positional:
            return f"'{self.metavar or self.dest.upper()}'"
        return " / ".join(f"'{n}'" for n in self.names)


def option(
    *names: str,
    help: str,
    default: Any = None,
    metavar: str | None = None,
    aliases: tuple[str, ...] = (),
    minimum: int | None = None,
    required: bool = False,
    multiple: bool = False,
    show_default: bool = True,
    bare: str | None = None,
) -> Any:
    """A dataclass field for an option. What it takes follows from its default: ``False`` a flag, an int (or a
    ``minimum``) a number, an enum member one of its values, ``multiple=True`` a list (repeatable), else a string;
    with ``bare``, the value may be left out (the end of the line or an option next): it is then ``bare``."""
    kind: Kind = "value"
    choices: tuple[str, ...] = ()
    if multiple:
        kind = "multiple"
    elif default is False:
        kind = "flag"
    elif isinstance(default, enum.Enum):
        kind, choices = "choice", tuple(str(m.value) for m in type(default))
    elif minimum is not None or (isinstance(default, int) and not isinstance(default, bool)):
        kind = "int"
    spec = Spec(names, help, kind, metavar, aliases, minimum, choices, required, show_default=show_default, bare=bare)
    if multiple:
        return dataclasses.field(default_factory=list, metadata={_KEY: spec})
    return dataclasses.field(default=default, metadata={_KEY: spec})


def flag(*names: str, help: str) -> Any:
    """A dataclass field for an on/off option (default off)."""
    return option(*names, help=help, default=False)


def argument(*, help: str, metavar: str, variadic: bool = False, required: bool = False) -> Any:
    """A dataclass field for a positional: one word (default None; ``required``: it must be there), or any number
    (``variadic``: a list)."""
    kind: Kind = "multiple" if variadic else "value"
    spec = Spec((), help, kind, metavar, required=required, variadic=variadic, show_default=False)
    if variadic:
        return dataclasses.field(default_factory=list, metadata={_KEY: spec})
    return dataclasses.field(default=None, metadata={_KEY: spec})


def specs(cls: type) -> list[Spec]:
    """The declared options and positionals of an ``Options`` dataclass, in field order; other fields are not
    options (they are filled in by the tool)."""
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_KEY)
        if isinstance(spec, Spec):
            default = [] if f.default_factory is not dataclasses.MISSING else f.default
            out.append(dataclasses.replace(spec, dest=f.name, default=default))
    return out


# The groups several tools share: each a function, because a dataclass field object cannot be reused.


def dockerfile_argument(*, variadic: bool = False) -> Any:
    """The Dockerfile positional (``-`` reads stdin; default ./Dockerfile); see :func:`dockerfile_path`."""
    if variadic:
        return argument(
            metavar="[DOCKERFILE]...",
            help="The Dockerfile ('-' reads stdin; default: ./Dockerfile); several only with --check.",
            variadic=True,
        )
    return argument(metavar="[DOCKERFILE]", help="The Dockerfile ('-' reads stdin; default: ./Dockerfile).")


def file_option(help: str = "Same as DOCKERFILE.", aliases: tuple[str, ...] = ()) -> Any:
    """``-f/--file``: the Dockerfile, for tools that take it as an option (as docker build does)."""
    return option("-f", "--file", help=help, metavar="PATH", aliases=aliases, show_default=False)


def build_arg_option(help: str = "Value for an ARG (repeatable); a bare NAME takes it from the environment.") -> Any:
    """``--build-arg NAME=VALUE`` as docker build takes it; turned into values by :func:`dockit.cli.build_args`."""
    return option("--build-arg", help=help, metavar="NAME=VALUE", multiple=True)


def platform_option(help: str = "Sets the TARGET*/BUILD* ARGs (default: linux/amd64).", multiple: bool = False) -> Any:
    """``--platform OS/ARCH[/VARIANT]`` (``multiple``: repeatable), checked by :func:`platform`."""
    return option("--platform", help=help, metavar="OS/ARCH", multiple=multiple)


def output_option(help: str = "Write here ('-': stdout); a file is replaced atomically.") -> Any:
    """``-o/--output PATH`` (default stdout), written by :func:`dockit.cli.write_output`."""
    return option("-o", "--output", help=help, default=STDIO, metavar="PATH")


def check_option(help: str = "Write nothing; exit 1 if the output would change (0: up to date).") -> Any:
    """``--check`` as black and ruff format mean it: 0 nothing would change, 1 something would, 2 usage errors."""
    return flag("--check", help=help)


def diff_option(help: str = "Write nothing; print how the output would change (a unified diff).") -> Any:
    """``--diff``: print the change instead of making it."""
    return flag("--diff", help=help)


def dockerfile_path(positional: str | None, file: str | None) -> str:
    """The Dockerfile to read: the positional or ``-f`` (the same one twice is fine), default ./Dockerfile.

    >>> dockerfile_path(None, "-"), dockerfile_path("a", "a"), dockerfile_path(None, None)
    ('-', 'a', 'Dockerfile')
    >>> dockerfile_path("a", "b")
    Traceback (most recent call last):
    dockit.errors.UsageError: two Dockerfiles given: 'a' and -f 'b'
    """
    if positional is not None and file is not None and positional != file:
        raise UsageError(f"two Dockerfiles given: {positional!r} and -f {file!r}")
    return positional or file or DEFAULT_DOCKERFILE


def display_name(path: str) -> str:
    """How errors and reports name an input: ``<stdin>`` for ``-``."""
    return "<stdin>" if path == STDIO else path


def platform(value: str | None) -> str | None:
    """A ``--platform`` value, checked: ``OS/ARCH`` or ``OS/ARCH/VARIANT``.

    >>> platform("linux/arm64/v8")
    'linux/arm64/v8'
    >>> platform("amd64")
    Traceback (most recent call last):
    dockit.errors.UsageError: --platform 'amd64': expected OS/ARCH or OS/ARCH/VARIANT (e.g. linux/arm64)
    """
    import re

    if value is not None and not re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", value):
        raise UsageError(f"--platform {value!r}: expected OS/ARCH or OS/ARCH/VARIANT (e.g. linux/arm64)")
    return value
