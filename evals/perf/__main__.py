"""Run every benchmark: python -m evals.perf [--repo PATH]  (make bench).

Each benchmark measures its baseline in the same run and reports ratios; results are written
to evals/perf/results/. The pack-vs-Repomix benchmark needs a real repository (--repo).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.perf import bench_mcp, bench_pack, bench_pdf, bench_retrieval, bench_web


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo", type=Path, help="repository for the pack-vs-Repomix benchmark (~1,700 files)"
    )
    args = parser.parse_args(argv)
    bench_web.main([])
    bench_pdf.main([])
    status = bench_retrieval.main([]) or 0
    if args.repo:
        status = bench_pack.main(["--repo", str(args.repo)]) or status
        status = bench_mcp.main(["--repo", str(args.repo)]) or status
    else:
        print(
            "skipping pack vs Repomix and the forage mcp session: pass --repo PATH (a real repository checkout)",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
