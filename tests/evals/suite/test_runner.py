"""Smoke runs through the real agent: rows, resume, gates that fail on a broken strategy, servers.

The run uses the extractive model, real MCP subprocesses (files, web, pdf), the real loopback
site and a real Chroma index; sizes are small so the whole file takes well under a minute.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agent.models.extractive import ExtractiveModel
from agent.settings import Settings
from evals.suite.events import EvalEvent, Planned, RowWritten
from evals.suite.report import write_report
from evals.suite.runner import EvalError, Plan, parse_size, read_rows, run_plan, show_size
from evals.suite.strategies import STRATEGIES, Outcome, Trial
from evals.suite.summary import check_gates
from tools.web.render import find_chromium

pytestmark = pytest.mark.slow

WINDOW, RESERVE = 4096, 1024  # budget 3072: an 8k corpus is well over it


async def drops_needles(trial: Trial) -> Outcome:
    """Deliberately broken: select, then lose every chunk that holds a needle (and its value)."""
    outcome = await STRATEGIES["select"](trial)
    assert outcome.pack is not None
    blocks = outcome.pack.prefix.split("\n## [")
    keep = [b for b in blocks if not any(n.text in b for n in trial.case.needles)]
    outcome.pack.prefix = "\n## [".join(keep)
    for value in trial.case.answers:
        outcome.answer = outcome.answer.replace(value, "")
    return outcome


def plan(suites: list[str], strategies: list[str], **kw: Any) -> Plan:
    return Plan(suites=suites, strategies=strategies, sizes=[8192], seeds=1, window=WINDOW, reserve=RESERVE,
                model="extractive", haystack="generated", **kw)  # fmt: skip


def run(p: Plan, out: Path, **kw: Any) -> list[dict[str, Any]]:
    model = ExtractiveModel(window=WINDOW)
    return asyncio.run(run_plan(p, out, Settings(data_dir=out / "unused"), model, **kw))


@pytest.fixture(scope="module")
def niah_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    table = {**STRATEGIES, "drops-needles": drops_needles}
    run(
        plan(["niah-multikey", "niah-multiquery"], ["select", "truncate", "drops-needles"]),
        out,
        strategies=table,
    )
    return out


def test_rows_hold_what_the_issue_asks_for(niah_run: Path) -> None:
    rows = read_rows(niah_run)
    assert len(rows) == 6 and not [r for r in rows if r["error"]]
    for r in rows:
        for key in (
            "suite",
            "size",
            "strategy",
            "seed",
            "correct",
            "score",
            "evidence",
            "tokens_gathered",
            "tokens_packed",
            "tokens_cached",
            "tokens_output",
            "tool_calls",
            "latency_s",
            "needles",
        ):
            assert key in r, key
        assert r["tokens_gathered"] > r["budget"] == WINDOW - RESERVE and r["over_budget"]
        assert r["answer_kind"] == "extractive" and r["tool_calls"] >= 1
    select = [r for r in rows if r["strategy"] == "select"]
    assert all(r["evidence"] >= 0.75 and r["tokens_packed"] <= r["budget"] for r in select)
    case = json.loads((niah_run / "cases" / "niah-multikey" / "8192" / "0" / "case.json").read_text())
    assert (
        case["distractors"] and (niah_run / "HAYSTACK-LICENCE.txt").exists() is False
    )  # generated: no licence


def test_gates_pass_for_select_and_fail_for_the_broken_strategy(niah_run: Path) -> None:
    rows = read_rows(niah_run)
    real = check_gates([r for r in rows if r["strategy"] != "drops-needles"])
    assert real and all(g.passed is not False for g in real if g.gate.metric == "evidence")
    # The same rows with the broken strategy standing in for select: the gates must fail.
    broken = [{**r, "strategy": "select"} for r in rows if r["strategy"] == "drops-needles"]
    results = check_gates(broken)
    assert results and all(g.passed is False for g in results), [g.describe() for g in results]
    assert all(r["evidence"] == 0.0 and not r["correct"] for r in broken)


def test_a_rerun_resumes_and_skips_finished_cases(niah_run: Path) -> None:
    events: list[EvalEvent] = []
    table = {**STRATEGIES, "drops-needles": drops_needles}
    p = plan(["niah-multikey", "niah-multiquery"], ["select", "truncate", "drops-needles"])
    run(p, niah_run, strategies=table, on_event=events.append)
    assert Planned(total=0, skipped=6) in events and not [e for e in events if isinstance(e, RowWritten)]
    # Another window is another experiment: refused, not mixed in.
    other = plan(["niah-multikey"], ["select"])
    other.window = 8192
    with pytest.raises(EvalError, match="window 4096"):
        run(other, niah_run)


def test_a_failed_case_is_recorded_and_run_again(tmp_path: Path) -> None:
    calls = []

    async def flaky(trial: Trial) -> Outcome:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the model fell over")
        return await STRATEGIES["truncate"](trial)

    p = plan(["niah-single"], ["flaky"])
    rows = run(p, tmp_path, strategies={"flaky": flaky})
    assert rows[0]["error"] == "RuntimeError: the model fell over"
    rows = run(p, tmp_path, strategies={"flaky": flaky})
    assert len(rows) == 1 and rows[0]["error"] is None and len(calls) == 2


def test_cross_source_goes_through_the_web_and_pdf_servers(tmp_path: Path) -> None:
    rows = run(plan(["cross-source"], ["select", "full"]), tmp_path)
    assert [r["error"] for r in rows] == [None, None]
    full = next(r for r in rows if r["strategy"] == "full")
    # All three parts (file, loopback page, generated PDF) reached the pack through the servers.
    assert full["evidence"] == 1.0 and full["correct"], full
    assert full["tool_calls"] >= 3  # read_many, fetch_page per page, read_pdf per PDF
    gates = check_gates(rows)
    assert all(g.passed for g in gates), [g.describe() for g in gates]


def test_gather_scores_source_precision_and_recall(tmp_path: Path) -> None:
    rows = run(plan(["gather"], ["select"]), tmp_path)
    (row,) = rows
    assert row["error"] is None and row["tool_calls"] == row["sources"] >= 8
    assert 0 < row["source_precision"] <= 1 and row["source_recall"] > 0


def test_codeqa_scores_file_recall_with_evals_codeqa(tmp_path: Path) -> None:
    """The adapter runs evals.checks.codeqa's own load_questions and file_recall through the agent."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "retry.py").write_text(
        'def backoff_delay(attempt):\n    """Seconds to wait before retry number attempt."""\n    return 2**attempt\n'
    )
    for n in range(30):  # "other*.py" sort before "retry.py": truncation never reaches it
        (repo / "pkg" / f"other{n}.py").write_text(f"def unrelated_{n}(x):\n    return x * {n}\n" * 40)
    questions = tmp_path / "q.jsonl"
    lines = [
        {"question": "How long is the backoff delay before a retry?", "answer": "See `pkg/retry.py`."},
        {"question": "Which file is unrelated?", "answer": "no file cited"},  # skipped: nothing to recall
    ]
    questions.write_text("".join(json.dumps(q) + "\n" for q in lines))
    p = plan(["codeqa"], ["select", "truncate"], options={"repo": repo, "questions": questions})
    p.sizes = [1024]
    rows = run(p, tmp_path / "run")
    assert len(rows) == 2 and all(r["error"] is None and r["budget"] == 1024 for r in rows)
    by = {r["strategy"]: r for r in rows}
    assert by["select"]["evidence"] == 1.0 and by["select"]["tokens_gathered"] > 1024
    assert by["truncate"]["evidence"] == 0.0


