"""``--ci``: rules an image must pass, exit 1 when one fails.

dive's three rules, with dive's names and defaults (lowestEfficiency 0.9, highestWastedBytes disabled,
highestUserWastedPercent 0.1), judge dive's figures (see :mod:`dlayer.dive`). Ours judge what the image really
wastes and what it holds: highestWastedBytesTrue and highestWastedPercent (the N-1 copies a later layer hid, each
counted once, of the whole image), maxFileSize (no file over SIZE outside the base layers) and forbid (paths that
must not be in any layer, deleted later or not: a secret removed in a later layer still ships). Ours are off
unless set, and only the rules set are listed. ``disabled`` turns any rule off.

Rules come from the command line, over a config file: ``.dlayer-ci.yaml`` (all rules) or dive's ``.dive-ci`` (its
three), read from the current directory unless one is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlayer.report import Report
from dlayer.units import human, parse_size
from dockit.archive.model import DIRECTORY
from dockit.errors import DockitError, UsageError

if TYPE_CHECKING:
    from dockit.ignore import PatternMatcher

DISABLED = "disabled"
CONFIG_FILES = (".dlayer-ci.yaml", ".dlayer-ci.yml", ".dive-ci")
FORBID = "forbid"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule: ``PASS``, ``FAIL`` or ``SKIP``, with the message when it fails; ``matches`` lists what it found
    (forbidden paths, files over the size), one line each."""

    name: str
    status: str
    message: str = ""
    matches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds by rule name (text, as given) and the forbidden path patterns; ``base_layers`` is how many
    bottom layers maxFileSize leaves out (None: one, when the image has more than one)."""

    thresholds: dict[str, str] = field(default_factory=dict)
    forbid: tuple[str, ...] = ()
    base_layers: int | None = None


def _ratio(name: str, value: str) -> float:
    """A share from 0 to 1: ``0.1`` or ``10%``; anything else (over 1, negative, nan) could never pass or fail."""
    text = value.strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"--ci rule {name}: not a number: {value!r}") from None
    if not 0 <= share <= 1:  # also false for nan
        raise UsageError(f"--ci rule {name}: {value!r} is not a share from 0 to 1 (a fraction like 0.1, or 10%)")
    return share


def _size(name: str, value: str) -> float:
    try:
        return parse_size(value)
    except ValueError:
        raise UsageError(f"--ci rule {name}: not a size: {value!r}") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """One threshold rule: its default, how its threshold reads, and the figure it judges (fail when ``above``
    it is over the threshold, else when under it)."""

    default: str
    read: Callable[[str, str], float]
    figure: Callable[[Report], float]
    above: bool
    describe: str  # message when it fails: {value} and {limit}


RULES: dict[str, Rule] = {
    "lowestEfficiency": Rule(
        "0.9", _ratio, lambda r: r.dive.efficiency, False,
        "image efficiency is too low (efficiency={value} < threshold={limit})",
    ),
    "highestWastedBytes": Rule(
        DISABLED, _size, lambda r: r.dive.inefficient_bytes, True,
        "too many bytes wasted (wasted-bytes={value} > threshold={limit})",
    ),
    "highestUserWastedPercent": Rule(
        "0.1", _ratio, lambda r: r.dive.user_wasted_percent, True,
        "too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={value} > threshold={limit})",
    ),
    "highestWastedBytesTrue": Rule(
        DISABLED, _size, lambda r: r.wasted_bytes, True,
        "the image carries {value_h} that later layers hid (threshold {limit_h})",
    ),
    "highestWastedPercent": Rule(
        DISABLED, _ratio, lambda r: r.wasted_bytes / r.size if r.size else 0.0, True,
        "{value_p} of the image is hidden by later layers (threshold {limit_p})",
    ),
}  # fmt: skip
SIZE_RULE = "maxFileSize"
DIVE_RULES = ("lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent")
NAMES = (*RULES, SIZE_RULE, FORBID)


def _matcher(patterns: Sequence[str]) -> PatternMatcher:
    """``--forbid`` patterns read as .dockerignore lines are (moby's rules: ``**``, a leading ``/`` dropped)."""
    from dockit.ignore import PatternMatcher

    return PatternMatcher.parse("\n".join(patterns), path="--forbid")


def check(rules: Rules) -> None:
    """Refuse unknown rules, thresholds that do not parse and bad patterns, before any image is read."""
    for name, value in rules.thresholds.items():
        if name not in RULES and name != SIZE_RULE:
            raise UsageError(f"unknown --ci rule {name!r} (rules: {', '.join(NAMES)})")
        if value.strip() != DISABLED:
            (_size if name == SIZE_RULE else RULES[name].read)(name, value)
    try:
        _matcher(rules.forbid)
    except DockitError as e:
        raise UsageError(str(e)) from None


def evaluate(report: Report, rules: Rules | None = None) -> list[RuleResult]:
    """Every rule's result, sorted by name as dive lists them: dive's three always (so the block reads as dive's),
    ours when they are set."""
    rules = rules or Rules()
    values = {name: RULES[name].default for name in DIVE_RULES} | rules.thresholds
    names = sorted([*values, FORBID] if rules.forbid else values)
    results = []
    for name in names:
        if name == FORBID:
            results.append(_forbid(report, rules.forbid))
        elif values[name].strip() == DISABLED:
            results.append(RuleResult(name, "SKIP", "rule disabled"))
        elif name == SIZE_RULE:
            results.append(_max_file_size(report, parse_size(values[name]), rules.base_layers))
        else:
            results.append(_threshold_rule(report, name, RULES[name], values[name]))
    return results


def _threshold_rule(report: Report, name: str, rule: Rule, text: str) -> RuleResult:
    limit = rule.read(name, text)
    value = rule.figure(report)
    if (value > limit) if rule.above else (value < limit):
        message = rule.describe.format(
            value=value,
            limit=limit,
            value_h=human(int(value)),
            limit_h=human(int(limit)),
            value_p=f"{value:.1%}",
            limit_p=f"{limit:.1%}",
        )
        return RuleResult(name, "FAIL", message)
    return RuleResult(name, "PASS")


def _max_file_size(report: Report, limit: int, base_layers: int | None) -> RuleResult:
    layers = report.image.layers
    skip = (1 if len(layers) > 1 else 0) if base_layers is None else base_layers
    over = [
        (e.size, layer.index, e.path)
        for layer in layers[skip:]
        for e in layer.entries
        if e.size > limit and e.type != DIRECTORY and not e.is_whiteout
    ]
    if not over:
        return RuleResult(SIZE_RULE, "PASS")
    over.sort(key=lambda t: (-t[0], t[1], t[2]))
    found = tuple(f"/{path} {human(size)} in layer {index}" for size, index, path in over)
    above = f"above the base layers ({skip})" if skip else "in the image"
    noun = "file" if len(over) == 1 else "files"
    return RuleResult(SIZE_RULE, "FAIL", f"{len(over)} {noun} over {human(limit)} {above}", found)


def _forbid(report: Report, patterns: Sequence[str]) -> RuleResult:
    matcher = _matcher(patterns)
    hidden = {(h.layer, h.entry.path): h for h in report.stack.hidden}
    # per directory, whether each pattern matches it or a parent: one match per pattern per path, not per ancestor
    below: dict[str, tuple[bool, ...]] = {"": tuple(False for _ in matcher.patterns)}

    def parent_flags(directory: str) -> tuple[bool, ...]:
        known = below.get(directory)
        if known is None:
            known = below[directory] = matcher.flags(directory, parent_flags(directory.rpartition("/")[0]))
        return known

    found = []
    for layer in report.image.layers:
        inside: str | None = None  # a matched directory: what lies below it is reported with it
        for e in layer.entries:
            if e.is_whiteout or (inside is not None and e.path.startswith(inside)):
                continue
            if matcher.decide(e.path, parent_flags(e.path.rpartition("/")[0])):
                h = hidden.get((layer.index, e.path))
                fate = f", {h.how} by layer {h.by} but still shipped in layer {layer.index}" if h else ""
                found.append(f"/{e.path} in layer {layer.index}{fate}")
                inside = e.path + "/" if e.type == DIRECTORY else None
    if not found:
        return RuleResult(FORBID, "PASS")
    noun = "path" if len(found) == 1 else "paths"
    return RuleResult(FORBID, "FAIL", f"{len(found)} forbidden {noun} in the image's layers", tuple(found))


def render(results: list[RuleResult]) -> str:
    """dive's Results block: one line per rule (what a failed rule found below it), then the tally."""
    lines = ["Results:"]
    for r in results:
        lines.append(f"  {r.status}: {r.name}" + (f": {r.message}" if r.message and r.status != "PASS" else ""))
        lines += [f"      {m}" for m in r.matches]
    failed = sum(r.status == "FAIL" for r in results)
    passed = sum(r.status == "PASS" for r in results)
    skipped = sum(r.status == "SKIP" for r in results)
    verdict = "FAIL" if failed else "PASS"
    lines.append(
        f"Result:{verdict} [Total:{len(results)}] [Passed:{passed}] [Failed:{failed}] [Warn:0] [Skipped:{skipped}]"
    )
    return "\n".join(lines) + "\n"


def document(results: list[RuleResult]) -> dict[str, Any]:
    """The results as JSON: the verdict and each rule."""
    return {
        "result": "FAIL" if any(r.status == "FAIL" for r in results) else "PASS",
        "rules": [
            {"name": r.name, "status": r.status, "message": r.message, "matches": list(r.matches)} for r in results
        ],
    }


def read_config(path: str | None, cwd: Path | None = None) -> Rules:
    """The rules of a config file: ``path``, else the first of CONFIG_FILES in ``cwd`` (none: no rules)."""
    if path is None:
        here = cwd or Path.cwd()
        found = next((here / name for name in CONFIG_FILES if (here / name).is_file()), None)
        if found is None:
            return Rules()
        path = str(found)
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("no such file", path=path) from None
    except IsADirectoryError:
        raise UsageError("is a directory", path=path) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        where = getattr(e, "problem_mark", None)
        raise DockitError(f"not a CI config: {getattr(e, 'problem', None) or e}", path=path,
                          line=where.line + 1 if where is not None else None) from None  # fmt: skip
    rules = _rules_of(doc, path)
    try:  # the file's values are the file's mistakes: name it
        check(rules)
    except UsageError as e:
        raise DockitError(e.message.replace("--ci rule ", "rules."), path=path) from None
    return rules


def _rules_of(doc: object, path: str) -> Rules:
    if doc is None:
        return Rules()
    rules = doc.get("rules", {}) if isinstance(doc, dict) else None
    if not isinstance(rules, dict):
        raise DockitError("expected a mapping 'rules:' of rule names to thresholds", path=path)
    thresholds: dict[str, str] = {}
    forbid: tuple[str, ...] = ()
    base = doc.get("baseLayers") if isinstance(doc, dict) else None
    for name, value in rules.items():
        if name == FORBID:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DockitError("rules.forbid: expected a list of path patterns", path=path)
            forbid = tuple(value)
        elif name in NAMES:
            thresholds[str(name)] = DISABLED if value is False else str(value)
        else:
            raise DockitError(f"unknown rule {name!r} (rules: {', '.join(NAMES)})", path=path)
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
        raise DockitError("baseLayers: expected a whole number", path=path)
    return Rules(thresholds, forbid, base)


def merged(config: Rules, thresholds: Mapping[str, str], forbid: Sequence[str], base_layers: int | None) -> Rules:
    """The command line's rules over the config file's: a threshold given replaces the file's, patterns add up."""
    return Rules(
        {**config.thresholds, **thresholds},
        (*config.forbid, *forbid),
        config.base_layers if base_layers is None else base_layers,
    )
