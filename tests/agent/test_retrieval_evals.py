"""Smoke runs of the NIAH eval (--quick) and of `forage index`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.index import index
from evals.niah import main as niah_main
from evals.niah import make_case, recall

pytestmark = pytest.mark.slow


def test_niah_case_is_eight_windows_with_four_findable_needles() -> None:
    case = make_case(3, 2048)
    assert case.corpus_tokens >= 8 * 2048
    assert len(case.needles) == 4 and recall([d.text for d in case.documents], case.needles)
    assert all(
        n.split(" is ")[0].removeprefix("The special code for ") in case.question for n in case.needles
    )


def test_niah_quick_meets_the_targets(tmp_path: Path) -> None:
    out = tmp_path / "niah.json"
    assert niah_main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["hybrid"]["evidence_recall"] >= 0.95 and report["hybrid"]["share_sent_max"] <= 0.25
    assert report["truncate"]["evidence_recall"] < report["hybrid"]["evidence_recall"]


def test_index_command_builds_then_finds_everything_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "m.py").write_text("def a():\n    return 1\n\n\nclass B:\n    pass\n")
    (corpus / "r.md").write_text("# Title\n\nSome words about retrieval.\n")
    app = typer.Typer()
    app.command("index")(index)
    app.command("other")(lambda: None)  # two commands: typer keeps "index" as a subcommand
    runner = CliRunner()
    args = ["index", str(corpus), "--data-dir", str(tmp_path / "data")]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "2 documents: 2 chunks, 2 embedded now, 2 added" in first.stdout
    again = runner.invoke(app, [*args, "-q"])
    assert again.exit_code == 0 and "0 embedded now, 0 added, 2 already indexed" in again.stdout
    missing = runner.invoke(app, ["index", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "data")])
    assert missing.exit_code == 1
