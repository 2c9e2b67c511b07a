"""faults: every case of evals/checks/faults (issue 23), as rows of a `forage eval` run.

Each case injects one fault on one surface (ask, chat, pack, mcp, index) through the real CLI or
a real `forage mcp` process, and is correct when the user got the expected exit code, one
readable line, no traceback, and nothing saved was lost. The report shows them as one table:
fault, surface, outcome, data kept.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from evals.tasks.base import BuildContext, Gate, Suite

# The cases drive the project's fake Gemini server, which lives with the tests (a checkout has it).
_FAKES = Path(__file__).resolve().parents[2] / "tests" / "fakes" / "gemini_server.py"


def fault_row(case: Any, outcome: Any, seed: int, seconds: float) -> dict[str, Any]:
    """One row for a case and its Outcome."""
    score = float(outcome.ok)
    return {
        "suite": "faults", "size": 0, "strategy": "faults", "seed": seed, "window": None, "budget": None,
        "model": None, "answer_kind": "fault", "correct": outcome.ok, "score": score, "evidence": score,
        "corpus_tokens": 0, "tokens_gathered": 0, "tokens_packed": 0, "tokens_prompt": 0, "tokens_cached": 0,
        "tokens_output": 0, "tool_calls": 0, "latency_s": round(seconds, 3), "over_budget": False, "error": None,
        "fault": case.fault, "surface": case.surface, "exit_code": outcome.exit_code, "message": outcome.message,
        "data_kept": outcome.data_kept, "traceback": outcome.traceback, "detail": outcome.detail[:2000],
    }  # fmt: skip


class Faults(Suite):
    name = "faults"
    description = (
        "injected faults on every surface: one clear line, the right exit code, nothing lost (must be 100%)"
    )
    example = "forage eval run faults --out runs/faults"
    own_rows = True
    available = _FAKES.is_file()
    unavailable_reason = "needs a checkout of forage (tests/fakes/gemini_server.py)"
    gates = (Gate("faults", "correct", 1.0, over_budget=False),)

    def rows(self, ctx: BuildContext) -> list[dict[str, Any]]:
        from evals.checks.faults.registry import all_cases

        rows = []
        for seed, case in enumerate(all_cases()):
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="forage-fault-") as tmp:
                outcome = case.run(Path(tmp))
            rows.append(fault_row(case, outcome, seed, time.perf_counter() - started))
        return rows
