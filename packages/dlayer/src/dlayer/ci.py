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


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise UsageError(f"--ci rule {name}: not a number: {value!r}") from None


def check(settings: dict[str, str]) -> None:
    """Refuse unknown rules and thresholds that do not parse (before any archive is read)."""
    for name, value in settings.items():
        if name not in DEFAULTS:
            raise UsageError(f"unknown --ci rule {name!r}")
        value = value.strip()
        if value == DISABLED:
            continue
        if name == "highestWastedBytes":
            try:
                parse_size(value)
            except ValueError:
                raise UsageError(f"--ci rule {name}: not a size: {value!r}") from None
        else:
            _float(name, value)


def evaluate(figures: DiveFigures, settings: dict[str, str] | None = None) -> list[RuleResult]:
    """Evaluate the rules (sorted by name, as dive lists them); a bad threshold is a UsageError."""
    values = {**DEFAULTS, **(settings or {})}
    results = []
    for name in sorted(values):
        value = values[name].strip()
        if value == DISABLED:
            results.append(RuleResult(name, "SKIP", "rule disabled"))
            continue
        if name == "lowestEfficiency":
            limit = _float(name, value)
            if limit > figures.efficiency:
                msg = f"image efficiency is too low (efficiency={figures.efficiency} < threshold={limit})"
                results.append(RuleResult(name, "FAIL", msg))
                continue
        elif name == "highestWastedBytes":
            try:
                most = parse_size(value)
            except ValueError:
                raise UsageError(f"--ci rule {name}: not a size: {value!r}") from None
            if figures.inefficient_bytes > most:
                msg = f"too many bytes wasted (wasted-bytes={figures.inefficient_bytes} > threshold={most})"
                results.append(RuleResult(name, "FAIL", msg))
                continue
        elif name == "highestUserWastedPercent":
            limit = _float(name, value)
            share = figures.user_wasted_percent
            if limit < share:
                msg = (
                    "too many bytes wasted, relative to the user bytes added "
                    f"(%-user-wasted-bytes={share} > threshold={limit})"
                )
                results.append(RuleResult(name, "FAIL", msg))
                continue
        results.append(RuleResult(name, "PASS"))
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
