"""Query-time pack speed on a real repository: dense (warm, cold) against lexical-only, same run.

Each figure is a fresh `forage pack REPO -q QUESTION --budget B` process (what a user runs), so
imports, reading, chunking, ranking and packing are all counted. Measured, in this order:
  lexical   --embedding none (the baseline): median of --runs questions
  cold      --embedding local against an empty data dir (first contact: lexical ranking at once,
            the rest embedded in the background)
  warm      --embedding local after `forage index REPO` (every vector cached): median
Reported: wall seconds and peak RSS (MB) of each, and warm / lexical, cold / lexical.
Targets (issue 9): warm about 1 s on a ~300k-token repository, at most 1.5x the lexical pack.

Run: python -m evals.perf.bench_query --repo PATH [--runs 5] [--budget 16000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from evals.perf.common import RESULTS, median, publish, run_measured

QUESTIONS = [
    "Where is the configuration file parsed and validated?",
    "How are errors reported to the user?",
    "Which function decides the order in which plugins are loaded?",
    "How does caching work between runs?",
    "Where are command-line options defined?",
    "How are temporary files and directories cleaned up?",
    "What happens when an exception is raised inside a hook?",
]


def _pack(repo: Path, question: str, budget: int, data_dir: Path, embedding: str) -> tuple[float, float]:
    env = {**os.environ, "FORAGE_DATA_DIR": str(data_dir), "FORAGE_EMBEDDING": embedding}
    out = Path(data_dir) / "pack.md"
    cmd = [sys.executable, "-m", "cli.app", "pack", str(repo), "-q", question, "--budget", str(budget),
           "-o", str(out), "--quiet"]  # fmt: skip
    run = run_measured(cmd, env=env, cwd=Path(__file__).resolve().parents[2])
    if run.returncode not in (0, 3):
        raise RuntimeError(f"forage pack failed ({run.returncode}): {run.stderr[-2000:]}")
    return run.seconds, run.peak_rss_mb


def _wait_for_background(data_dir: Path, timeout: float = 1800) -> None:
    from agent.retrieval.background import _worker_running, pending_dir

    spool = pending_dir(data_dir)
    deadline = time.monotonic() + timeout
    while spool.is_dir() and (list(spool.glob("*.jsonl")) or _worker_running(spool)):
        if time.monotonic() > deadline:
            break
        time.sleep(1)


def bench(repo: Path, budget: int, runs: int) -> dict[str, object]:
    questions = (QUESTIONS * (1 + runs // len(QUESTIONS)))[:runs]
    with tempfile.TemporaryDirectory(prefix="forage-bench-query-") as tmp:
        data = Path(tmp)
        lexical = [_pack(repo, q, budget, data / "lexical", "none") for q in questions]
        cold = _pack(repo, questions[0], budget, data / "dense", "local")
        _wait_for_background(data / "dense")
        env = {**os.environ, "FORAGE_DATA_DIR": str(data / "dense")}
        started = time.perf_counter()
        index = run_measured([sys.executable, "-m", "cli.app", "index", str(repo), "-q"], env=env,
                             cwd=Path(__file__).resolve().parents[2])  # fmt: skip
        index_s = time.perf_counter() - started
        warm = [_pack(repo, q, budget, data / "dense", "local") for q in questions]
    lex_s = median([s for s, _ in lexical])
    warm_s = median([s for s, _ in warm])
    return {
        "repo": str(repo),
        "budget": budget,
        "runs": runs,
        "lexical_s_median": round(lex_s, 3),
        "lexical_peak_mb": round(max(m for _, m in lexical), 1),
        "cold_s": round(cold[0], 3),
        "cold_peak_mb": round(cold[1], 1),
        "index_s": round(index_s, 1),
        "index_peak_mb": round(index.peak_rss_mb, 1),
        "warm_s_median": round(warm_s, 3),
        "warm_peak_mb": round(max(m for _, m in warm), 1),
        "warm_over_lexical": round(warm_s / lex_s, 2),
        "cold_over_lexical": round(cold[0] / lex_s, 2),
        "load_average": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a repository checkout")
    parser.add_argument("--budget", type=int, default=16_000)
    parser.add_argument("--runs", type=int, default=5, help="questions per median")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_query.json")
    args = parser.parse_args(argv)
    result = bench(args.repo, args.budget, args.runs)
    publish(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
