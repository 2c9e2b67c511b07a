"""Scorers: pure functions from (case, text) to numbers. Every one can score 0.

Texts are compared after `normalize`: markdown escapes removed (web extraction writes
`retry\\_policy`), whitespace collapsed (PDF lines wrap, extractive passages are indented),
case folded. Values match as whole tokens, so "4471" is not found inside "44712".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from evals.tasks.base import Case
from evals.tasks.words import list_items, top_words

_EDGE = r"A-Za-z0-9_"


def normalize(text: str) -> str:
    return " ".join(text.replace("\\", "").split()).lower()


def contains(text: str, value: str, *, normalized: bool = False) -> bool:
    """value occurs in text as a whole token (not inside a longer word or number)."""
    hay = text if normalized else normalize(text)
    needle = normalize(value)
    if not needle:
        return False
    return re.search(rf"(?<![{_EDGE}]){re.escape(needle)}(?![{_EDGE}])", hay) is not None


def value_recall(text: str, values: Sequence[str]) -> float:
    """The share of values the text holds."""
    if not values:
        return 0.0
    hay = normalize(text)
    return sum(contains(hay, v, normalized=True) for v in values) / len(values)


def exact(text: str, values: Sequence[str], distractors: Iterable[str]) -> bool:
    """Every value is given and no distractor's value is (a generated answer must be precise)."""
    hay = normalize(text)
    if not values or not all(contains(hay, v, normalized=True) for v in values):
        return False
    return not any(contains(hay, d, normalized=True) for d in distractors)


def evidence_found(pack_text: str, evidence: Sequence[str]) -> list[bool]:
    """For each piece of evidence, whether the pack holds it verbatim (after normalizing)."""
    hay = normalize(pack_text)
    return [normalize(e) in hay for e in evidence]


def top_words_recall(text: str, answers: Sequence[str]) -> float:
    """Aggregation: of the true top words, the share that are also the top words counted in text."""
    if not answers:
        return 0.0
    counted = set(top_words(list_items(text), len(answers)))
    return len(counted & {a.lower() for a in answers}) / len(answers)


def answer_score(case: Case, answer: str, *, extractive: bool) -> tuple[bool, float]:
    """(correct, score) of an answer to a lookup or aggregation case.

    Extractive answers quote passages: correct when every value is in them. Generated
    answers must also leave out the distractors' values. Aggregation cases are scored by the
    words the answer would rank highest (extractive) or names (generated).
    """
    if case.kind == "aggregate":
        score = top_words_recall(answer, case.answers) if extractive else value_recall(answer, case.answers)
        return score == 1.0, score
    score = value_recall(answer, case.answers)
    correct = score == 1.0 if extractive else exact(answer, case.answers, case.distractors)
    return correct, score


def evidence_score(case: Case, pack_text: str) -> float:
    """How much of the evidence the pack holds: needles found, or the aggregate it supports."""
    if case.kind == "aggregate":
        return top_words_recall(pack_text, case.answers)
    found = evidence_found(pack_text, [n.text for n in case.needles])
    return sum(found) / len(found) if found else 0.0


def source_of(uri: str, specs: Sequence[str]) -> str | None:
    """The source spec a packed block's URI came from (files are shown by name or relative path)."""
    base = uri.split("#", 1)[0]
    for spec in specs:
        if "://" in spec:
            if base == spec:
                return spec
            continue
        path = PurePosixPath(spec)
        if base == spec or base == path.name or base.endswith("/" + path.as_posix()):
            return spec
        if base.startswith(path.name + "/"):  # a folder source among several: "corpus/notes.md"
            return spec
    return None


def precision_recall(chosen: Iterable[str], relevant: Iterable[str]) -> tuple[float, float]:
    """Precision and recall of a set of sources against the relevant ones (0 when nothing chosen)."""
    got, want = set(chosen), set(relevant)
    if not want:
        return 0.0, 0.0
    hit = len(got & want)
    return (hit / len(got) if got else 0.0), hit / len(want)
