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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    bench: str
    path: tuple[str, ...]  # keys into the benchmark's JSON result
    label: str
    baseline: str
    target: str  # ">= 4", "< 0.05"
    unit: str = "x"  # "x" ratio, "s" seconds, "ms", "share"

    def passes(self, value: float) -> bool:
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
)  # fmt: skip

_ARGS = {
    "web": {"quick": ["--pages", "20", "--samples", "5"], "full": []},
    "pdf": {"quick": ["--files", "10", "--pages", "5", "--rounds", "1"], "full": []},
    "retrieval": {
        "quick": ["--tokens", "100000", "--budget", "20000", "--embed-chunks", "64", "--naive-chunks", "32", "--runs", "10"],
        "full": [],
    },
}  # fmt: skip
BENCHES = ("web", "pdf", "retrieval", "pack")


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
        if bench == "pack":
            cmd = [
                sys.executable,
                "-m",
                "evals.perf.bench_pack",
                "--repo",
                str(repo),
                "--runs",
                "1" if quick else "3",
            ]
            out = ROOT / "evals" / "perf" / "results" / "pack_vs_repomix.json"  # where bench_pack writes
        else:
            out = Path(tmp) / f"{bench}.json"
            args = _ARGS[bench]["quick" if quick else "full"]
            cmd = [sys.executable, "-m", f"evals.perf.bench_{bench}", *args, "--out", str(out)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ})
        if not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"benchmark {bench} failed (exit {proc.returncode}): {' '.join(tail)}")
        return json.loads(out.read_text(encoding="utf-8"))


def run_perf(
    *,
    runs: int = 3,
    quick: bool = False,
    only: list[str] | None = None,
    repo: Path | None = None,
    on_event: Callable[..., None] | None = None,
) -> list[dict[str, Any]]:
    """Run the chosen benchmarks `runs` times; one line per figure with its median and range."""
    emit = on_event or (lambda *a, **k: None)
    chosen = [b for b in (only or BENCHES) if b != "pack" or repo is not None]
    for name in only or []:
        if name not in BENCHES:
            raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}")
    if "pack" in (only or []) and repo is None:
        raise ValueError("the pack benchmark compares with Repomix on a real repository: pass --repo PATH")
    samples: dict[Figure, list[float]] = {f: [] for f in FIGURES if f.bench in chosen}
    errors: dict[str, str] = {}
    for bench in chosen:
        for n in range(runs if bench != "pack" else 1):  # bench_pack takes its own median over runs
            emit("bench", bench=bench, run=n + 1, runs=runs if bench != "pack" else 1)
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
    if repo is None and (only is None or "pack" in only):
        lines.append(
            {"bench": "pack", "figure": "forage pack wall time", "baseline": "Repomix", "target": "<= 0.3334",
             "unit": "share", "median": None, "min": None, "max": None, "runs": 0, "passed": None,
             "error": "skipped: pass --repo PATH (a real repository) to compare with Repomix"}
        )  # fmt: skip
    return lines


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs"
