"""Read a command line against the options an ``Options`` dataclass declares (:mod:`dockit.options`), without typer.

Importing typer costs ~0.1 s, more than a whole targd run, so every run reads its command line here; typer is
loaded only to print ``--help`` and to complete words in the shell. The grammar is click's: ``-tVALUE``,
``-t VALUE``, ``--target=VALUE``, ``--target VALUE``, bundled short flags (``-qa``), ``--`` ends the options, the
last of a repeated single-value option wins, a value may start with ``-`` (``-n -1``) unless it is one of the
options (``-t --list``: the value was forgotten). Every mistake is a :class:`~dockit.errors.UsageError` (exit 2).

>>> from dataclasses import dataclass
>>> from dockit.options import argument, flag, option
>>> @dataclass
... class Opts:
...     dockerfile: str | None = argument(metavar="[DOCKERFILE]", help="The Dockerfile.")
...     target: str | None = option("-t", "--target", help="Stage.")
...     quiet: bool = flag("-q", "--quiet", help="No warnings.")
>>> parse(["-t", "app", "-q", "Dockerfile"], Opts, "targd")
Opts(dockerfile='Dockerfile', target='app', quiet=True)
>>> parse(["--bogus"], Opts, "targd")
Traceback (most recent call last):
dockit.errors.UsageError: No such option: --bogus (see 'targd --help')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from dockit.errors import UsageError
from dockit.options import Spec, specs

T = TypeVar("T")

HELP_NAMES = ("-h", "--help")
VERSION_NAMES = ("-V", "--version")


def option_words(argv: Sequence[str]) -> list[str]:
    """The words before ``--``: where ``--help`` and ``--version`` count."""
    words = list(argv)
    return words[: words.index("--")] if "--" in words else words


def parse(argv: Sequence[str], cls: type[T], tool: str) -> T:
    """An instance of ``cls`` from ``argv``; options not given keep the field defaults."""
    declared = specs(cls)
    by_name = {name: s for s in declared for name in (*s.names, *s.aliases)}
    positionals = [s for s in declared if s.positional]
    values: dict[str, Any] = {}
    free: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            free.extend(args[i:])
            break
        if arg == "-" or not arg.startswith("-"):
            free.append(arg)
            continue
        attached: str | None = None
        if arg.startswith("--"):
            name, eq, rest = arg.partition("=")
            attached = rest if eq else None
        else:
            name, attached = arg[:2], (arg[2:] or None)
        spec = by_name.get(name)
        if spec is None:
            raise _unknown(name, by_name, tool)
        if spec.kind == "flag":
            if attached is not None and name.startswith("--"):
                raise UsageError(f"Option '{name}' does not take a value.")
            values[spec.dest] = True
            if attached is not None:  # bundled short flags: -qa
                args.insert(i, "-" + attached)
            continue
        if attached is None:
            # the next word is the value, as in click, unless it is one of the options (then it was forgotten)
            if i == len(args) or _is_option(args[i], by_name):
                if spec.bare is None:
                    raise UsageError(f"Option '{name}' requires an argument.")
                attached = spec.bare
            else:
                attached = args[i]
                i += 1
        value = _convert(spec, name, attached)
        if spec.kind == "multiple":
            values.setdefault(spec.dest, []).append(value)
        else:
            values[spec.dest] = value
    _take_positionals(free, positionals, values, tool)
    for spec in declared:
        if spec.required and spec.dest not in values:
            what = "argument" if spec.positional else "option"
            raise UsageError(f"Missing {what} {spec.label}. (see '{tool} --help')")
    return cls(**values)


def _is_option(word: str, by_name: dict[str, Spec]) -> bool:
    name = word.partition("=")[0] if word.startswith("--") else word[:2]
    return name in by_name or name in HELP_NAMES or name in VERSION_NAMES


def _take_positionals(free: list[str], positionals: list[Spec], values: dict[str, Any], tool: str) -> None:
    for spec in positionals:
        if spec.variadic:
            values[spec.dest] = list(free)
            free.clear()
        elif free:
            values[spec.dest] = free.pop(0)
    if free:
        raise UsageError(
            f"Got unexpected extra argument{'s' if len(free) > 1 else ''} ({' '.join(free)}) (see '{tool} --help')"
        )


def _convert(spec: Spec, name: str, text: str) -> object:
    label = f"'{name}'" if spec.positional else spec.label
    if spec.kind == "int":
        try:
            number = int(text)
        except ValueError:
            raise UsageError(f"Invalid value for {label}: {text!r} is not a valid integer.") from None
        if spec.minimum is not None and number < spec.minimum:
            raise UsageError(f"Invalid value for {label}: {number} is not in the range x>={spec.minimum}.")
        return number
    if spec.kind == "choice":
        if text not in spec.choices:
            listed = ", ".join(repr(c) for c in spec.choices)
            raise UsageError(f"Invalid value for {label}: {text!r} is not one of {listed}.")
        assert spec.default is not None
        return type(spec.default)(text)
    return text


def _unknown(name: str, by_name: dict[str, Spec], tool: str) -> UsageError:
    import difflib

    near = difflib.get_close_matches(name, [n for n in by_name if n.startswith("--")], n=1)
    hint = f" Did you mean {near[0]}?" if near else ""
    return UsageError(f"No such option: {name}{hint} (see '{tool} --help')")
