"""Commits as questions: which are sampled, what the question keeps, which files are gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.checks.commits import clean_message, is_source, sample
from tests.evals.history_repo import BACKOFF_MESSAGE, build_history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return build_history(tmp_path_factory.mktemp("history"))


def test_only_plain_source_commits_become_questions(history: tuple[Path, dict[str, str]]) -> None:
    work, shas = history
    questions = sample(work, 100, max_files=3)
    by_sha = {q.sha: q for q in questions}
    # merges, reverts, a release, pure renames, a re-spacing, test-only commits, "wip" and a 5-file
    # sweep are all left out
    assert set(by_sha) == {shas["backoff"], shas["feature"], shas["cap"]}
    assert [q.index for q in questions] == [0, 1, 2] and questions[0].sha == shas["backoff"]  # oldest first
    assert {q.sha for q in sample(work, 100, max_files=5)} >= {shas["sweep"]}
    backoff = by_sha[shas["backoff"]]
    # gold: the source files the parent had (a deleted one included); no test, vendored or added file
    assert backoff.files == ("src/pkg/core.py", "src/pkg/legacy.py")
    assert backoff.parent == shas["first"] and backoff.subject.startswith("Make the retry backoff")
    assert by_sha[shas["feature"]].files == ("src/pkg/helpers.py",)


def test_the_question_does_not_name_its_answer(history: tuple[Path, dict[str, str]]) -> None:
    work, shas = history
    by_sha = {q.sha: q for q in sample(work, 100, max_files=3)}
    q = by_sha[shas["backoff"]].question
    assert q.startswith("Make the retry backoff delay grow exponentially")
    for gone in (
        "#12",
        "GH-7",
        "http",
        "legacy.py",
        "src/pkg",
        "1a2b3c4d5e6f",
        "Signed-off-by",
        "Co-authored",
        "Fixes",
    ):
        assert gone not in q, gone
    cap = by_sha[shas["cap"]].question
    assert (
        "core.py" not in cap and "`core`" not in cap and cap.startswith("Cap the backoff delay at one minute")
    )


def test_sampling_is_deterministic_and_limited(history: tuple[Path, dict[str, str]]) -> None:
    work, _ = history
    one = [q.sha for q in sample(work, 2, seed=3, max_files=3)]
    assert len(one) == 2 and one == [q.sha for q in sample(work, 2, seed=3, max_files=3)]
    with pytest.raises(ValueError, match="git rev-list failed"):
        sample(work.parent, 2)  # not a repository


def test_clean_message_keeps_the_words_and_drops_references() -> None:
    paths = ["src/_pytest/fixtures.py", "testing/test_fixtures.py"]
    text = "fixtures: fix scope of autouse fixtures (#12345)\n\nAlso _pytest.fixtures.FixtureDef and fixtures.py; and/or owner/repo#9."
    assert clean_message(text, paths) == "fix scope of autouse fixtures\n\nAlso .FixtureDef and ; and/or ."
    assert clean_message("Fix a crash\n\nFixes https://github.com/o/r/issues/9.", []) == "Fix a crash"
    template = "Clean up a docstring\n\n<!-- BEGIN RELEASE NOTES -->\nNO ENTRY\n<!-- END RELEASE NOTES -->\n<!-- x -->"
    assert clean_message(template, []) == "Clean up a docstring"
    assert clean_message(":sparkles: Add a dialect", []) == "Add a dialect"
    assert clean_message("Use :math: for the formula", []) == "Use :math: for the formula"
    assert (
        clean_message("Support TOML v1.0.0 syntax in `pyproject.toml`", []) == "Support TOML v1.0.0 syntax in"
    )
    assert (
        clean_message("Dialect: add a keyword", ["test/fixtures/dialect/a.sql"]) == "Dialect: add a keyword"
    )
    assert clean_message("fix: handle None in parser", ["src/parser.py"]) == "fix: handle None in parser"
    assert "Signed" not in clean_message(BACKOFF_MESSAGE, [])
    assert (
        clean_message("Fixed #35012 -- Made QuerySet.bulk_create() faster.", [])
        == "Made QuerySet.bulk_create() faster."
    )


def test_source_files_exclude_tests_docs_news_vendored_and_generated() -> None:
    keep = ["src/pkg/core.py", "lib/a/b.go", "setup.py", "web/app.tsx", "src/_pytest/fixtures.py"]
    drop = ["tests/test_core.py", "pkg/tests/helpers.py", "src/pkg/core_test.go", "conftest.py", "docs/conf.py",
            "changelog/123.bugfix.rst", "README.md", "vendor/six.py", "src/_vendor/x.py", "api_pb2.py",
            "static/app.min.js", "poetry.lock", "package-lock.json", ".github/scripts/release.py",
            "web/button.test.tsx", "pyproject.toml"]  # fmt: skip
    assert [p for p in keep if is_source(p)] == keep
    assert [p for p in drop if is_source(p)] == []
