"""Every service of a compose file: one ``<Dockerfile>.dockerignore`` beside each Dockerfile (BuildKit reads it
instead of the context's .dockerignore).

A service with a ``build:`` section (the compose spec's string form, a context, or its mapping form: ``context``,
``dockerfile``, ``target``, ``additional_contexts``) keeps: its Dockerfile's directory, what the stages its target
needs read from the context (a whole-context ``COPY . .`` adds nothing by itself), the workspace dependencies of
those, the root files, and its ``x-dignore: {keep: [...], exclude: [...]}``. Services that share a Dockerfile get
one file, the union of what each needs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dignore.service import Generated
from dockit.errors import DockitError, UsageError

NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
SUFFIX = ".dockerignore"
MAX_NODES = 10_000  # values in one service's build section; real ones have a handful


@dataclass
class ServiceBuild:
    """One service's build, paths as the compose file means them (relative to its directory, then joined)."""

    service: str
    context: Path
    dockerfile: Path
    target: str | None = None
    additional_contexts: dict[str, str] = field(default_factory=dict)
    keep: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    @property
    def output(self) -> Path:
        """Where BuildKit looks for this build's ignore file: beside the Dockerfile, its name plus .dockerignore."""
        return self.dockerfile.with_name(self.dockerfile.name + SUFFIX)


@dataclass
class Compose:
    """The builds of a compose file, and notes about the services dignore leaves alone."""

    path: Path
    builds: list[ServiceBuild]
    notes: list[str] = field(default_factory=list)


_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, env: Mapping[str, str], where: str = "") -> str:
    """Compose's interpolation: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``,
    ``${VAR+alt}``, ``${VAR:?error}``, ``${VAR?error}``; ``$$`` is a ``$``. Unset variables are empty.

    >>> interpolate("svc/${APP:-api}/$KIND.Dockerfile $$HOME", {"KIND": "prod"})
    'svc/api/prod.Dockerfile $HOME'
    """

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg, val = m.group(3), m.group(4) or "", env.get(name)
        unset = val is None or (val == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset else str(val)
        if op in (":+", "+"):
            return "" if unset else arg
        if op in (":?", "?") and unset:
            raise DockitError(f"{name}: {arg or 'required variable is not set'}", path=where or None)
        return val or ""

    return _VARIABLE.sub(one, value)


def environment(directory: Path) -> dict[str, str]:
    """What compose interpolates with: the project's ``.env`` file (``KEY=VALUE`` lines), the environment over it."""
    env: dict[str, str] = {}
    try:
        text = (directory / ".env").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    for line in text.splitlines():
        key, eq, value = line.strip().removeprefix("export ").partition("=")
        if eq and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key.strip()] = value
    return {**env, **os.environ}


def find(directory: Path = Path(".")) -> Path:
    """The compose file docker compose would read in ``directory``."""
    for name in NAMES:
        if (directory / name).is_file():
            return directory / name
    raise UsageError(f"no compose file here ({', '.join(NAMES)}); give --compose FILE")


def read(path: Path) -> Compose:
    """The builds a compose file declares; errors name the file (and the service)."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it: 10x faster
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise DockitError("no such file", path=str(path)) from None
    except OSError as e:
        raise DockitError(e.strerror or str(e), path=str(path)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise DockitError(f"not valid YAML: {problem}", path=str(path), line=line) from None
    except UnicodeDecodeError:
        raise DockitError("not UTF-8 text", path=str(path)) from None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        raise DockitError("no 'services' mapping", path=str(path))
    base = path.parent
    env = environment(base)
    out = Compose(path, [])
    for name, service in services.items():
        if isinstance(service, dict) and "extends" in service:
            service = _extended(str(name), services, out.notes)
        if not isinstance(service, dict) or "build" not in service:
            continue
        budget = [MAX_NODES]  # YAML aliases can make a small file a huge tree: bound what is walked
        wanted = {k: _interpolated(service.get(k), env, str(path), budget) for k in ("build", "x-dignore")}
        build = _build(str(name), wanted, base, str(path))
        if isinstance(build, str):
            out.notes.append(build)
        else:
            out.builds.append(build)
    return out


def _extended(name: str, services: dict[Any, Any], notes: list[str], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The service with what ``extends: {service: base}`` (same file) gives it: the base's build, its own over it."""
    service = dict(services[name])
    ref = service.pop("extends")
    base = ref if isinstance(ref, str) else ref.get("service") if isinstance(ref, dict) else None
    if isinstance(ref, dict) and "file" in ref:
        notes.append(f"{name}: extends a service of {ref['file']}, which dignore does not read")
        return service
    if not isinstance(base, str) or base not in services or base in seen or not isinstance(services[base], dict):
        raise DockitError(f"service {name}: extends {base!r}, which is not a service here (or a cycle)")
    parent = _extended(base, services, notes, (*seen, name)) if "extends" in services[base] else services[base]
    mine, theirs = service.get("build"), parent.get("build")
    if theirs is not None:
        as_map = [b if isinstance(b, dict) else {"context": b} for b in (theirs, mine or {})]
        service["build"] = {**as_map[0], **as_map[1]}
    for key in ("x-dignore",):
        if key in parent and key not in service:
            service[key] = parent[key]
    return service


