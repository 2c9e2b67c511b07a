"""The history suite: its rows (one per commit, budget and method) and its table in the run's report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.suite.report import history_table, write_report
from evals.tasks.base import BuildContext
from evals.tasks.registry import GENERATED, SUITES
from tests.evals.history_repo import build_history


def test_the_suite_scores_itself_into_rows_and_a_codeqa_shaped_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORAGE_EMBEDDING", "none")
    work, shas = build_history(tmp_path)
    suite = SUITES["history"]
    assert suite.own_rows and "history" not in GENERATED  # `all` cannot run it: it needs --repo
    options = {"repo": work, "budgets": "1k,64k", "max_files": 3, "limit": 10}
    said: list[str] = []
    rows = suite.rows(BuildContext(cache_dir=tmp_path / "data", options=options, progress=said.append))
    assert len(said) == 3 and said[-1].startswith("(3 of 3 commits scored")
    forage = [r for r in rows if r["strategy"] == "forage"]
    assert len(rows) == 12 and len(forage) == 6  # 3 commits x 2 budgets x (forage, bm25)
    assert {r["sha"] for r in forage} == {shas["backoff"], shas["feature"], shas["cap"]}
    for r in forage:
        assert {"question", "gold", "missed", "not_in_full", "forage_full", "bm25"} <= set(r)
        assert r["evidence"] == r["forage"] and r["score"] == r["forage_full"]
    top = [r for r in forage if r["size"] == 65536]
    assert all(r["evidence"] == 1.0 for r in top)
    table = history_table(rows)
    assert table.headers == ["budget", "commits", "forage (any fidelity)", "in full", "+outline", "bm25-60",
                             "s/pack (median)"]  # fmt: skip
    assert [row[:3] for row in table.rows] == [["1k", "3", table.rows[0][2]], ["64k", "3", "1.000"]]
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = write_report(run)["markdown"].read_text()
    assert "### history" in report and "| 64k | 3 | 1.000 |" in report


def test_the_suite_says_what_it_needs(tmp_path: Path) -> None:
    suite = SUITES["history"]
    with pytest.raises(RuntimeError, match="needs --repo PATH"):
        suite.rows(BuildContext(options={}))
    with pytest.raises(RuntimeError, match="not a folder"):
        suite.rows(BuildContext(options={"repo": tmp_path / "nope"}))
