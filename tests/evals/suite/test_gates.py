"""Every gate of every suite passes on a pack that holds the evidence and fails on one that lost it.

The packs here are built from each case's own files (no agent run: test_runner.py does that);
what is under test is that each gate's metric notices a broken strategy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models.extractive import ExtractiveModel
from agent.pack.packing import build_pack
from agent.settings import Settings
from agent.state import Document, Usage
from evals.suite.runner import make_row
from evals.suite.strategies import Outcome, Trial
from evals.suite.summary import check_gates
from evals.tasks.base import BuildContext, Case
from evals.tasks.registry import SUITES

GATED = [name for name, s in SUITES.items() if s.gates and not s.own_rows]


def documents(case: Case, folder: Path, *, broken: bool) -> list[Document]:
    """The case's text files as documents (pages and PDFs by their needle); broken: evidence removed."""
    docs = []
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".txt", ".rst"))
    if broken and case.kind == "aggregate":
        files = files[:1]  # a sample of the list: its counts no longer rank the true top words
    for path in files:
        rel = path.relative_to(folder).as_posix()
        text = path.read_text()
        for needle in case.needles:
            if broken:
                text = text.replace(needle.text, "")
        if broken and rel in case.relevant:
            continue
        docs.append(
            Document(
                id=rel,
                uri=Path(rel).name if case.relevant else rel,
                text=text,
                hash=rel,
                tokens=len(text) // 4,
            )
        )
    for needle in case.needles:
        if not needle.where.endswith((".md", ".txt", ".rst")) and not broken:
            docs.append(
                Document(id=needle.where, uri=needle.where, text=needle.text, hash=needle.where, tokens=20)
            )
    return docs


def outcome(case: Case, folder: Path, *, broken: bool) -> Outcome:
    docs = documents(case, folder, broken=broken)
    pack = build_pack(docs, case.question, count_tokens=lambda t: len(t) // 4)
    answer = "" if broken else "\n".join(n.text for n in case.needles) or pack.prefix
    return Outcome(pack=pack, answer=answer, extractive=True, usage=Usage(), tool_calls=1,
                   gathered_tokens=10**6, seconds=0.1, route="test")  # fmt: skip


@pytest.mark.parametrize("suite", GATED)
def test_each_gate_fails_on_a_broken_strategy(suite: str, tmp_path: Path) -> None:
    case = SUITES[suite].build(8192, 0, tmp_path, BuildContext(haystack="generated"))
    trial = Trial(
        case, [], Settings(window=4096, reserve=1024, data_dir=tmp_path), ExtractiveModel(window=4096)
    )
    for broken in (False, True):
        rows = [
            make_row(case, gate.strategy, outcome(case, tmp_path, broken=broken), trial, "extractive")
            for gate in SUITES[suite].gates
        ]
        results = check_gates(rows)
        assert len(results) == len(SUITES[suite].gates)
        verdicts = [g.passed for g in results]
        assert verdicts == [not broken] * len(verdicts), [g.describe() for g in results]


def test_safety_gates_fail_when_one_attack_gets_through_or_clean_code_is_redacted() -> None:
    from evals.checks.safety import Case as Attack
    from evals.checks.safety import Report
    from evals.tasks.safety import safety_rows

    def report(blocked: bool, redactions: int) -> Report:
        return Report(
            attacks=[Attack("secrets", "aws key in .env", True), Attack("exfiltration", "query string", blocked)],
            clean={"code (installed libraries)": {"files": 10, "redactions": redactions},
                   "prose (package READMEs)": {"documents": 3, "flagged": 1, "examples": ["x: [tool_call]"]}},
        )  # fmt: skip

    verdicts = lambda r: [g.passed for g in check_gates(safety_rows(r))]  # noqa: E731
    assert verdicts(report(True, 0)) == [True, True]
    assert verdicts(report(False, 0)) == [False, True]
    assert verdicts(report(True, 2)) == [True, False]
    rows = safety_rows(report(True, 0))
    assert [r["strategy"] for r in rows] == ["guards", "guards", "clean", "clean"] and rows[-1][
        "correct"
    ] is None
