"""`forage eval` as a user types it: list, run (and resume), report, perf, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from evals.perf.table import FIGURES, Figure, _dig

runner = CliRunner()


def test_list_names_every_suite_with_an_example() -> None:
    result = runner.invoke(app, ["eval", "list"])
    assert result.exit_code == 0
    for name in ("niah-single", "niah-multikey", "niah-multivalue", "niah-multiquery", "variable-tracking",
                 "common-words", "cross-source", "gather", "codeqa", "history"):  # fmt: skip
        assert name in result.stdout
    assert result.stdout.count("e.g. forage eval run") >= 9
    assert "safety  attacks blocked" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["niah-single", "--sizes", "lots"], 2, "not a size"),
        (["nope"], 2, "unknown suite 'nope'"),
        (["niah-single", "--haystack", "web"], 2, "--haystack 'web'"),
        (["niah-single", "--window", "4k", "--reserve", "8k"], 2, "leaves no room"),
        (["codeqa"], 1, "needs --repo PATH and --questions"),
        (["history"], 1, "history: the history suite needs --repo PATH"),
        (["niah-single", "--strategies", "magic"], 2, "unknown strategy 'magic'"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], code: int, message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "run", *args, "--out", str(tmp_path / "run")])
    assert result.exit_code == code, result.output
    assert message in " ".join(result.stderr.split())


@pytest.mark.slow
def test_run_then_resume_then_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["eval", "run", "niah-single", "--sizes", "4k", "--window", "2k", "--strategies", "truncate,full", "--seeds", "1",
            "--haystack", "generated", "--out", str(out), "--no-report", "-q"]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["strategy"] for r in rows] == ["truncate", "full"] and rows[0]["budget"] == 2048 - 512
    assert "niah-single" in first.stdout and "4k" in first.stdout
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "2 finished case(s) skipped" in again.stderr
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    report = runner.invoke(app, ["eval", "report", str(out)])
    assert report.exit_code == 0, report.output
    assert (out / "report.html").is_file() and list((out / "plots").glob("*.png"))
    missing = runner.invoke(app, ["eval", "report", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and "no such run folder" in missing.stderr


def test_perf_figures_have_targets_that_can_fail() -> None:
    ratio = Figure("x", ("a", "b"), "f", "g", ">= 2")
    assert ratio.passes(2.0) and not ratio.passes(1.9)
    share = Figure("x", ("a",), "f", "g", "< 0.05", "share")
    assert share.passes(0.01) and not share.passes(0.05)
    assert _dig({"a": {"b": 3}}, ("a", "b")) == 3.0 and _dig({"a": {}}, ("a", "b")) is None
    assert {f.bench for f in FIGURES} == {"web", "pdf", "retrieval", "pack", "safety", "index"}
    assert Figure("x", ("a",), "f", "g", "").passes(1.0) is None


@pytest.mark.slow
def test_perf_runs_a_benchmark_and_prints_its_ratios(tmp_path: Path) -> None:
    table = tmp_path / "perf.json"
    result = runner.invoke(
        app, ["eval", "perf", "--only", "pdf", "--runs", "1", "--quick", "--json", str(table)]
    )
    assert result.exit_code == 0, result.output
    lines = json.loads(table.read_text())
    assert [line["bench"] for line in lines] == ["pdf", "pdf"]
    assert all(line["median"] and line["median"] > 0 and line["runs"] == 1 for line in lines)
    bad = runner.invoke(app, ["eval", "perf", "--only", "pack"])
    assert bad.exit_code == 2 and "--repo" in bad.stderr


@pytest.mark.slow
def test_a_gemini_run_scores_generated_answers_and_records_usage(tmp_path: Path) -> None:
    """`--model gemini-…` against the fake REST server: the planner's calls, the answer, the tokens."""
    import os
    import subprocess
    import sys

    from evals.tasks.base import BuildContext
    from evals.tasks.registry import SUITES
    from tests.fakes.gemini_server import GeminiServer

    out = tmp_path / "run"
    folder = out / "cases" / "niah-single" / "4096" / "0"
    case = SUITES["niah-single"].build(4096, 0, folder, BuildContext(haystack="generated"))
    case.save(folder)  # the runner reuses a saved case: the replies below can name its path and value
    with GeminiServer() as fake:
        fake.reply_call("read_many", {"paths_or_glob": str((folder / "corpus").resolve())})
        fake.reply_text("DONE")
        fake.reply_text(f"The answer is {case.answers[0]} [1].")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
        env |= {"GEMINI_API_KEY": "test-key", "FORAGE_GEMINI_BASE_URL": fake.url, "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "cfg")}  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "cli.app", "eval", "run", "niah-single", "--model", "gemini-3.5-flash",
             "--sizes", "4k", "--window", "2k", "--seeds", "1", "--strategies", "select", "--haystack",
             "generated", "--out", str(out), "--no-report", "-q"],
            capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert row["answer_kind"] == "generated" and row["model"] == "gemini-3.5-flash"
    assert row["correct"] and row["score"] == 1.0 and row["tokens_prompt"] > 0 and row["tool_calls"] == 1


@pytest.mark.slow
def test_history_runs_on_a_repository_with_its_own_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.evals.history_repo import build_history

    monkeypatch.setenv("FORAGE_EMBEDDING", "none")
    work, shas = build_history(tmp_path)
    out = tmp_path / "run"
    args = ["eval", "run", "history", "--repo", str(work), "--budgets", "1k,64k", "--max-files", "3",
            "--limit", "2", "--seed", "1", "--out", str(out), "-q"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["size"] for r in rows} == {1024, 65536} and len({r["sha"] for r in rows}) == 2  # --limit 2
    assert "in full" in result.stdout and "### history" in (out / "report.md").read_text()
    assert json.loads((out / "run.json").read_text())["options"]["max_files"] == 3
