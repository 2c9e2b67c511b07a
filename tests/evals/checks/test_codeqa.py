"""The code-QA measurement: cited files, file recall, budgets, and one small real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.settings import Settings
from evals.checks.codeqa import (
    PackedFiles,
    cited_files,
    file_recall,
    forage_files,
    format_table,
    load_questions,
    parse_budgets,
    recall_row,
    run,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "core.py").write_text("def run():\n    return 1\n")
    (root / "src" / "pkg" / "util.py").write_text("def helper():\n    return 2\n")
    (root / "README.md").write_text("# proj\n")
    return root


def test_cited_files_are_backticked_paths_that_exist(repo: Path) -> None:
    answer = (
        "See `src/pkg/core.py` (lines 1-2), `./src/pkg/util.py`, `/src/pkg/core.py:1-2` again, "
        "`pkg/core.py` (not a repo path), `missing.py`, `run()` and `../etc/passwd`."
    )
    assert cited_files(answer, repo) == ["src/pkg/core.py", "src/pkg/util.py"]


def test_load_questions_reads_answers_and_file_lists(repo: Path, tmp_path: Path) -> None:
    qa = tmp_path / "q.jsonl"
    rows = [
        {"question": " Where is run? ", "answer": "In `src/pkg/core.py`."},
        {"question": "Nothing cited", "answer": "No files here."},
        {"question": "Listed", "files": ["src/pkg/util.py", "nope.py"]},
    ]
    qa.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    qs = load_questions(qa, repo)
    assert [(q.question, q.files) for q in qs] == [
        ("Where is run?", ("src/pkg/core.py",)),
        ("Nothing cited", ()),
        ("Listed", ("src/pkg/util.py",)),
    ]
    qa.write_text('{"answer": "no question"}\n')
    with pytest.raises(ValueError, match=r"q.jsonl:1"):
        load_questions(qa, repo)


def test_file_recall_counts_cited_files_found_in_the_pack(repo: Path) -> None:
    files = ["src/pkg/core.py", "src/pkg/util.py"]
    assert file_recall(["src/pkg/core.py:1-2", "README.md"], files, repo) == 0.5
    assert file_recall([str(repo / "src/pkg/util.py"), "src/pkg/core.py"], files, repo) == 1.0
    assert file_recall(["README.md", "forage://other-files"], files, repo) == 0.0  # must score 0
    assert file_recall([], files, repo) == 0.0
    with pytest.raises(ValueError):
        file_recall(["src/pkg/core.py"], [], repo)


def test_budgets_parse_with_clear_errors() -> None:
    assert parse_budgets("4k, 16k,64000") == [4096, 16384, 64000]
    for bad in ("", "4x", "0", "-4k"):
        with pytest.raises(ValueError, match="--budgets"):
            parse_budgets(bad)


def test_a_small_run_scores_forage_and_the_baseline(tmp_path: Path) -> None:
    root = tmp_path / "big"
    (root / "lib").mkdir(parents=True)
    for i in range(40):
        body = "".join(f"def filler_{i}_{j}(x):\n    return x * {j}\n\n\n" for j in range(30))
        (root / "lib" / f"mod_{i:02d}.py").write_text(body)
    (root / "lib" / "retry.py").write_text("def compute_backoff_delay(attempt):\n    return 2 ** attempt\n")
    qa = tmp_path / "q.jsonl"
    qa.write_text(
        json.dumps({"question": "How does compute_backoff_delay grow?", "answer": "`lib/retry.py`"})
    )
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    report = run(root, load_questions(qa, root), [2048], settings)
    row = report["budgets"]["2048"]
    assert report["scored_questions"] == 1 and report["corpus_tokens"] > 5 * 2048
    assert row["forage"]["file_recall"] == 1.0 and row["bm25_60_lines"]["file_recall"] == 1.0
    assert row["forage_full"]["file_recall"] == 1.0 and row["rows"][0]["forage_full"] == 1.0
    assert row["halves"]["even"] == {"forage": 1.0, "forage_full": 1.0, "bm25": 1.0}
    assert row["rows"][0]["index"] == 0 and row["rows"][0]["not_in_full"] == []
    assert "in full" in format_table(report).splitlines()[1]


def test_in_full_counts_only_files_with_a_block_at_fidelity_full(repo: Path) -> None:
    files = ["src/pkg/core.py", "src/pkg/util.py"]
    packed = PackedFiles(
        full=["src/pkg/core.py:1-2", "src/pkg/util.py:1-1"], excerpt=["src/pkg/util.py:1-1"],
        whole=["src/pkg/core.py:1-2"], outline=["README.md"],
    )  # fmt: skip
    row = recall_row(packed, ["src/pkg/util.py"], files, repo)
    assert (row["forage"], row["forage_full"], row["bm25"]) == (1.0, 0.5, 0.5)
    assert row["missed"] == [] and row["not_in_full"] == ["src/pkg/util.py"]


def test_forage_files_sorts_the_pack_by_fidelity(tmp_path: Path) -> None:
    from agent.session.direct import gather_local

    root = tmp_path / "many"
    root.mkdir()
    for i in range(30):  # every file matches: at a small budget the next files by rank go in as excerpts
        body = "".join(
            f"def backoff_{i}_{j}(attempt):\n    return attempt * {j}  # retry delay\n\n" for j in range(40)
        )
        (root / f"retry_{i:02d}.py").write_text(body)
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    documents, _ = gather_local([str(root)], settings)
    packed = forage_files(documents, "How is the retry backoff delay of an attempt computed?", 1024, settings)
    assert packed.whole and packed.excerpt, "a small budget over many matching files holds both rungs"
    assert set(packed.whole) | set(packed.excerpt) == set(packed.full)
    rel = {Path(u).name for u in packed.excerpt} - {Path(u).name for u in packed.whole}
    row = recall_row(packed, [], sorted(rel), root)
    assert row["forage"] == 1.0 and row["forage_full"] == 0.0
