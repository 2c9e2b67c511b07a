"""What safety costs `forage pack`: the same repository packed with and without redaction.

Usage: python -m evals.perf.bench_safety --repo PATH [--runs 5]

In-process (pack_direct, the path `forage pack` takes over folders), so interpreter start-up
does not blur the difference. Runs alternate (without, with, without, with, ...) after one
warm-up each, so disk cache and machine load fall on both alike; the figure is the ratio of
the medians, with the redactions found (each one on a real repository is worth a look).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from agent.session.direct import pack_direct
from agent.settings import Settings
from evals.perf.common import Report, median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a real repository checkout")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    times: dict[bool, list[float]] = {False: [], True: []}
    redactions = files = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs + 1):
            for redact in (False, True):
                settings = Settings(data_dir=Path(tmp), redact=redact)
                started = time.perf_counter()
                result = pack_direct("", [str(args.repo)], settings, unbounded=True)
                elapsed = time.perf_counter() - started
                if i:  # the first round warms the disk cache and the imports
                    times[redact].append(elapsed)
                if redact and result is not None and result.pack is not None and result.pack.safety:
                    redactions, files = len(result.pack.safety.redactions), result.documents
    report = Report("pack_redaction_cost")
    report.add("repo", str(args.repo.resolve()))
    report.add("documents", files)
    report.add("redactions", redactions)
    report.add("median_s_without", round(median(times[False]), 3))
    report.add("median_s_with", round(median(times[True]), 3))
    report.add("ratio_with_over_without", round(median(times[True]) / median(times[False]), 2))
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