def test_sizes_parse_and_show() -> None:
    assert [parse_size(s) for s in ("8k", "32K", "1m", "5000")] == [8192, 32768, 1048576, 5000]
    assert show_size(131072) == "128k" and show_size(5000) == "5000"
    with pytest.raises(EvalError, match="not a size"):
        parse_size("lots")


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_html_report_shows_its_plots_in_chromium(niah_run: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    paths = write_report(niah_run, compare_to=niah_run)
    md = paths["markdown"].read_text()
    assert "| niah-multikey | select |" in md and "Gates" in md and f"Compared with {niah_run}" in md
    gates = md.split("### Gates")[1].split("###")[0]
    assert "extractive" in md and "PASS" in gates and "FAIL" not in gates
    page_html = paths["html"].read_text()
    assert "src='plots/" not in page_html and page_html.count("data:image/png;base64,") >= 4  # self-contained
    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(paths["html"].as_uri())
            page.wait_for_load_state("load")
            sizes = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])"
            )
            page.screenshot(path=str(shot), full_page=True)
            headings = page.eval_on_selector_all("h3", "hs => hs.map(h => h.textContent)")
        finally:
            browser.close()
    alts = {alt for *_, alt in sizes}
    assert {"accuracy_by_size", "evidence_by_size", "tokens_vs_accuracy", "depth_niah-multikey"} <= alts
    assert all(done and w > 200 and h > 100 for done, w, h, _ in sizes), sizes
    assert any(h.startswith("Summary") for h in headings) and shot.stat().st_size > 20_000


def test_safety_runs_its_own_cases_once_and_resumes(tmp_path: Path) -> None:
    p = plan(["safety"], ["select"], options={"quick": True})
    rows = run(p, tmp_path)
    attacks = [r for r in rows if r["strategy"] == "guards"]
    assert len(attacks) >= 20 and {r["group"] for r in attacks} >= {"secrets", "exfiltration", "hidden text"}
    assert all(g.passed for g in check_gates(rows)), [g.describe() for g in check_gates(rows)]
    events: list[EvalEvent] = []
    again = run(p, tmp_path, on_event=events.append)
    assert len(again) == len(rows) and not [e for e in events if isinstance(e, RowWritten)]
