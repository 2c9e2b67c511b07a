"""Web benchmark: concurrent vs sequential fetch+extract, and the added latency of rendering.

Run: ``python -m evals.perf.bench_web [--pages 50] [--latency 0.1] [--out PATH]``

1. Throughput: 50 local pages (about 12 KB of documentation each) fetched and extracted
   through ``WebReader.read(render="never")``, the same code path the web server uses,
   sequentially and then concurrently, in the same run. The local server waits
   ``--latency`` seconds before answering each request to stand in for a real network
   (a local socket answers in microseconds, which would measure only extraction).
   Target: at least 4x. Extraction runs in a 2-process pool, as in ``python -m mcp_servers.web``.
2. Rendering: after warm-up, with the browser reused, the median of (render="always" time
   minus render="never" time) for the same local pages. Target: under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tests.webfixtures import HitCounter, SiteServer
from tools.web.fetch import HttpFetcher
from tools.web.netpolicy import NetPolicy
from tools.web.page import WebReader
from tools.web.render import Chromium, Renderer, find_chromium

DEFAULT_OUT = Path("evals/perf/results/bench_web.json")


async def throughput(site: SiteServer, pages: int, workers: int) -> dict[str, Any]:
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers else None
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
    reader = WebReader(fetcher, extract_pool=pool)
    urls = [f"{site.base}/bench/{i}.html" for i in range(pages)]
    try:
        # Warm-up: robots.txt, connection pool, worker processes.
        await asyncio.gather(*(reader.read(u, "never") for u in urls[: max(workers, 2)]))
        start = time.perf_counter()
        for url in urls:
            await reader.read(url, "never")
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        results = await asyncio.gather(*(reader.read(u, "never") for u in urls))
        concurrent = time.perf_counter() - start
        assert all("Topic" in page.markdown for page in results)
    finally:
        await fetcher.aclose()
        if pool:
            pool.shutdown()
    return {
        "pages": pages,
        "latency_s": site.delay,
        "extract_workers": workers,
        "sequential_s": round(sequential, 3),
        "concurrent_s": round(concurrent, 3),
        "speedup": round(sequential / concurrent, 2),
        "pages_per_s_concurrent": round(pages / concurrent, 1),
    }


async def render_latency(site: SiteServer, samples: int) -> dict[str, Any]:
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
    chromium = await Chromium.launch()
    renderer = Renderer(chromium.browser, fetcher)

    async def shared() -> Renderer:
        return renderer

    reader = WebReader(fetcher, renderer=shared)
    urls = [f"{site.base}/bench/{i}.html" for i in range(samples)]
    try:
        for url in urls[:3]:  # warm-up: first context, JIT, caches
            await reader.read(url, "always")
        added = []
        for url in urls:
            start = time.perf_counter()
            await reader.read(url, "never")
            static = time.perf_counter() - start
            start = time.perf_counter()
            page = await reader.read(url, "always")
            rendered = time.perf_counter() - start
            assert page.rendered
            added.append(rendered - static)
        start = time.perf_counter()
        js = await reader.read(f"{site.base}/js.html", "auto")
        js_total = time.perf_counter() - start
        assert js.rendered and "forty-two" in js.markdown
    finally:
        await renderer.aclose()
        await chromium.close()
        await fetcher.aclose()
    return {
        "samples": samples,
        "median_added_s": round(statistics.median(added), 3),
        "p90_added_s": round(sorted(added)[int(0.9 * (len(added) - 1))], 3),
        "js_page_total_s": round(js_total, 3),
    }


async def run(pages: int, latency: float, samples: int) -> dict[str, Any]:
    with HitCounter() as counter:
        with SiteServer(counter.port, delay=latency) as site:
            networked = await throughput(site, pages, workers=2)
            threads = await throughput(site, pages, workers=0)
        with SiteServer(counter.port) as site:
            cpu_only = await throughput(site, pages, workers=2)
            rendering = await render_latency(site, samples) if find_chromium() else {"skipped": "no Chromium"}
    return {
        "throughput": networked,
        "throughput_threads": threads,
        "throughput_no_latency": cpu_only,
        "render": rendering,
        "targets": {"speedup_min": 4.0, "median_added_render_s_max": 0.5},
        "pass": networked["speedup"] >= 4.0 and rendering.get("median_added_s", 0) < 0.5,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evals.perf.bench_web", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="simulated server latency per request (s)")
    parser.add_argument("--samples", type=int, default=15, help="pages for the render latency median")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.pages, args.latency, args.samples))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    t, c, r = result["throughput"], result["throughput_no_latency"], result["render"]
    print(
        f"fetch+extract {t['pages']} pages, {t['latency_s']:g} s latency: sequential {t['sequential_s']} s, "
        f"concurrent {t['concurrent_s']} s -> {t['speedup']}x (target >= 4x)"
    )
    print(
        f"  with thread extraction: {result['throughput_threads']['speedup']}x; no latency: {c['speedup']}x"
    )
    if "median_added_s" in r:
        print(
            f"render: median added latency {r['median_added_s']} s (p90 {r['p90_added_s']} s; target < 0.5 s)"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
