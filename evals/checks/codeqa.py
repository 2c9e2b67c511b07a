"""Code QA file recall: does a query-aware pack hold the files a reference answer cites?

A question set is a JSONL of `{"question": ..., "answer": ...}` (the answer cites files in
backticks, as SWE-QA's do) or `{"question": ..., "files": [...]}`, about one repository. For
each budget, forage packs the repository for each question (`forage pack -q Q --budget B`, the
same code path) and we count the share of cited files that reach the pack as text ("any fidelity":
a 3-line excerpt counts) and as a whole block ("in full": a block at fidelity `full`). A plain BM25
ranker over 60-line chunks, filled to the same budget in the same run, is the baseline.

Run: python -m evals.checks.codeqa --repo PATH --questions JSONL --budgets 4k,16k,64k [--out report.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.state import Document

BASELINE_LINES = 60
_TICKED = re.compile(r"`([^`\n]+)`")
_LINE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")


@dataclass(frozen=True)
class CodeQuestion:
    """One question, its reference answer, and the repository files the answer relies on."""

    question: str
    answer: str
    files: tuple[str, ...]  # repo-relative posix paths that exist in the repository
    index: int = 0  # position in the question set, from 0


def repo_relative(raw: str, repo_root: Path) -> str | None:
    """A path as written in an answer or a manifest, relative to the repo root, if it is a file there."""
    text = raw.strip()
    text = text.removeprefix("file://")
    text = _LINE_SUFFIX.sub("", text)
    if not text or any(c in text for c in "\0\n"):
        return None
    root = repo_root.resolve()
    path = Path(text)
    candidates = []
    if path.is_absolute():
        with contextlib.suppress(ValueError, OSError):
            candidates.append(path.resolve().relative_to(root).as_posix())
        candidates.append(text.lstrip("/"))  # "/src/x.py": written from the repo root
    else:
        candidates.append(text)
        if len(path.parts) > 1 and path.parts[0] == root.name:  # "repo/src/x.py" (several roots)
            candidates.append(Path(*path.parts[1:]).as_posix())
    for cand in candidates:
        norm = Path(cand).as_posix().removeprefix("./")
        if norm in ("", ".") or norm.startswith("../"):
            continue
        try:
            if (root / norm).is_file():
                return norm
        except OSError:
            continue
    return None


def cited_files(answer: str, repo_root: Path) -> list[str]:
    """The backticked paths in an answer that are files of the repository, each once, in order."""
    found: list[str] = []
    for raw in _TICKED.findall(answer):
        rel = repo_relative(raw, repo_root)
        if rel is not None and rel not in found:
            found.append(rel)
    return found


def load_questions(jsonl_path: Path | str, repo_root: Path | str) -> list[CodeQuestion]:
    """Read a question set; each question keeps the cited files that exist in the repository."""
    root = Path(repo_root)
    out: list[CodeQuestion] = []
    with open(jsonl_path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{jsonl_path}:{n}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                raise ValueError(f'{jsonl_path}:{n}: expected an object with a "question" string')
            answer = str(row.get("answer") or "")
            if isinstance(row.get("files"), list):
                files = [f for f in (repo_relative(str(x), root) for x in row["files"]) if f]
            else:
                files = cited_files(answer, root)
            out.append(CodeQuestion(row["question"].strip(), answer, tuple(dict.fromkeys(files)), len(out)))
    return out


def file_recall(packed_uris_or_paths: Iterable[str], files: Sequence[str], repo_root: Path | str) -> float:
    """The share of `files` (repo-relative) found among the packed URIs or paths.

    Raises ValueError when there is nothing to recall: such a question cannot be scored.
    """
    if not files:
        raise ValueError("no cited files to recall")
    root = Path(repo_root)
    packed = {repo_relative(u, root) for u in packed_uris_or_paths}
    want = {repo_relative(f, root) or f for f in files}
    return sum(1 for f in want if f in packed) / len(want)


def parse_budgets(text: str) -> list[int]:
    """'4k,16k,64k' -> [4096, 16384, 65536]; plain numbers are tokens."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        mult = 1024 if part.endswith("k") else 1024 * 1024 if part.endswith("m") else 1
        number = part.rstrip("km")
        if not number.isdigit() or int(number) <= 0:
            raise ValueError(f"--budgets: {part!r} is not a token count like 4k or 16000")
        out.append(int(number) * mult)
    if not out:
        raise ValueError("--budgets: give at least one budget, like 4k,16k")
    return out


# ---------------------------------------------------------------- the two methods


