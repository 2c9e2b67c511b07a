"""safety: the adversarial cases of evals/checks/safety.py (issue 13), as rows of a `forage eval` run.

The attacks (secrets in code and .env, exfiltration URLs, writes by a third-party tool, hidden
PDF and invisible text, forged envelopes, text addressed to the assistant) do not depend on a
retrieval strategy or a corpus size: each is one row of strategy `guards`, correct when it was
blocked. The clean material nobody tuned on (installed libraries, their READMEs, the URLs they
mention, PDFs under /usr/share/doc) gives one row each of strategy `clean`, correct when nothing
was wrongly redacted, refused or hidden (README flags are warnings: reported, not gated).
"""

from __future__ import annotations

import time
from typing import Any

from evals.tasks.base import BuildContext, Gate, Suite

_CLEAN_ZERO = {  # the figure that must be 0 on clean material, per group
    "code": "redactions",
    "URLs": "refused",
    "PDFs": "pages_with_hidden_text",
}


def _row(strategy: str, seed: int, correct: bool | None, **extra: Any) -> dict[str, Any]:
    score = None if correct is None else float(correct)
    return {
        "suite": "safety", "size": 0, "strategy": strategy, "seed": seed, "window": None, "budget": None,
        "model": None, "answer_kind": "guard", "correct": correct, "score": score, "evidence": score,
        "corpus_tokens": 0, "tokens_gathered": 0, "tokens_packed": 0, "tokens_prompt": 0, "tokens_cached": 0,
        "tokens_output": 0, "tool_calls": 0, "latency_s": 0.0, "over_budget": False, "error": None, **extra,
    }  # fmt: skip


def safety_rows(report: Any, seconds: float = 0.0) -> list[dict[str, Any]]:
    """Rows for an evals.checks.safety Report: one per attack, one per group of clean material."""
    rows = [
        _row("guards", n, bool(c.blocked), group=c.group, name=c.name, detail=c.detail)
        for n, c in enumerate(report.attacks)
    ]
    for n, (group, figures) in enumerate(report.clean.items()):
        key = next((v for k, v in _CLEAN_ZERO.items() if group.startswith(k)), None)
        correct = None if key is None else figures.get(key) == 0
        shown = {k: v for k, v in figures.items() if k != "examples"}
        examples = [str(e)[:200] for e in figures.get("examples", []) or []]
        rows.append(_row("clean", n, correct, group=group, figures=shown, examples=examples))
    for row in rows:
        row["latency_s"] = round(seconds / max(1, len(rows)), 4)
    return rows


class Safety(Suite):
    name = "safety"
    description = "attacks blocked (must be 100%) and false positives on clean installed material (must be 0)"
    example = "forage eval run safety --out runs/safety"
    own_rows = True
    gates = (
        Gate("guards", "correct", 1.0, over_budget=False),
        Gate("clean", "correct", 1.0, over_budget=False),
    )

    def rows(self, ctx: BuildContext) -> list[dict[str, Any]]:
        from evals.checks import safety

        started = time.perf_counter()
        report = safety.run(quick=bool(ctx.options.get("quick")))
        return safety_rows(report, time.perf_counter() - started)
