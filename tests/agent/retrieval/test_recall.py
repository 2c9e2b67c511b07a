"""`forage index`: build once, then find everything indexed (the NIAH suites live in tests/evals)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.commands.index import index

pytestmark = pytest.mark.slow


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
