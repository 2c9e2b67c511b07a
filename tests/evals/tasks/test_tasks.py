"""The generators: seeded, sized as asked, needles findable, and no one phrase marks a needle."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from evals.suite.scoring import evidence_score, normalize
from evals.tasks.base import SITE, BuildContext
from evals.tasks.haystack import generated_pool, stdlib_pool
from evals.tasks.registry import GENERATED, SUITES, expand
from evals.tasks.words import list_items, top_words

CTX = BuildContext(haystack="generated")
LOCAL = [s for s in GENERATED if not SUITES[s].needs and not SUITES[s].own_rows]


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pdf"):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def corpus_text(folder: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".md", ".txt", ".rst")
    )


@pytest.mark.parametrize("suite", LOCAL)
def test_same_seed_same_bytes_and_findable_evidence(suite: str, tmp_path: Path) -> None:
    a = SUITES[suite].build(8192, 3, tmp_path / "a", CTX)
    b = SUITES[suite].build(8192, 3, tmp_path / "b", CTX)
    assert a.to_json() == b.to_json() and tree_hash(tmp_path / "a") == tree_hash(tmp_path / "b")
    c = SUITES[suite].build(8192, 4, tmp_path / "c", CTX)
    assert c.question != a.question or c.answers != a.answers
    assert 0.8 * 8192 <= a.corpus_tokens <= 1.25 * 8192
    text = corpus_text(tmp_path / "a")
    assert evidence_score(a, text) == 1.0  # everything a pack needs is in the corpus
    for needle in a.needles:
        assert 0.0 <= needle.depth <= 1.0 and needle.text in (tmp_path / "a" / needle.where).read_text()


def test_needle_wording_key_kinds_and_relations_vary(tmp_path: Path) -> None:
    cases = [SUITES["niah-single"].build(2048, seed, tmp_path / str(seed), CTX) for seed in range(40)]
    kinds = Counter(c.meta["key_kind"] for c in cases)
    relations = Counter(c.meta["relation"] for c in cases)
    assert set(kinds) == {"name", "uuid", "number", "path"} and len(relations) >= 6
    # No phrase of three words is shared by most needles: the wording does not identify them.
    grams: Counter[str] = Counter()
    for c in cases:
        words = normalize(c.needles[0].text.replace(c.answers[0], " ")).split()
        grams.update({" ".join(words[i : i + 3]) for i in range(len(words) - 2)})
    assert grams.most_common(1)[0][1] <= len(cases) * 0.35, grams.most_common(3)
    assert len({c.question.split()[0] for c in cases}) >= 4  # questions are worded several ways too


def test_multikey_distractors_are_near_misses_with_other_values(tmp_path: Path) -> None:
    case = SUITES["niah-multikey"].build(16384, 1, tmp_path, CTX)
    assert case.meta["distractor_needles"] >= 10 and case.distractors
    assert not set(case.distractors) & set(case.answers)
    text = corpus_text(tmp_path)
    assert sum(text.count(d) for d in case.distractors) >= len(case.distractors)


def test_variable_chain_is_in_order_and_names_are_the_answer(tmp_path: Path) -> None:
    case = SUITES["variable-tracking"].build(8192, 2, tmp_path, CTX)
    depths = [n.depth for n in case.needles]
    assert depths == sorted(depths) and len(case.answers) == 5
    assert case.meta["value"] in case.needles[0].text and case.meta["value"] in case.question
    assert all(name not in case.question for name in case.answers)


def test_common_words_truth_is_the_corpus_top_ten(tmp_path: Path) -> None:
    case = SUITES["common-words"].build(8192, 0, tmp_path, CTX)
    assert top_words(list_items(corpus_text(tmp_path))) == case.answers


def test_cross_source_splits_over_files_pages_and_pdfs(tmp_path: Path) -> None:
    case = SUITES["cross-source"].build(8192, 0, tmp_path, CTX)
    assert [Path(n.where).parts[0] for n in case.needles] == ["corpus", "web", "pdf"]
    assert any(s.startswith(SITE) for s in case.sources) and "pdf" in case.sources
    assert (tmp_path / case.needles[2].where).read_bytes().startswith(b"%PDF")
    page = (tmp_path / case.needles[1].where).read_text()
    assert case.needles[1].text in page and "<article>" in page


def test_gather_marks_the_few_relevant_sources(tmp_path: Path) -> None:
    case = SUITES["gather"].build(32768, 0, tmp_path, CTX)
    assert len(case.sources) >= 15 and 2 <= len(case.relevant) <= 3
    assert set(case.relevant) <= set(case.sources)


def test_haystacks_are_deterministic_and_stdlib_is_prefix_stable(tmp_path: Path) -> None:
    assert generated_pool(5000) == generated_pool(5000)
    small = stdlib_pool(20_000)
    assert sum(map(len, small)) >= 20_000
    assert stdlib_pool(60_000)[: len(small)] == small  # a bigger pool extends, never reshuffles


def test_expand_and_unknown_suites() -> None:
    assert expand(["all"]) == GENERATED and "codeqa" not in GENERATED and "safety" in GENERATED
    assert expand(["niah-single,gather", "gather"]) == ["niah-single", "gather"]
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        expand(["nope"])
