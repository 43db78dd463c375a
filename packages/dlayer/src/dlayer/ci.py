"""dive's ``--ci`` rules with dive's defaults: lowestEfficiency 0.9, highestWastedBytes disabled,
highestUserWastedPercent 0.1; ``disabled`` turns a rule off. The figures are dive's (see dlayer.dive)."""

from __future__ import annotations

from dataclasses import dataclass

from dlayer.dive import DiveFigures
from dlayer.units import parse_size
from dockit.errors import UsageError

DISABLED = "disabled"
DEFAULTS = {"lowestEfficiency": "0.9", "highestWastedBytes": DISABLED, "highestUserWastedPercent": "0.1"}


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule: ``PASS``, ``FAIL`` or ``SKIP``, with dive's message when it fails."""

    name: str
    status: str
    message: str = ""


def _threshold(name: str, value: str) -> float | None:
    """A rule's threshold (a size for highestWastedBytes, else a number), None when ``disabled``; one that does
    not parse is a UsageError."""
    value = value.strip()
    if value == DISABLED:
        return None
    if name == "highestWastedBytes":
        try:
            return parse_size(value)
        except ValueError:
            raise UsageError(f"--ci rule {name}: not a size: {value!r}") from None
    try:
        return float(value)
    except ValueError:
        raise UsageError(f"--ci rule {name}: not a number: {value!r}") from None


def check(settings: dict[str, str]) -> None:
    """Refuse unknown rules and thresholds that do not parse (before any archive is read)."""
    for name, value in settings.items():
        if name not in DEFAULTS:
            raise UsageError(f"unknown --ci rule {name!r}")
        _threshold(name, value)


def evaluate(figures: DiveFigures, settings: dict[str, str] | None = None) -> list[RuleResult]:
    """Evaluate the rules (sorted by name, as dive lists them); a bad threshold is a UsageError."""
    values = {**DEFAULTS, **(settings or {})}
    results = []
    for name in sorted(values):
        limit = _threshold(name, values[name])
        if limit is None:
            results.append(RuleResult(name, "SKIP", "rule disabled"))
            continue
        msg = ""
        if name == "lowestEfficiency" and limit > figures.efficiency:
            msg = f"image efficiency is too low (efficiency={figures.efficiency} < threshold={limit})"
        elif name == "highestWastedBytes" and figures.inefficient_bytes > limit:
            msg = f"too many bytes wasted (wasted-bytes={figures.inefficient_bytes} > threshold={limit})"
        elif name == "highestUserWastedPercent" and limit < figures.user_wasted_percent:
            msg = (
                "too many bytes wasted, relative to the user bytes added "
                f"(%-user-wasted-bytes={figures.user_wasted_percent} > threshold={limit})"
            )
        results.append(RuleResult(name, "FAIL", msg) if msg else RuleResult(name, "PASS"))
    return results


def render(results: list[RuleResult]) -> str:
    """dive's Results block: one line per rule, then the tally."""
    lines = ["Results:"]
    for r in results:
        lines.append(f"  {r.status}: {r.name}" + (f": {r.message}" if r.message and r.status != "PASS" else ""))
    failed = sum(r.status == "FAIL" for r in results)
    passed = sum(r.status == "PASS" for r in results)
    skipped = sum(r.status == "SKIP" for r in results)
    verdict = "FAIL" if failed else "PASS"
    lines.append(
        f"Result:{verdict} [Total:{len(results)}] [Passed:{passed}] [Failed:{failed}] [Warn:0] [Skipped:{skipped}]"
    )
    return "\n".join(lines) + "\n"
