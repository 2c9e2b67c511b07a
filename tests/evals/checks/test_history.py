"""History-labelled recall: each commit is asked of its parent's tree, never of the working tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.settings import Settings
from evals.checks.commits import sample
from evals.checks.history import ParentTrees, format_table, main, run
from tests.evals.history_repo import build_history
from tests.gitserver import commit, git


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work, shas = build_history(tmp_path_factory.mktemp("history"))
    shutil.rmtree(work / "src")  # the working tree is not the parent's tree: nothing may read it
    return work, shas


def test_parent_trees_hold_exactly_the_parent(history: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    work, shas = history
    trees = ParentTrees(work, tmp_path)
    tree = trees.checkout(shas["first"])
    assert (tree / "src/pkg/legacy.py").is_file() and not (tree / "src/pkg/exponential.py").exists()
    assert "return 1\n" in (tree / "src/pkg/core.py").read_text()
    tree = trees.checkout(shas["backoff"])  # moving on removes what the next tree lacks
    assert not (tree / "src/pkg/legacy.py").exists() and (tree / "src/pkg/exponential.py").is_file()
    assert not (work / "src").exists() and not list(tmp_path.glob("tree/.git*"))
    with pytest.raises(ValueError, match="could not check out"):
        trees.checkout("0" * 40)


def test_run_packs_each_commit_from_its_parent(history: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    work, shas = history
    questions = [q for q in sample(work, 100, max_files=3) if q.sha == shas["backoff"]]
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    report = run(work, questions, [65536, 512], settings)
    row = report["budgets"]["65536"]["rows"][0]
    # legacy.py exists only at the parent (the commit deletes it, the working tree has no src/ at all)
    assert row["gold"] == ["src/pkg/core.py", "src/pkg/legacy.py"] and row["sha"] == shas["backoff"]
    assert (row["forage"], row["forage_full"], row["missed"]) == (1.0, 1.0, [])
    assert row["bm25"] == 0.5  # plain words: "retry delay" finds core.py; nothing finds old_backoff_table
    assert report["scored_questions"] == 1 and report["cited_files"] == 2 and report["unscored"] == []
    small = report["budgets"]["512"]
    assert set(small) >= {"forage", "forage_full", "forage_with_outlines", "bm25_60_lines", "halves", "rows"}
    assert small["forage_full"]["file_recall"] <= small["forage"]["file_recall"]
    table = format_table(report).splitlines()
    assert "1 of 1 commits" in table[0] and "in full" in table[1] and table[2].split()[0] == "65536"


def test_the_command_line_prints_the_table_and_writes_the_rows(
    history: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, shas = history
    out = tmp_path / "report.json"
    args = ["--repo", str(work), "--budgets", "1k", "--max-files", "3", "--embedding", "none"]
    assert main([*args, "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 0
    assert "3 of 3 commits" in capsys.readouterr().out
    assert shas["cap"] in out.read_text()
    assert main(["--repo", str(tmp_path), "--budgets", "1k"]) == 1
    assert "not a git repository" in capsys.readouterr().err


def test_a_file_whose_content_the_mirror_lacks_is_left_out(tmp_path: Path) -> None:
    work = tmp_path / "mirror"
    git("init", "-q", "-b", "main", str(work))
    first = commit(
        work, {"a.py": "def one():\n    return 1\n", "big.bin": "large binary left out\n"}, "first"
    )
    second = commit(work, {"a.py": "def one():\n    return 2\n"}, "second")
    blob = git("rev-parse", f"{first}:big.bin", cwd=work)
    (work / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # as a mirror without its largest files
    trees = ParentTrees(work, tmp_path / "trees")
    tree = trees.checkout(first)
    assert trees.missing == ["big.bin"] and (tree / "a.py").read_text().endswith("1\n")
    (tree / "stale.py").write_text("x = 1\n")
    tree = trees.checkout(second)
    assert trees.missing == ["big.bin"] and (tree / "a.py").read_text().endswith("2\n")
    assert sorted(p.name for p in tree.iterdir()) == ["a.py"]


def test_gold_that_forage_does_not_read_is_named_not_scored(tmp_path: Path) -> None:
    work = tmp_path / "ignored"
    git("init", "-q", "-b", "main", str(work))
    (work / "gen").mkdir(parents=True)
    (work / "gen" / "table.py").write_text("TABLE = [1]\n")
    commit(work, {".gitignore": "gen/\n", "src/parse.py": "def parse(text):\n    return text\n"}, "first")
    git("add", "-f", "gen/table.py", cwd=work)
    git("commit", "-q", "-m", "track the table", cwd=work)
    (work / "gen" / "table.py").write_text("TABLE = [1, 2]\n")
    git("add", "-f", "gen/table.py", cwd=work)
    sha = commit(
        work,
        {"src/parse.py": "def parse(text):\n    return text.strip()\n"},
        "Strip the text before parsing it with the lookup table",
    )
    questions = sample(work, 10)
    assert [q.sha for q in questions] == [sha] and questions[0].files == ("gen/table.py", "src/parse.py")
    report = run(work, questions, [4096], Settings(data_dir=tmp_path / "data", embedding="none"))
    row = report["budgets"]["4096"]["rows"][0]
    assert row["gold"] == ["src/parse.py"] and row["gold_not_read"] == ["gen/table.py"]  # .gitignore'd
