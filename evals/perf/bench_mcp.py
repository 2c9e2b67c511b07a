"""forage mcp over one editor session: a second question over the same sources vs the first.

Usage: python -m evals.perf.bench_mcp --repo PATH [--runs 3]

A real `forage mcp` process (stdio, spawned as an editor spawns it) is asked gather_context
over a copy of the repository. The baseline is measured in the same run: the first call of a
fresh session (it starts the files server and reads every file), which is what every call
cost before sessions were kept. An unmeasured warm-up session embeds the chunks first (the
index persists across sessions), so embedding time is not what is compared. Reported: median seconds of the first call, of a follow-up
question (nothing changed), and of a follow-up after one file changed, with their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from evals.perf.common import Report, median

QUESTIONS = ("How are fixtures resolved?", "Where are command line options parsed?", "How does caching work?")


async def _session(repo: Path, data: Path) -> dict[str, float]:
    forage = str(Path(sys.executable).with_name("forage"))
    params = StdioServerParameters(
        command=forage,
        args=["mcp", str(repo)],
        env={"FORAGE_DATA_DIR": str(data), "FORAGE_MODEL": "extractive"},
    )
    times: dict[str, float] = {}
    async with Client(params) as client:

        async def ask(key: str, question: str) -> None:
            started = time.perf_counter()
            res = await client.call_tool("gather_context", {"question": question, "sources": [str(repo)]})
            times[key] = time.perf_counter() - started
            assert not res.is_error, res.content[0].text
            times[key + "_calls"] = len(res.structured_content["calls"])

        await ask("first", QUESTIONS[0])
        await ask("again", QUESTIONS[1])
        victim = next(p for p in sorted(repo.rglob("*.py")) if p.stat().st_size > 1000)
        victim.write_text(victim.read_text() + "\n# touched by the benchmark\n")
        await ask("changed", QUESTIONS[2])
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a real repository checkout")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "repo"
        # One unmeasured session first: it embeds the chunks (the index persists in the data
        # dir, across sessions), so the runs below compare sessions, not the embedding model.
        shutil.copytree(args.repo, copy, ignore=shutil.ignore_patterns(".git"))
        warm_up = asyncio.run(_session(copy, Path(tmp) / "data"))
        for _ in range(args.runs):
            shutil.rmtree(copy)
            shutil.copytree(args.repo, copy, ignore=shutil.ignore_patterns(".git"))
            runs.append(asyncio.run(_session(copy, Path(tmp) / "data")))
    first = median([r["first"] for r in runs])
    again = median([r["again"] for r in runs])
    changed = median([r["changed"] for r in runs])
    report = Report("mcp_session")
    report.add("repo", str(args.repo))
    report.add("warm_up_first_call_s (empty caches)", warm_up["first"])
    report.add("first_call_s (baseline: fresh session)", first)
    report.add("follow_up_s (nothing changed)", again)
    report.add("follow_up_after_one_change_s", changed)
    report.add("follow_up / first", again / first)
    report.add("after_change / first", changed / first)
    report.add(
        "calls: first, follow-up, after change",
        [runs[0]["first_calls"], runs[0]["again_calls"], runs[0]["changed_calls"]],
    )
    report.print()
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
