"""Property tests over every parser-facing entry point (issue 21): whatever the generated input, the code either
works or raises one safe line (a DockitError), never a traceback. ``make fuzz`` runs the same generators longer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.hostile.generators import Target, targets

# Small and quick (the whole module ~10 s): the aimed inputs are named in the other modules of tests/hostile, and
# make fuzz draws these generators by the ten thousand.
EXAMPLES = {"dockerfile": 120, "dockerignore": 100, "json": 100, "archive": 70, "http": 20}


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_no_traceback(target: Target) -> None:
    @settings(
        max_examples=EXAMPLES[target.name],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(target.strategy)
    def check(value: Any) -> None:
        target.check(value)

    check()
