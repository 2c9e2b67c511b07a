"""The scorers are pure: right answers score 1, wrong, partial and empty ones score what they earn."""

from __future__ import annotations

from evals.suite.scoring import (
    answer_score,
    contains,
    evidence_found,
    evidence_score,
    exact,
    precision_recall,
    source_of,
    top_words_recall,
    value_recall,
)
from evals.tasks.base import Case, Needle


def lookup(answers: list[str], needles: list[str], distractors: list[str] | None = None) -> Case:
    return Case(
        suite="t", size=1, seed=0, question="q", answers=answers,
        needles=[Needle(text=t, value=a, depth=0.5, where="f") for t, a in zip(needles, answers, strict=True)],
        sources=["corpus"], corpus_tokens=1, distractors=distractors or [],
    )  # fmt: skip


def test_values_match_whole_tokens_only() -> None:
    assert contains("the code is 4471.", "4471")
    assert not contains("the code is 44712.", "4471")
    assert not contains("the code is 14471", "4471")
    assert contains("Value:\n    ABC-123 [2]", "abc-123")
    assert not contains("xABC-123", "ABC-123")
    assert contains("retry\\_policy.toml", "retry_policy.toml")  # markdown escapes from web extraction
    assert not contains("anything", "")


def test_value_recall_counts_each_value() -> None:
    assert value_recall("a 11111 b 22222", ["11111", "22222"]) == 1.0
    assert value_recall("a 11111 b", ["11111", "22222"]) == 0.5
    assert value_recall("", ["11111"]) == 0.0
    assert value_recall("11111", []) == 0.0


def test_exact_needs_every_value_and_no_distractor() -> None:
    assert exact("It is 11111 [1].", ["11111"], ["99999"])
    assert not exact("It is 11111 or 99999.", ["11111"], ["99999"])
    assert not exact("It is 99999.", ["11111"], ["99999"])
    assert not exact("nothing", [], [])


def test_answer_score_extractive_vs_generated() -> None:
    case = lookup(["11111"], ["The code of A is 11111."], distractors=["99999"])
    # Extractive: the value in the quoted passages is enough, a neighbouring distractor is not held against it.
    assert answer_score(
        case, "    The code of A is 11111.\n    The code of B is 99999.", extractive=True
    ) == (True, 1.0)
    assert answer_score(case, "The code of A is 11111 (or 99999).", extractive=False) == (False, 1.0)
    assert answer_score(case, "NOT_IN_CONTEXT", extractive=False) == (False, 0.0)
    assert answer_score(case, "", extractive=True) == (False, 0.0)


def test_evidence_is_found_across_wrapped_lines_and_scores_zero_when_absent() -> None:
    needles = ["The first part of the code for Ana Silva is XQK-367."]
    case = lookup(["XQK-367"], needles)
    wrapped = "blah The first part of the code for\nAna Silva is XQK-367. more"
    assert evidence_found(wrapped, needles) == [True]
    assert evidence_score(case, wrapped) == 1.0
    assert evidence_score(case, "The first part of the code for Ana Silva is XQK-368.") == 0.0
    assert evidence_score(case, "") == 0.0


def test_top_words_recall_counts_list_items() -> None:
    listing = "\n".join(f"{i}. {w}" for i, w in enumerate(["aa", "aa", "aa", "bb", "bb", "cc"], 1))
    assert top_words_recall(listing, ["aa", "bb"]) == 1.0
    assert top_words_recall(listing, ["aa", "zz"]) == 0.5
    assert top_words_recall("no list here", ["aa", "bb"]) == 0.0
    case = Case(suite="cw", size=1, seed=0, question="q", answers=["aa", "bb"], needles=[], sources=[],
                corpus_tokens=1, kind="aggregate")  # fmt: skip
    assert answer_score(case, listing, extractive=True) == (True, 1.0)
    assert answer_score(case, "The most common are aa and cc.", extractive=False) == (False, 0.5)
    assert evidence_score(case, "1. cc\n2. cc\n3. dd\n4. dd\n5. aa") == 0.0  # a sample that misranks
    assert evidence_score(case, "1. aa\n2. aa\n3. dd\n4. dd\n5. cc") == 0.5


def test_sources_and_precision_recall() -> None:
    specs = ["sources/000-a.md", "sources/001-b.txt", "http://127.0.0.1:9/web/x.html", "corpus"]
    assert source_of("000-a.md", specs) == "sources/000-a.md"
    assert source_of("x/sources/001-b.txt", specs) == "sources/001-b.txt"
    assert source_of("http://127.0.0.1:9/web/x.html", specs) == specs[2]
    assert source_of("corpus/003-notes.md", specs) == "corpus"
    assert source_of("elsewhere.md", specs) is None
    assert precision_recall({"a", "b"}, {"a"}) == (0.5, 1.0)
    assert precision_recall(set(), {"a"}) == (0.0, 0.0)
    assert precision_recall({"b"}, {"a"}) == (0.0, 0.0)
