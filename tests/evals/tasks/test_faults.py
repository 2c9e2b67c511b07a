"""The faults suite: one row per registered case, gated at 100%, shown as fault / surface / outcome / data kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.checks.faults.registry import FaultCase, Outcome
from evals.suite.report import faults_table
from evals.suite.summary import check_gates
from evals.tasks.base import BuildContext
from evals.tasks.faults import Faults


def _case(name: str, ok: bool) -> FaultCase:
    def run(tmp: Path) -> Outcome:
        assert tmp.is_dir()  # each case gets its own scratch folder
        return Outcome(
            exit_code=1 if ok else 0, message=f"error: {name}", traceback=not ok, data_kept="sessions",
            ok=ok, detail="" if ok else "exit code 0, expected 1\n--- shown:\n...",
        )  # fmt: skip

    return FaultCase(name, "ask", run)


@pytest.fixture
def two_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "evals.checks.faults.registry.all_cases", lambda: [_case("held", True), _case("broken", False)]
    )


def test_each_case_is_a_row_and_one_failure_fails_the_gate(two_cases: None) -> None:
    rows = Faults().rows(BuildContext())
    assert [(r["fault"], r["surface"], r["correct"]) for r in rows] == [
        ("held", "ask", True),
        ("broken", "ask", False),
    ]
    (gate,) = [g for g in check_gates(rows) if g.suite == "faults"]
    assert gate.passed is False and gate.value == 0.5


def test_the_table_shows_fault_surface_outcome_and_data_kept(two_cases: None) -> None:
    table = faults_table(Faults().rows(BuildContext()))
    assert table.headers == ["fault", "surface", "outcome", "data kept"]
    by_fault = {r[0]: r for r in table.rows}
    assert by_fault["held"][2] == "ok · exit 1: error: held" and by_fault["held"][3] == "sessions"
    assert by_fault["broken"][2].startswith("FAILED (exit code 0, expected 1)")