class BM25Baseline:
    """Plain BM25 (agent/retrieval/bm25.py, English stop words) over fixed 60-line chunks, filled best first.

    Plain on purpose: words as a search engine splits them (no identifier parts, no paths, no
    other signals), so the baseline shows what forage's code-aware ranking adds.
    """

    def __init__(self, documents: Sequence[Document], count_tokens: Callable[[str], int]) -> None:
        from agent.retrieval.bm25 import BM25

        self.chunks: list[tuple[str, str]] = []  # (uri, text)
        for doc in documents:
            lines = doc.text.splitlines(keepends=True)
            for lo in range(0, len(lines), BASELINE_LINES):
                text = "".join(lines[lo : lo + BASELINE_LINES])
                if text.strip():
                    self.chunks.append((doc.uri, text))
        frame = count_tokens("## [00] :1-60\n```python\n\n```\n")
        self.costs = [count_tokens(t) + count_tokens(u) + frame for u, t in self.chunks]
        # A chunk of stop words only counts as one (empty) word, as in bm25s, which this replaced.
        self.bm25 = BM25([_words(t) or [""] for _, t in self.chunks])

    def files(self, question: str, budget: int) -> list[str]:
        """The files of the best chunks that fit the budget, best first."""
        import numpy as np

        words = Counter(_words(question))
        if not words:
            return []
        # A word the question repeats counts as often as it is repeated.
        scores = sum(n * self.bm25.scores([w]) for w, n in words.items())
        used, out = 0, []
        for i in np.argsort(-scores, kind="stable"):
            if scores[i] <= 0:
                break
            if used + self.costs[i] <= budget:
                used += self.costs[i]
                out.append(self.chunks[i][0])
        return list(dict.fromkeys(out))


# Lucene's English stop words (bm25s's STOPWORDS_EN, which the baseline used before).
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
_WORD = re.compile(r"(?u)\b\w\w+\b")


def _words(text: str) -> list[str]:
    """Lower-cased words of two or more letters or digits, stop words left out."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


@dataclass
class PackedFiles:
    """The files of one forage pack, by the fidelity they reached it at."""

    full: list[str] = field(default_factory=list)  # their text: chunks in full, or excerpts (lines)
    outline: list[str] = field(default_factory=list)  # signatures and docstrings only
    excerpt: list[str] = field(default_factory=list)  # of `full`, those with a block as an excerpt
    whole: list[str] = field(default_factory=list)  # of `full`, those with a block at fidelity `full`
    seconds: float = 0.0


def forage_files(documents: Sequence[Document], question: str, budget: int, settings: Any) -> PackedFiles:
    """Pack the documents for the question under the budget as `forage pack` does; list its files."""
    from agent.pack.routing import choose_route, pack_documents
    from agent.tokens import TokenCounter

    started = time.perf_counter()
    gathered = sum(d.tokens for d in documents)
    route, room = choose_route(settings.route, gathered, budget)
    pack, _ = pack_documents(
        documents, question, settings=settings, counter=TokenCounter(), route=route, budget=room,
        with_question=False,
    )  # fmt: skip
    out = PackedFiles(seconds=time.perf_counter() - started)
    for block in pack.manifest:
        fidelity = getattr(block, "fidelity", "full")
        if fidelity in ("full", "excerpt"):
            out.full.append(block.uri)
            (out.excerpt if fidelity == "excerpt" else out.whole).append(block.uri)
        elif fidelity == "outline":
            out.outline.append(block.uri)
    return out


def score_question(
    documents: Sequence[Document],
    baseline: BM25Baseline,
    question: str,
    files: Sequence[str],
    budget: int,
    settings: Any,
    repo_root: Path,
) -> dict[str, Any]:
    """One question's row at one budget: forage's pack and the baseline's, scored by recall_row.

    `files` are repo-relative paths of files under `repo_root`, the folder the documents were read from.
    """
    packed = forage_files(documents, question, budget, settings)
    return recall_row(packed, baseline.files(question, budget), files, repo_root)


def recall_row(
    packed: PackedFiles, bm25_files: Sequence[str], files: Sequence[str], repo_root: Path
) -> dict[str, Any]:
    """File recall of forage at any fidelity, in full and with outlines, and of BM25; the files missed."""
    reached = {repo_relative(u, repo_root) for u in packed.full}
    whole = {repo_relative(u, repo_root) for u in packed.whole}
    return {
        "cited": len(files),
        "forage": file_recall(packed.full, files, repo_root),
        "forage_full": file_recall(packed.whole, files, repo_root),
        "forage_with_outlines": file_recall(packed.full + packed.outline, files, repo_root),
        "bm25": file_recall(bm25_files, files, repo_root),
        "seconds": round(packed.seconds, 3),
        "missed": sorted(set(files) - reached),
        "not_in_full": sorted(set(files) - whole),
    }


# ---------------------------------------------------------------- the run


def _summary(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    hit = sum(r[key] * r["cited"] for r in rows)
    cited = sum(r["cited"] for r in rows)
    return {
        "file_recall": round(hit / cited, 3) if cited else float("nan"),  # share of all cited files
        "question_mean": round(statistics.mean(r[key] for r in rows), 3) if rows else float("nan"),
    }


def _halves(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The scored questions at even and at odd positions (0, 2, 4, ... and 1, 3, ...): tune on one, report the other."""
    return {"even": rows[0::2], "odd": rows[1::2]}


