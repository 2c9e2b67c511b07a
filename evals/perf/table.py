"""`forage eval perf`: run the evals/perf benchmarks several times, one table of medians.

Every figure is measured against a baseline in the same run (sequential vs concurrent fetch,
one process vs the pool, naive vs batched embedding, a cold vs a repeated select, Repomix vs
forage pack). Each benchmark runs in a fresh process, `runs` times; the table shows the median
of each figure and the spread (min-max), so a noisy machine shows up as a wide range.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agent.events import ignore

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Figure:
    bench: str
    path: tuple[str, ...]  # keys into the benchmark's JSON result
    label: str
    baseline: str
    target: str  # ">= 4", "< 0.05"
    unit: str = "x"  # "x" ratio, "s" seconds, "ms", "share"

    def passes(self, value: float) -> bool | None:
        if not self.target:
            return None  # measured and shown, no target set for it
        op, limit = self.target.split()
        return (
            value >= float(limit)
            if op == ">="
            else value < float(limit)
            if op == "<"
            else value <= float(limit)
        )


FIGURES = (
    Figure("web", ("throughput", "speedup"), "fetch+extract pages concurrently", "the same pages one by one", ">= 4"),
    Figure("web", ("render", "median_added_s"), "added latency of rendering a page", "the static fetch of it", "< 0.5", "s"),
    Figure("pdf", ("throughput", "speedup"), "PDF pages/s with the worker pool", "a one-process pypdf loop", ">= 1.8"),
    Figure("pdf", ("cache", "speedup"), "re-reading an unchanged PDF", "its first read", ">= 20"),
    Figure("retrieval", ("embedding", "ratio"), "embedding chunks/s, batched", "one chunk at a time", ">= 2"),
    Figure("retrieval", ("ask_again", "again_share_of_first"), "select() again on an unchanged corpus", "the first (cold) select()", "< 0.05", "share"),
    Figure("retrieval", ("query", "ratio_baseline_over_query"), "a hybrid query on the built index", "the same query rebuilding the lexical index", ">= 1"),
    Figure("retrieval", ("query", "query_ms_median"), "hybrid query latency", "(absolute)", "< 200", "ms"),
    Figure("pack", ("forage_over_repomix",), "forage pack wall time", "Repomix on the same repository", "<= 0.3334", "share"),
    Figure("safety", ("ratio_with_over_without",), "forage pack with secret redaction", "the same pack without it", ""),
    Figure("index", ("throughput", "int8", "ratio_to_fp32"), "embedding chunks/s, int8 graph", "the fp32 graph, same chunks", ">= 1.3"),
    Figure("index", ("skipped_share",), "chunks left out of embedding (generated, vendored...)", "all chunks", "", "share"),
)  # fmt: skip
# Benchmarks that need a real repository (--repo), and the file each writes its figures to.
ON_REPO = {"pack": "pack_vs_repomix.json", "safety": "pack_redaction_cost.json", "index": "index.json"}

_ARGS = {
    "web": {"quick": ["--pages", "20", "--samples", "5"], "full": []},
    "pdf": {"quick": ["--files", "20", "--pages", "10", "--rounds", "1"], "full": []},
    "retrieval": {
        "quick": ["--tokens", "100000", "--budget", "20000", "--embed-chunks", "64", "--naive-chunks", "32", "--runs", "10"],
        "full": [],
    },
}  # fmt: skip
BENCHES = ("web", "pdf", "retrieval", "pack", "safety", "index")


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    cur: Any = data
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return float(cur) if isinstance(cur, int | float) else None


def run_once(bench: str, *, quick: bool, repo: Path | None) -> dict[str, Any]:
    """One run of a benchmark in a fresh process; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="forage-perf-") as tmp:
        if bench in ON_REPO:  # these take their own median over --runs and write a fixed file
            runs = "1" if quick else "3"
            cmd = [sys.executable, "-m", f"evals.perf.bench_{bench}", "--repo", str(repo), "--runs", runs]
            out = ROOT / "evals" / "perf" / "results" / ON_REPO[bench]
            out.unlink(missing_ok=True)
        else:
            out = Path(tmp) / f"{bench}.json"
            args = _ARGS[bench]["quick" if quick else "full"]
            cmd = [sys.executable, "-m", f"evals.perf.bench_{bench}", *args, "--out", str(out)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ})
        if not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"benchmark {bench} failed (exit {proc.returncode}): {' '.join(tail)}")
        return json.loads(out.read_text(encoding="utf-8"))


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchRun:
    """A benchmark starts its `run`th run of `runs`."""

    bench: str
    run: int
    runs: int
    kind: Literal["bench"] = "bench"


def run_perf(
    *,
    runs: int = 3,
    quick: bool = False,
    only: list[str] | None = None,
    repo: Path | None = None,
    on_event: Callable[[BenchRun], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the chosen benchmarks `runs` times; one line per figure with its median and range."""
    emit = on_event or ignore
    chosen = [b for b in (only or BENCHES) if b not in ON_REPO or repo is not None]
    for name in only or []:
        if name not in BENCHES:
            raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}")
    if set(ON_REPO) & set(only or []) and repo is None:
        raise ValueError("the pack, safety and index benchmarks run on a real repository: pass --repo PATH")
    samples: dict[Figure, list[float]] = {f: [] for f in FIGURES if f.bench in chosen}
    errors: dict[str, str] = {}
    for bench in chosen:
        repeats = 1 if bench in ON_REPO else runs
        for n in range(repeats):
            emit(BenchRun(bench=bench, run=n + 1, runs=repeats))
            try:
                data = run_once(bench, quick=quick, repo=repo)
            except RuntimeError as exc:
                errors[bench] = str(exc)
                break
            for figure in samples:
                if figure.bench == bench and (v := _dig(data, figure.path)) is not None:
                    samples[figure].append(v)
    lines = []
    for figure, values in samples.items():
        median = statistics.median(values) if values else None
        lines.append(
            {
                "bench": figure.bench, "figure": figure.label, "baseline": figure.baseline, "target": figure.target,
                "unit": figure.unit, "median": median, "min": min(values) if values else None,
                "max": max(values) if values else None, "runs": len(values),
                "passed": None if median is None else figure.passes(median), "error": errors.get(figure.bench),
            }
        )  # fmt: skip
    for bench in ON_REPO:
        if repo is None and (only is None or bench in only):
            figure = next(f for f in FIGURES if f.bench == bench)
            lines.append(
                {"bench": bench, "figure": figure.label, "baseline": figure.baseline, "target": figure.target,
                 "unit": figure.unit, "median": None, "min": None, "max": None, "runs": 0, "passed": None,
                 "error": "skipped: pass --repo PATH (a real repository)"}
            )  # fmt: skip
    return lines


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs"
