"""One service's .dockerignore: what it wants, resolved (dependencies), generated, and checked for what the build
needs but will not get. The single-service command and ``--compose`` both come through :func:`build`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dignore.generate import Rules, generate
from dignore.infer import ContextUse
from dignore.kept import Kept
from dignore.plan import Plan, Want, resolve
from dockit.build_context import ContextEntry
from dockit.ignore import PatternMatcher


@dataclass
class Request:
    """What one generated file must keep: ``wants``, what the Dockerfile reads (with where it says so), options."""

    context: Path
    wants: list[Want]
    uses: list[tuple[ContextUse, str]] = field(default_factory=list)
    keep_root_files: bool = True
    rules: Rules = field(default_factory=Rules)
    deps: bool = True
    command: str = "dignore"


@dataclass
class Generated:
    """The .dockerignore text, its patterns compiled, warnings, notes, and why each path is kept."""

    text: str
    matcher: PatternMatcher
    warnings: list[str]
    notes: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    plan: Plan | None = None
    root_files: list[str] = field(default_factory=list)
    sent: list[ContextEntry] | None = None  # what docker sends with it, when generating walked the tree already


def build(request: Request) -> Generated:
    """The generated file for ``request``."""
    plan = resolve(request.context, request.wants, request.deps)
    out = generate(request.context, plan.kept, request.keep_root_files, request.command, request.rules)
    matcher = PatternMatcher.parse(out.text, "generated .dockerignore")
    warnings = plan.warnings + out.warnings + _unreachable(matcher, plan.kept) + _left_out(matcher, plan, request)
    explanation = plan.explain(out.root_files)
    return Generated(out.text, matcher, warnings, [], explanation, plan, out.root_files, out.sent)


def _unreachable(matcher: PatternMatcher, kept: list[Kept]) -> list[str]:
    """A warning for each kept path docker's walk never reaches (an escaped name in a directory above it)."""
    warnings = []
    for k in kept:
        parts = [] if k.path == "." else k.path.split("/") if k.glob else k.path.split("/")[:-1]
        for i in range(len(parts)):
            above = "/".join(parts[: i + 1])
            if matcher.matches(above) and not matcher.may_reinclude_below(above):
                warnings.append(
                    f"{k.path}: docker will not send it: it skips {above}/, which no exception spells literally"
                    " (a name with pattern characters)"
                )
                break
    return warnings


def _left_out(matcher: PatternMatcher, plan: Plan, request: Request) -> list[str]:
    """A warning for each path the Dockerfile reads that a carried-over .dockerignore or the root rules leave out."""
    warnings = []
    for use, where in request.uses:
        if use.glob is None and use.path != "." and matcher.matches(use.path):
            owner = next((k.path for k in plan.kept if k.is_dir and use.path.startswith(k.path + "/")), None)
            by = f"{owner}/.dockerignore" if owner else "the generated .dockerignore"
            if request.rules.root.matches(use.path):
                by = "the root .dockerignore"
            warnings.append(f"{where}: left out by {by}; the build will not find it")
    return warnings