def budget_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one budget over rows of score_question: recall per method, halves, the rows."""
    return {
        "forage": _summary(rows, "forage"),
        "forage_full": _summary(rows, "forage_full"),
        "forage_with_outlines": _summary(rows, "forage_with_outlines"),
        "bm25_60_lines": _summary(rows, "bm25"),
        "pack_seconds_median": round(statistics.median(r["seconds"] for r in rows), 3) if rows else 0.0,
        "halves": {
            half: {key: _summary(part, key)["file_recall"] for key in ("forage", "forage_full", "bm25")}
            for half, part in _halves(rows).items()
        },
        "rows": rows,
    }


def run(repo: Path, questions: list[CodeQuestion], budgets: list[int], settings: Any) -> dict[str, Any]:
    """Score forage and the BM25 baseline on every scorable question at every budget."""
    from agent.session.direct import gather_local
    from agent.tokens import TokenCounter

    started = time.perf_counter()
    documents, failures = gather_local([str(repo)], settings)
    if not documents:
        raise ValueError(f"{repo}: nothing readable was found there ({'; '.join(failures)})")
    counter = TokenCounter()
    baseline = BM25Baseline(documents, counter)
    scorable = [q for q in questions if q.files]
    report: dict[str, Any] = {
        "repo": str(repo),
        "documents": len(documents),
        "corpus_tokens": sum(d.tokens for d in documents),
        "questions": len(questions),
        "scored_questions": len(scorable),
        "cited_files": sum(len(q.files) for q in scorable),
        "budgets": {},
    }
    for budget in budgets:
        rows = [
            {"index": q.index, "question": q.question[:120]}
            | score_question(documents, baseline, q.question, q.files, budget, settings, repo)
            for q in scorable
        ]
        report["budgets"][str(budget)] = budget_summary(rows)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def recall_lines(budgets: dict[str, dict[str, Any]]) -> list[str]:
    """The table of file recall per budget (any fidelity, in full, with outlines, BM25), header first."""
    lines = [
        f"{'budget':>8}  {'forage':>7}  {'in full':>7}  {'+outline':>8}  {'bm25-60':>7}  {'s/pack':>6}"
        "  halves (even | odd positions): forage, in full, bm25-60",
    ]
    for budget, row in budgets.items():
        halves = row.get("halves", {})
        split = " | ".join(
            ", ".join(f"{halves[h][k]:.3f}" for k in ("forage", "forage_full", "bm25"))
            for h in ("even", "odd")
            if h in halves
        )
        lines.append(
            f"{int(budget):>8}  {row['forage']['file_recall']:>7.3f}  {row['forage_full']['file_recall']:>7.3f}  "
            f"{row['forage_with_outlines']['file_recall']:>8.3f}  {row['bm25_60_lines']['file_recall']:>7.3f}  "
            f"{row['pack_seconds_median']:>6.2f}  {split}"
        )
    return lines


def format_table(report: dict[str, Any], head: str | None = None) -> str:
    """A short plain-text table of file recall per budget, under a line saying what was measured."""
    head = head or (
        f"{report['repo']}: {report['scored_questions']} questions citing {report['cited_files']} files "
        f"({report['documents']} files, {report['corpus_tokens']:,} tokens)"
    )
    return "\n".join([head, *recall_lines(report["budgets"])])


def add_pack_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that choose how forage packs: its data dir, the dense engine, the ladder."""
    parser.add_argument("--data-dir", type=Path, help="forage's caches and index (default: the user's)")
    parser.add_argument("--embedding", choices=["auto", "local", "gemini", "none"], help="dense engine")
    parser.add_argument("--ladder", choices=["on", "off"], help="fidelity ladder (default: on)")


def pack_settings(args: argparse.Namespace) -> Any:
    """Settings from add_pack_flags' flags, over the environment and the config files."""
    from agent.settings import load_settings

    flags = {"data_dir": args.data_dir, "embedding": args.embedding}
    if args.ladder:
        flags["ladder"] = args.ladder == "on"
    return load_settings({k: v for k, v in flags.items() if v is not None})


def write_out(report: dict[str, Any], out: Path | None) -> None:
    """Write the JSON report when asked to."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo", type=Path, required=True, help="the repository checkout the questions are about"
    )
    parser.add_argument(
        "--questions", type=Path, required=True, help="JSONL of {question, answer} or {question, files}"
    )
    parser.add_argument("--budgets", default="4k,16k,64k", help="token budgets, comma-separated")
    add_pack_flags(parser)
    parser.add_argument("--limit", type=int, help="score only the first N questions (a smoke run)")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    try:
        budgets = parse_budgets(args.budgets)
        questions = load_questions(args.questions, args.repo)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.limit:
        questions = questions[: args.limit]
    report = run(args.repo, questions, budgets, pack_settings(args))
    print(format_table(report))
    write_out(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