def _interpolated(value: Any, env: Mapping[str, str], where: str, budget: list[int]) -> Any:
    """``value`` with every string in it interpolated (mappings and lists followed, at most ``budget[0]`` nodes)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise DockitError(f"a service's build section has more than {MAX_NODES} values", path=where)
    if isinstance(value, str):
        return interpolate(value, env, where)
    if isinstance(value, dict):
        return {k: _interpolated(v, env, where, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolated(v, env, where, budget) for v in value]
    return value


def _strings(value: Any, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DockitError(f"{what} must be a list of strings", path=where)
    return list(value)


def _build(name: str, service: dict[str, Any], base: Path, file: str) -> ServiceBuild | str:
    """The service's build, or a note saying why dignore leaves it alone."""
    where = f"{file}: service {name}"
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        raise DockitError("build must be a string or a mapping", path=where)
    context = str(build.get("context", "."))
    if "://" in context or context.startswith("git@"):
        return f"{name}: its context is remote ({context}); nothing to cut"
    if "dockerfile_inline" in build:
        return f"{name}: an inline Dockerfile has no file to put a .dockerignore beside"
    root = Path(os.path.normpath(base / context))
    dockerfile = str(build.get("dockerfile", "Dockerfile"))
    dockerfile_path = Path(os.path.normpath(root / dockerfile))  # an absolute dockerfile replaces the context
    target = build.get("target")
    extra = build.get("additional_contexts") or {}
    if isinstance(extra, list):  # the list form: ["name=path"]
        extra = dict(item.partition("=")[::2] for item in extra if isinstance(item, str))
    if not isinstance(extra, dict):
        raise DockitError("additional_contexts must be a mapping or a list", path=where)
    x = service.get("x-dignore") or {}
    if not isinstance(x, dict) or set(x) - {"keep", "exclude"}:
        raise DockitError("x-dignore takes keep: [...] and exclude: [...]", path=where)
    return ServiceBuild(
        name,
        root,
        dockerfile_path,
        str(target) if target is not None else None,
        {str(k): str(v) for k, v in extra.items()},
        _strings(x.get("keep"), "x-dignore keep", where),
        _strings(x.get("exclude"), "x-dignore exclude", where),
    )


@dataclass
class Output:
    """One file to write: where, for which services, its text, the build context, and notes for stderr."""

    path: Path
    services: list[str]
    generated: Generated
    context: Path
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """The command-line options that apply to every service."""

    keep_root_files: bool = True
    drop_root_rules: bool = False
    exclude: tuple[str, ...] = ()
    deps: bool = True
    command: str = "dignore --compose"


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def outputs(compose: Compose, settings: Settings) -> list[Output]:
    """The file for each Dockerfile the compose file builds from (services sharing one get the union)."""
    groups: dict[Path, list[ServiceBuild]] = {}
    for b in compose.builds:
        groups.setdefault(b.output, []).append(b)
    return [_output(path, builds, settings) for path, builds in groups.items()]


def _output(path: Path, builds: list[ServiceBuild], settings: Settings) -> Output:
    from dignore.generate import Rules
    from dignore.infer import context_uses
    from dignore.kept import check, normalize
    from dignore.plan import Want
    from dignore.service import Request, build
    from dockit.build_context import read_dockerignore
    from dockit.cli import read_bytes
    from dockit.ignore import PatternMatcher

    first = builds[0]
    names = [b.service for b in builds]
    contexts = {b.context for b in builds}
    if len(contexts) > 1:
        raise DockitError(
            f"services {', '.join(names)} share this Dockerfile with different contexts", path=shown(path)
        )
    context = first.context
    if not context.is_dir():
        raise DockitError(f"service {first.service}: context is not a directory", path=shown(context))
    notes: list[str] = []
    if len(builds) > 1:
        targets = ", ".join(f"{b.service} ({b.target or 'last stage'})" for b in builds)
        notes.append(f"{shown(path)} serves {targets}: it keeps what any of them needs")
    dockerfile = shown(first.dockerfile)
    wants: list[Want] = []
    folder = os.path.relpath(first.dockerfile.parent, context)
    if folder == ".." or folder.startswith("../"):
        notes.append(f"{dockerfile} is outside the context: its directory is not kept")
    else:
        wants.append(Want(check(context, normalize(context, folder), folder, want_dir=True), f"holds {dockerfile}"))
    uses = []
    data = read_bytes(first.dockerfile)
    for b in builds:
        for use in context_uses(data, dockerfile, b.target):
            where = f"{dockerfile}:{use.line}: {use.keyword} {use.source}"
            if use.path == "." and use.glob is None:
                continue  # the whole context: what this tool is for; the Dockerfile's directory stands for it
            uses.append((use, where))
            wants.append(Want(check(context, use.path, where, want_dir=False, glob=use.glob), where))
        for keep in b.keep:
            rel = normalize(context, keep, "x-dignore keep")
            wants.append(Want(check(context, rel, f"{b.service}: x-dignore keep {keep}", want_dir=False), "x-dignore"))
    excludes = [*settings.exclude, *dict.fromkeys(p for b in builds for p in b.exclude)]
    root = PatternMatcher() if settings.drop_root_rules else read_dockerignore(context)
    request = Request(context, wants, uses, settings.keep_root_files, Rules(root, tuple(excludes)), settings.deps)
    request.command = settings.command
    generated = build(request)
    assert generated.plan is not None
    return Output(path, names, generated, context, notes)


def summary(out: Output) -> str:
    """``svc/api/Dockerfile.dockerignore: keeps lib/common, svc/api and 3 root files (12 files, 3.4 KiB)``."""
    from dignore.command import human
    from dockit.build_context import ContextSize, walk_context

    generated = out.generated
    assert generated.plan is not None
    kept = [k.path if not k.glob else f"{k.path}/{k.glob}" for k in generated.plan.kept]
    sent = generated.sent if generated.sent is not None else walk_context(out.context, generated.matcher)
    size = ContextSize.of(sent)
    roots = len(generated.root_files)
    return (
        f"{shown(out.path)}: keeps {', '.join(kept) or 'nothing'}{f' and {roots} root files' if roots else ''}"
        f" ({size.files} files, {human(size.bytes)})"
    )
