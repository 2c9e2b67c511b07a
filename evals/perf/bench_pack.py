"""`forage pack` against Repomix on the same repository, in the same run.

Usage: python -m evals.perf.bench_pack --repo PATH [--runs 3] [--cold]

forage keeps one data dir across its runs (what a user re-packing a repository has: clean
secret verdicts remembered), or with --cold a fresh one for every run (first contact).

Target (issue 2): forage's median wall time is at most 1/3 of Repomix's, and the forage
process tree peaks under 500 MB. Both tools' own token totals are reported. Runs alternate
(repomix, forage, repomix, forage, ...) after one warm-up each, so disk cache and machine
load affect both alike.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from evals.perf.common import Report, median, run_measured

REPOMIX = "repomix@1.18.1"


def count_files(repo: Path) -> tuple[int, float]:
    n, size = 0, 0
    for p in repo.rglob("*"):
        if p.is_file() and ".git" not in p.parts:
            n += 1
            size += p.stat().st_size
    return n, size / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo", type=Path, required=True, help="a real repository checkout (~1,700 files, ~14 MB)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="a fresh data dir for every forage run: nothing remembered (clean secret verdicts) from the last",
    )
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    npx = shutil.which("npx")
    if npx is None:
        print("npx is not installed; install Node.js to compare with Repomix", file=sys.stderr)
        return 1
    forage = [sys.executable, "-m", "cli.app"]
    files, mb = count_files(repo)
    report = Report("pack_vs_repomix")
    report.add("repo", str(repo))
    report.add("files", files)
    report.add("megabytes", round(mb, 1))
    report.add("forage_data_dir", "fresh per run (cold)" if args.cold else "kept across runs (warm)")
    with tempfile.TemporaryDirectory() as tmp:
        out_f, out_r = Path(tmp) / "forage.md", Path(tmp) / "repomix.xml"
        cmd_f = [*forage, "pack", str(repo), "-o", str(out_f), "--quiet"]
        cmd_r = [npx, "-y", REPOMIX, str(repo), "-o", str(out_r), "--no-file-summary"]
        env_f = {**os.environ, "FORAGE_DATA_DIR": str(Path(tmp) / "data")}  # warm: kept across runs
        warm_r = run_measured(cmd_r, cwd=Path(tmp))  # installs repomix into the npx cache
        warm_f = run_measured(cmd_f, cwd=Path(tmp), env=env_f)
        if warm_r.returncode or warm_f.returncode:
            print(warm_r.stderr[-2000:], warm_f.stderr[-2000:], file=sys.stderr)
            return 1
        times_r, times_f, peaks_f, peaks_r = [], [], [], []
        last_f = last_r = warm_f
        for n in range(args.runs):
            if args.cold:
                env_f = {**os.environ, "FORAGE_DATA_DIR": str(Path(tmp) / f"data-{n}")}
            last_r = run_measured(cmd_r, cwd=Path(tmp))
            last_f = run_measured(cmd_f, cwd=Path(tmp), env=env_f)
            times_r.append(last_r.seconds)
            times_f.append(last_f.seconds)
            peaks_f.append(last_f.peak_rss_mb)
            peaks_r.append(last_r.peak_rss_mb)
        m = re.search(r"\(([\d,]+) tokens", last_f.stderr)
        tokens_f = int(m.group(1).replace(",", "")) if m else None
        m = re.search(r"Total Tokens:\s*([\d,]+)", last_r.stdout)
        tokens_r = int(m.group(1).replace(",", "")) if m else None
        report.add("repomix_median_s", median(times_r))
        report.add("forage_median_s", median(times_f))
        report.add("forage_over_repomix", median(times_f) / median(times_r))
        report.add("target_ratio_max", 1 / 3)
        report.add("forage_peak_rss_mb", max(peaks_f))
        report.add("repomix_peak_rss_mb", max(peaks_r))
        report.add("forage_tokens", tokens_f)
        report.add("repomix_tokens", tokens_r)
        report.add("forage_output_mb", round(out_f.stat().st_size / 1e6, 1))
        report.add("repomix_output_mb", round(out_r.stat().st_size / 1e6, 1))
    report.print()
    print(f"  written to {report.write()}")
    ok = report.figures["forage_over_repomix"] <= 1 / 3 and report.figures["forage_peak_rss_mb"] < 500
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
