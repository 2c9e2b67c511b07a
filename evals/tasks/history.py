"""history: retrieval on any repository, its own commits as questions (no labels written by hand).

The sampling, the parent checkouts and the scoring belong to `evals.checks.history` (and
`commits`); this adapter runs it once and turns its report into rows of a `forage eval` run. The
suite scores itself (no model, no strategies): per commit and budget, one row of strategy `forage`
(evidence: file recall at any fidelity; score: in full) and one of strategy `bm25` (the baseline
of the same run). Each row keeps the commit, its question, its gold and the files missed.

Options (forage eval run history --repo PATH [--limit 30] [--budgets 4k,8k,16k] [--max-files 8] [--seed 0]).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evals.tasks.base import BuildContext, Suite

_COMMON = {
    "window": None, "model": None, "answer_kind": "retrieval", "correct": None, "tokens_packed": 0,
    "tokens_prompt": 0, "tokens_cached": 0, "tokens_output": 0, "tool_calls": 0, "over_budget": True,
    "error": None,
}  # fmt: skip


def history_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for an evals.checks.history report: per scored commit and budget, forage's and BM25's."""
    rows = []
    for budget, figures in report["budgets"].items():
        for r in figures["rows"]:
            about = {
                "suite": "history", "size": int(budget), "seed": r["index"], "budget": int(budget),
                "sha": r["sha"], "question": r["question"], "gold": r["gold"], "cited": r["cited"],
                "corpus_tokens": report["corpus_tokens"], "tokens_gathered": report["corpus_tokens"], **_COMMON,
            }  # fmt: skip
            rows.append(
                about | {
                    "strategy": "forage", "evidence": r["forage"], "score": r["forage_full"],
                    "forage": r["forage"], "forage_full": r["forage_full"],
                    "forage_with_outlines": r["forage_with_outlines"], "bm25": r["bm25"],
                    "missed": r["missed"], "not_in_full": r["not_in_full"], "latency_s": r["seconds"],
                    "seconds": r["seconds"],
                }
            )  # fmt: skip
            rows.append(about | {"strategy": "bm25", "evidence": r["bm25"], "score": None, "latency_s": 0.0})
    return rows


class History(Suite):
    name = "history"
    description = "any git repository, its commits as questions: file recall any/in full per budget vs BM25"
    example = "forage eval run history --repo ~/src/click --limit 30 --budgets 4k,8k,16k --out runs/history"
    own_rows = True

    def rows(self, ctx: BuildContext) -> list[dict[str, Any]]:
        from agent.settings import load_settings
        from evals.checks import commits, history
        from evals.checks.codeqa import parse_budgets

        repo = ctx.options.get("repo")
        if not repo:
            raise RuntimeError("the history suite needs --repo PATH (a git repository)")
        root = Path(repo).expanduser().resolve()
        if not root.is_dir():
            raise RuntimeError(
                f"--repo {repo}: not a folder; give a git repository (a checkout or a bare mirror)"
            )
        budgets = parse_budgets(str(ctx.options.get("budgets") or history.DEFAULT_BUDGETS))
        questions = commits.sample(
            root,
            int(ctx.options.get("limit") or history.DEFAULT_LIMIT),
            seed=int(ctx.options.get("seed") or 0),
            max_files=int(ctx.options.get("max_files") or commits.MAX_FILES),
        )
        if not questions:
            raise RuntimeError(f"--repo {repo}: no commit passed the filters (see evals/checks/commits.py)")
        data = {"data_dir": ctx.cache_dir} if ctx.cache_dir is not None else {}
        started = time.perf_counter()
        say = ctx.progress

        def progress(n: int, q: Any, seconds: float) -> None:
            if say is not None:
                say(f"({n + 1} of {len(questions)} commits scored, the last in {seconds:.0f}s)")

        report = history.run(root, questions, budgets, load_settings(data), on_question=progress)
        rows = history_rows(report)
        if not rows:
            raise RuntimeError(
                f"--repo {repo}: none of {len(questions)} commits' gold files is in the corpus"
            )
        for row in rows:
            row["run_seconds"] = round(time.perf_counter() - started, 1)
        return rows
