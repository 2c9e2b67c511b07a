"""The fault registry: cases register on a known surface, and every registered case holds."""

from pathlib import Path

import pytest

from evals.checks.faults.registry import Outcome, all_cases, fault


def test_unknown_surface_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown surface"):
        fault("x", "desktop")


@pytest.mark.slow
@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_fault_case_holds(case, tmp_path: Path) -> None:
    outcome: Outcome = case.run(tmp_path)
    assert outcome.ok, f"{case.id}: {outcome.detail or outcome.message}"
    assert not outcome.traceback, f"{case.id}: a traceback reached the user"
