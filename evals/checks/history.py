"""History-labelled file recall: retrieval measured on any repository, with no labels written by hand.

Each sampled commit (evals/checks/commits.py) asks its cleaned message about the tree at its
parent; its gold is the source files it changed. For each commit, the parent's tree is checked
out into one private folder (a private index, so the repository itself is not touched: a bare
mirror works), read as `forage pack` reads a folder, and packed at each budget; the figures and
the BM25 baseline are codeqa's (score_question), so both reports read the same way.

Run: python -m evals.checks.history --repo PATH [--limit 30] [--budgets 4k,8k,16k] [--max-files 8]
     [--seed 0] [--embedding none] [--ladder on|off] [--data-dir DIR] [--out report.json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.checks import codeqa
from evals.checks.codeqa import BM25Baseline, budget_summary, repo_relative, score_question
from evals.checks.commits import MAX_FILES, HistoryQuestion, git, sample

DEFAULT_BUDGETS = "4k,8k,16k"
DEFAULT_LIMIT = 30


class ParentTrees:
    """One private checkout that moves from commit to commit, rewriting only the files that differ."""

    def __init__(self, repo: Path, folder: Path) -> None:
        self.git_dir = git(repo, "rev-parse", "--absolute-git-dir").strip()
        self.tree = folder / "tree"
        self.index = folder / "index"  # outside the tree: it is no file of the corpus
        self.tree.mkdir(parents=True, exist_ok=True)
        self.commit: str | None = None
        self.missing: list[str] = []  # files of the current tree whose content the repository lacks

    def _git(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", f"--git-dir={self.git_dir}", f"--work-tree={self.tree}", *args],
            input=stdin, env={**os.environ, "GIT_INDEX_FILE": str(self.index)}, capture_output=True, check=False,
        )  # fmt: skip

    def checkout(self, commit: str) -> Path:
        """The folder, holding exactly the tree of `commit` (less any file whose content is missing)."""
        if commit == self.commit:
            return self.tree
        self.missing = []
        done = self._git("read-tree", "--reset", "-u", commit)
        if done.returncode != 0 and b"unable to read" in done.stderr:
            done = self._without_missing_blobs(commit)
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()
            raise ValueError(f"could not check out {commit[:12]}: {said or done.returncode}")
        self.commit = commit
        return self.tree

    def _without_missing_blobs(self, commit: str) -> subprocess.CompletedProcess[bytes]:
        """Check out the readable files only: a mirror may leave out its largest blobs."""
        done = self._git("read-tree", "--reset", commit)  # the index alone needs no blob
        if done.returncode != 0:
            return done
        entries = [e.split(b"\t", 1) for e in self._git("ls-files", "-s", "-z").stdout.split(b"\0") if e]
        shas = b"\n".join(meta.split()[1] for meta, _ in entries) + b"\n"
        answers = self._git("cat-file", "--batch-check", stdin=shas).stdout.splitlines()
        gone = [
            path for (_, path), answer in zip(entries, answers, strict=True) if answer.endswith(b" missing")
        ]
        self.missing = [p.decode("utf-8", "replace") for p in gone]
        self._git("update-index", "--force-remove", "-z", "--stdin", stdin=b"\0".join(gone) + b"\0")
        done = self._git("checkout-index", "--all", "--force")
        if done.returncode == 0:
            done = self._git("clean", "-fdxq")  # what the previous tree had and this one lacks
        return done


def run(
    repo: Path,
    questions: Sequence[HistoryQuestion],
    budgets: list[int],
    settings: Any,
    *,
    on_question: Callable[[int, HistoryQuestion, float], None] | None = None,
) -> dict[str, Any]:
    """Score forage and the BM25 baseline on every commit's question at every budget, each on its parent's tree."""
    from agent.session.direct import gather_local
    from agent.tokens import TokenCounter

    started = time.perf_counter()
    counter = TokenCounter()
    rows: dict[int, list[dict[str, Any]]] = {b: [] for b in budgets}
    unscored: list[dict[str, Any]] = []
    sizes: list[tuple[int, int]] = []  # (documents, tokens) of each parent's corpus
    with tempfile.TemporaryDirectory(prefix="forage-history-") as tmp:
        trees = ParentTrees(repo, Path(tmp))
        for q in questions:
            t0 = time.perf_counter()
            root = trees.checkout(q.parent)
            documents, _ = gather_local([str(root)], settings, counter)
            read = {repo_relative(d.uri, root) for d in documents}
            gold = [f for f in q.files if f in read]  # a file forage does not read cannot be recalled
            about = {"index": q.index, "sha": q.sha, "subject": q.subject, "question": q.question}
            if trees.missing:  # not in the corpus: the repository lacks their content
                about["missing_from_repository"] = trees.missing[:20]
            if unread := [f for f in q.files if f not in read]:
                about["gold_not_read"] = unread  # forage skips them (too big, binary, ignored)
            if not gold:
                unscored.append(about | {"gold": list(q.files), "reason": "no gold file is in the corpus"})
                continue
            sizes.append((len(documents), sum(d.tokens for d in documents)))
            baseline = BM25Baseline(documents, counter)
            for budget in budgets:
                row = score_question(documents, baseline, q.question, gold, budget, settings, root)
                rows[budget].append(about | {"gold": gold} | row)
            if on_question is not None:
                on_question(q.index, q, time.perf_counter() - t0)
    scored = rows[budgets[0]] if budgets else []
    return {
        "repo": str(repo),
        "commits": len(questions),
        "scored_questions": len(scored),
        "cited_files": sum(r["cited"] for r in scored),
        "documents": round(sum(d for d, _ in sizes) / len(sizes)) if sizes else 0,  # mean over parents
        "corpus_tokens": round(sum(t for _, t in sizes) / len(sizes)) if sizes else 0,
        "unscored": unscored,
        "budgets": {str(b): budget_summary(rows[b]) for b in budgets},
        "seconds": round(time.perf_counter() - started, 1),
    }


def format_table(report: dict[str, Any]) -> str:
    """The same table as codeqa's: file recall per budget, any fidelity and in full, next to BM25."""
    return codeqa.format_table(
        report,
        f"{report['repo']}: {report['scored_questions']} of {report['commits']} commits, changing "
        f"{report['cited_files']} source files (parent trees of {report['documents']:,} files, "
        f"{report['corpus_tokens']:,} tokens on average); {report['seconds']:.0f}s",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo", type=Path, required=True, help="a git repository (a checkout or a bare mirror)"
    )
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="commits to sample (default 30)")
    parser.add_argument("--budgets", default=DEFAULT_BUDGETS, help="token budgets, comma-separated")
    parser.add_argument(
        "--max-files", type=int, default=MAX_FILES, help="skip commits touching more source files"
    )
    parser.add_argument("--seed", type=int, default=0, help="which commits are sampled")
    codeqa.add_pack_flags(parser)
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    try:
        budgets = codeqa.parse_budgets(args.budgets)
        questions = sample(args.repo, args.limit, seed=args.seed, max_files=args.max_files)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not questions:
        print(
            f"error: {args.repo}: no commit passed the filters (see evals/checks/commits.py)", file=sys.stderr
        )
        return 1

    def progress(n: int, q: HistoryQuestion, seconds: float) -> None:
        print(f"[{n + 1}/{len(questions)}] {q.sha[:10]} {seconds:.1f}s {q.subject[:70]}", file=sys.stderr)

    report = run(args.repo, questions, budgets, codeqa.pack_settings(args), on_question=progress)
    print(format_table(report))
    codeqa.write_out(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
