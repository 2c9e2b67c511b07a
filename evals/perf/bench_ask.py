"""`forage ask` over a very large folder (default 100,000 small files): wall time and peak memory.

The corpus is generated (small Python modules in 100 packages, one of which holds the answer);
the data dir is fresh, so this is first contact: no index, lexical ranking at once, the rest
embedded in the background. Baseline in the same run: `forage pack` of the same folder with
the same budget and lexical ranking only (the in-process reader, no MCP servers, no model).
Targets (issue 9): under 20 s and under 600 MB (process tree, servers included).
Memory is the peak of the summed RSS of every process the ask started, the background
embedder too: it is measured for --linger seconds after the ask ends (it waits for a one-shot
question to end before it loads the model), then stopped. Each process's own peak is listed.

Run: python -m evals.perf.bench_ask [--files 100000] [--budget 100000] [--linger 30]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

from evals.perf.common import RESULTS, publish, run_measured

QUESTION = "Where is the retry delay configured?"
_WORDS = "alpha beta gamma delta retry cache token budget window model server client request response stream".split()


def make_corpus(root: Path, files: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    per = max(1, files // 100)
    for n in range(files):
        d, f = divmod(n, per)
        folder = root / f"pkg{d:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = (
            f'"""Module {d}.{f}: {" ".join(rng.sample(_WORDS, 5))}."""\n\n\n'
            f"def handle_{d}_{f}(value):\n    return value * {rng.randint(1, 999)}\n"
        )
        if n == files // 2:
            body += "\n\nRETRY_DELAY_SECONDS = 7.5  # the delay between retries\n"
        (folder / f"mod_{f:05d}.py").write_text(body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument(
        "--linger", type=float, default=30.0, help="seconds to measure the background embedder after"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_ask.json")
    args = parser.parse_args(argv)
    cwd = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="forage-bench-ask-") as tmp:
        root = Path(tmp) / "corpus"
        make_corpus(root, args.files)
        os.sync()  # the corpus's own write-back would otherwise land in the timed runs
        env = {**os.environ, "FORAGE_DATA_DIR": str(Path(tmp) / "data"), "FORAGE_EMBEDDING": "local"}
        env.pop("GEMINI_API_KEY", None)
        ask = run_measured(
            [sys.executable, "-m", "cli.app", "ask", QUESTION, str(root), "--budget", str(args.budget), "--quiet"],
            env=env, cwd=cwd, linger=args.linger,
        )  # fmt: skip
        base_env = {**env, "FORAGE_EMBEDDING": "none", "FORAGE_DATA_DIR": str(Path(tmp) / "data-lexical")}
        pack = run_measured(
            [sys.executable, "-m", "cli.app", "pack", str(root), "-q", QUESTION, "--budget", str(args.budget),
             "-o", str(Path(tmp) / "pack.md"), "--quiet"],
            env=base_env, cwd=cwd,
        )  # fmt: skip
    result = {
        "files": args.files,
        "budget": args.budget,
        "ask_s": round(ask.seconds, 2),
        "ask_peak_mb": round(ask.peak_rss_mb, 1),
        "ask_process_peaks_mb": ask.peaks_mb,
        "embedder_measured_s": round(ask.linger_s, 1),
        "ask_exit": ask.returncode,
        "answer_found": "RETRY_DELAY_SECONDS" in ask.stdout,
        "lexical_pack_s": round(pack.seconds, 2),
        "lexical_pack_peak_mb": round(pack.peak_rss_mb, 1),
        "ask_over_pack": round(ask.seconds / pack.seconds, 2) if pack.seconds else None,
        "targets": {"ask<20s": ask.seconds < 20, "ask<600MB": ask.peak_rss_mb < 600},
        "load_average": os.getloadavg()[0],
    }
    publish(result, args.out)
    if ask.returncode not in (0, 3):
        print(ask.stderr[-3000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
