"""The typer command of a tool, derived from its ``Options`` declaration: rich ``--help`` and shell completion.

Only ``-h/--help``, ``--install-completion``, ``--show-completion`` and the shell's completion requests come here
(:func:`dockit.cli.main` routes them, and hands click only the word that asks for it); every other command line is
read by :mod:`dockit.argv`, so the command's body never runs.
"""

from __future__ import annotations

import copyreg
import importlib
import importlib.machinery
import inspect
import os
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Annotated, Any

import typer

from dockit.argv import HELP_NAMES, VERSION_NAMES
from dockit.options import Spec, specs

# typer.rich_utils imports rich.markdown (with markdown-it and pygments: a third of a whole help run) and
# rich.traceback at module level, and uses them only in rich_markup_mode="markdown" and for pretty tracebacks: our
# commands have neither (the default markup, "rich"; pretty_exceptions_enable=False). While rich_utils executes,
# those two modules are stand-ins whose classes import the real ones when first used, so the help is rendered
# exactly as before; only that one import sees them: rich.markdown imported anywhere else is the real module.
# typer.rich_utils.Markdown and .Traceback stay bound to the stand-ins afterwards (rebinding them would import what
# we avoid), so the stand-ins behave as the real classes where other code of the process may meet them: a call, an
# attribute, isinstance/issubclass, a class statement subclassing one (a real subclass of the real class), pickling
# (which loads as the real class). Only identity differs: ``rich_utils.Markdown is rich.markdown.Markdown`` is False.
_UNUSED_BY_OUR_HELP = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """The type of a stand-in class: a call, an attribute or an isinstance check uses the real class."""

    _module: str
    _name: str  # the real class's name, kept apart from __name__ and __qualname__, which anyone may assign

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> Any:  # a _Deferred for a stand-in, the real metaclass's instance for a subclass
        if not any(isinstance(base, _Deferred) for base in bases):  # a stand-in (_stand_ins makes them baseless)
            return super().__new__(mcs, name, bases, namespace, **kwargs)
        # a class statement with a stand-in among its bases (Python picks the bases' metaclass, this one): the class
        # it means, from the real bases, by their own metaclass, so it is a real subclass of the real class
        real_bases = tuple(base._real() if isinstance(base, _Deferred) else base for base in bases)
        meta, real_namespace, kwargs = types.prepare_class(name, real_bases, kwargs)
        real_namespace.update(namespace)  # with __classcell__: the real class is the one zero-argument super() sees
        return meta(name, real_bases, real_namespace, **kwargs)

    def _real(cls) -> type:
        real = getattr(importlib.import_module(cls._module), cls._name)
        if isinstance(real, _Deferred):  # used by rich_utils's own import: a typer that needs it there
            raise ImportError(f"{cls._module}.{cls._name} used while a stand-in (dockit.typer_command)")
        return real  # type: ignore[no-any-return]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real(), name)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls._real())

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls._real())


def _pickled_as_the_real_class(cls: _Deferred) -> tuple[Any, tuple[type]]:
    # pickle saves a class by reference to module.qualname, which is the real class, not this one, so it would refuse
    # (and __reduce__ on a metaclass is never asked): copyreg's table is, for classes of a custom metaclass too. The
    # pickle loads as copy.copy(the real class), which is that class (copy returns classes unchanged, as documented),
    # and needs only rich and the standard library, not dockit.
    import copy

    return copy.copy, (cls._real(),)


copyreg.pickle(_Deferred, _pickled_as_the_real_class)


@contextmanager
def _stand_ins(classes: dict[str, str]) -> Iterator[None]:
    """``sys.modules[module]`` is a stand-in holding one ``_Deferred`` class, for each module of ``classes`` (module
    -> class name) that is not imported yet; the real modules come back on the way out."""
    added = [name for name in classes if name not in sys.modules]
    for name in added:
        module = ModuleType(name, f"stands in for {name} while typer.rich_utils is imported (dockit.typer_command)")
        namespace = {"_module": name, "_name": classes[name], "__module__": name}
        setattr(module, classes[name], _Deferred(classes[name], (), namespace))
        sys.modules[name] = module
    try:
        yield
    finally:
        for name in added:
            del sys.modules[name]


class _RichUtilsLoader(importlib.machinery.SourceFileLoader):
    def exec_module(self, module: ModuleType) -> None:
        with _stand_ins(_UNUSED_BY_OUR_HELP):
            super().exec_module(module)


class _RichUtilsFinder:  # a meta path finder (importlib.abc would import importlib.resources, tempfile...)
    """Finds typer.rich_utils (imported by typer only once help or a completion's description is rendered, never
    for bash completion) and executes it with the stand-ins; any other module is left to the usual finders. It leaves
    sys.meta_path once asked for typer.rich_utils: the module is imported then, and no other import pays for it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "typer.rich_utils":
            return None
        # a new list, not list.remove(): the import system is iterating over the old one, and would skip the finder
        # after this one when it returns None below
        sys.meta_path = [finder for finder in sys.meta_path if finder is not self]
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return None  # not a plain source file (zipped, frozen): the usual finders import it, markdown and all
        spec.loader = _RichUtilsLoader(spec.loader.name, spec.loader.path)
        return spec


def _defer_rich_modules_our_help_never_uses() -> None:
    # once: the finder is on sys.meta_path until typer.rich_utils is imported, which is then in sys.modules (it may
    # come back only if that import failed, for the next try)
    if "typer.rich_utils" not in sys.modules and not any(isinstance(f, _RichUtilsFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _RichUtilsFinder())


def _annotation(spec: Spec) -> Any:
    if spec.kind == "flag":
        return bool
    if spec.kind == "int":
        return int
    if spec.kind == "choice":
        return type(spec.default)
    if spec.kind == "multiple":
        return list[str] | None
    return str if spec.required or spec.default is not None else str | None


def _parameter(spec: Spec) -> inspect.Parameter:
    default = None if spec.kind == "multiple" else spec.default
    info: Any
    if spec.positional:
        info = typer.Argument(metavar=spec.metavar or None, help=spec.help, show_default=False)
    else:
        info = typer.Option(
            *spec.names,
            help=spec.help,
            metavar=spec.metavar,
            min=spec.minimum,
            show_default=spec.show_default and default not in (None, False),
        )
    if spec.required:
        default = inspect.Parameter.empty
    return inspect.Parameter(
        spec.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[_annotation(spec), info]
    )


def _version_parameter() -> inspect.Parameter:
    info = typer.Option(*VERSION_NAMES, help="Print the version and exit.", is_eager=True)
    return inspect.Parameter("version", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, info])


def build_command(tool: str, help: str, cls: type) -> typer.Typer:
    """A typer app whose one command declares exactly the options of ``cls`` (plus ``-V/--version``)."""
    _defer_rich_modules_our_help_never_uses()
    if os.environ.get("NO_COLOR"):
        from typer import rich_utils

        rich_utils.COLOR_SYSTEM = None  # rich alone would drop colours but keep bold and dim (https://no-color.org)

    params = [_parameter(s) for s in specs(cls)]
    params.append(_version_parameter())
    # required parameters first: a Python signature cannot put one after a parameter with a default
    params.sort(key=lambda p: p.default is not inspect.Parameter.empty)

    def command(**_values: Any) -> None:
        raise AssertionError("the typer command only shows help and completions; dockit.argv reads command lines")

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = tool
    app = typer.Typer(
        add_completion=True,
        rich_markup_mode="rich",  # typer's default, said here: the stand-ins above rely on it (never "markdown")
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_NAMES)},
    )
    app.command(help=help)(command)
    return app
