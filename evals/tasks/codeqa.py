"""codeqa: a user's own questions about a repository, scored by file recall per pack budget.

The questions and the scorer belong to `evals.checks.codeqa` (load_questions, file_recall); this
adapter only turns each question into a case of the runner: the repository is the one
source, the size is the pack budget, and the evidence is the files the reference answer cites.

Options (forage eval run codeqa --repo PATH --questions FILE.jsonl [--limit N]).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.tasks.base import BuildContext, Case, Suite


def _module() -> Any:
    """evals.checks.codeqa (load_questions, file_recall), or a clear error while it has not landed."""
    try:
        from evals.checks import codeqa
    except ImportError as exc:
        raise RuntimeError(
            "the codeqa suite needs evals/checks/codeqa.py (load_questions, file_recall), which is not in "
            "this checkout yet; it lands with the code-aware ranking work (issue 9)"
        ) from exc
    return codeqa


class CodeQA(Suite):
    name = "codeqa"
    description = "your questions about a repository ({question, answer} JSONL): file recall per budget"
    example = (
        "forage eval run codeqa --repo ~/src/pytest --questions ../shared/datasets/swe-qa-dev/pytest.jsonl "
        "--sizes 4k,16k,64k --strategies select --out runs/codeqa"
    )

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str, int | None], list[Any]] = {}

    def _questions(self, ctx: BuildContext) -> tuple[list[Any], Path]:
        repo, questions = ctx.options.get("repo"), ctx.options.get("questions")
        if not repo or not questions:
            raise RuntimeError("the codeqa suite needs --repo PATH and --questions FILE.jsonl")
        repo_root = Path(repo).expanduser().resolve()
        if not repo_root.is_dir():
            raise RuntimeError(
                f"--repo {repo}: not a folder; give the repository checkout the questions are about"
            )
        limit = ctx.options.get("limit")
        key = (str(repo_root), str(questions), limit)
        if key not in self._loaded:
            # A question whose answer cites no file of the repository cannot be scored by file recall.
            loaded = [q for q in _module().load_questions(Path(questions).expanduser(), repo_root) if q.files]
            self._loaded[key] = loaded[:limit] if limit else loaded
        return self._loaded[key], repo_root

    def cases(self, sizes: list[int], seeds: int, ctx: BuildContext) -> list[tuple[int, int]]:
        questions, _ = self._questions(ctx)
        return [(size, n) for size in sizes for n in range(len(questions))]

    def settings_for(self, case: Case, window: int, reserve: int) -> dict[str, Any]:
        return {"budget": case.size, "window": max(window, case.size + reserve)}

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        questions, repo_root = self._questions(ctx)
        q = questions[seed]
        return Case(
            suite=self.name, size=size, seed=seed, question=q.question, answers=[], needles=[],
            sources=[str(repo_root)], corpus_tokens=0, kind="files", relevant=list(q.files),
            meta={"repo": str(repo_root), "budget": size},
        )  # fmt: skip


def file_recall(paths: list[str], case: Case) -> float:
    """The share of the case's cited files among paths, by evals.checks.codeqa's own scorer."""
    return float(_module().file_recall(paths, case.relevant, Path(case.meta["repo"])))
