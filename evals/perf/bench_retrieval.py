"""Retrieval speed, as ratios against baselines measured in the same run.

1. embedding throughput: LocalEmbedder.embed vs a naive one-chunk-at-a-time
   sentence-transformers loop (fp32, default settings) on the same chunks; target >= 2x.
2. asking again on an unchanged corpus (default 1M tokens): select() a second time re-embeds
   nothing and takes < 5% of the first (cold) select().
3. a hybrid query (BM25 words + pairs + dense via Chroma + RRF) over the indexed corpus:
   median < 200 ms; the baseline is the same query with the lexical index rebuilt each time.

Run: python -m evals.perf.bench_retrieval [--tokens 1000000] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from agent.chunking import content_hash
from agent.embeddings import LocalEmbedder, _load_local_model
from agent.retrieval import ChunkIndex, LexicalRanker, chunk_all, rrf, select
from agent.settings import Settings
from agent.state import Document, Span
from tools.tokens import estimate_tokens

_TOPICS = """retry backoff cache index chunk token budget window model server client request response
stream parser schema config setting error timeout worker queue thread process memory disk network socket
page section heading table figure paragraph citation source document corpus query ranking vector embedding
lock file path root symlink permission policy redirect header cookie session checkpoint graph node edge""".split()
_WORDS = """the a of to and in is for on with as by at from that this it be are was were which or an
can will not has have each when then than into over under more most some any all only also very""".split()


def make_corpus(tokens: int, seed: int = 7) -> list[Document]:
    """Markdown-ish documents of ~4k tokens each, totalling about `tokens`."""
    rng = random.Random(seed)
    docs: list[Document] = []
    total = 0
    n = 0
    while total < tokens:
        parts = []
        for s in range(8):
            topic = rng.sample(_TOPICS, 3)
            parts.append(f"## {' '.join(topic).title()} {n}.{s}\n")
            for _ in range(6):
                sent = " ".join(
                    rng.choice(_WORDS if rng.random() < 0.45 else _TOPICS) for _ in range(rng.randint(12, 28))
                )
                parts.append(sent.capitalize() + f" (ref {rng.randint(1000, 99999)}).\n")
            parts.append("\n")
        text = f"# Notes {n}\n\n" + "".join(parts)
        docs.append(
            Document(
                id=f"bench-{n}",
                uri=f"file:///bench/notes-{n}.md",
                text=text,
                hash=content_hash(text),
                span=Span(kind="lines", start=1, end=text.count("\n")),
                tokens=estimate_tokens(text),
            )
        )
        total += docs[-1].tokens
        n += 1
    return docs


def bench_embedding(chunks: list[str], naive_n: int) -> dict[str, float]:
    naive_model = _load_local_model(False)
    fast = LocalEmbedder()
    naive_model.encode([chunks[0]], show_progress_bar=False)  # warm both
    fast.embed(chunks[:2])
    sub = chunks[:naive_n]
    t = time.perf_counter()
    for c in sub:
        naive_model.encode([c], show_progress_bar=False)
    naive_rate = len(sub) / (time.perf_counter() - t)
    t = time.perf_counter()
    fast.embed(chunks)
    fast_rate = len(chunks) / (time.perf_counter() - t)
    return {
        "chunks": len(chunks),
        "naive_chunks": len(sub),
        "naive_chunks_per_s": round(naive_rate, 1),
        "ours_chunks_per_s": round(fast_rate, 1),
        "ratio": round(fast_rate / naive_rate, 2),
        "ours_model": fast.name,
    }


def bench_select(docs: list[Document], data_dir: Path, budget: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    question = "How does the retry backoff interact with the cache index and the token budget?"
    embedder = LocalEmbedder()
    t = time.perf_counter()
    first = select(docs, question, budget, settings=settings, count_tokens=estimate_tokens, embedder=embedder)
    cold = time.perf_counter() - t
    embedded = embedder.calls
    t = time.perf_counter()
    again = select(
        docs,
        "Which lock policy applies to symlink roots?",
        budget,
        settings=settings,
        count_tokens=estimate_tokens,
        embedder=embedder,
    )
    warm = time.perf_counter() - t
    return {
        "corpus_tokens": sum(d.tokens for d in docs),
        "budget": budget,
        "first_select_s": round(cold, 2),
        "first_embedded_chunks": embedded,
        "again_select_s": round(warm, 3),
        "again_embedded_chunks": embedder.calls - embedded,
        "again_share_of_first": round(warm / cold, 4),
        "kept_tokens": again.kept_tokens,
        "first_kept_tokens": first.kept_tokens,
    }


def bench_query(docs: list[Document], data_dir: Path, budget: int, runs: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    embedder = LocalEmbedder()
    chunks = chunk_all(docs)
    by_id = {c.id: c for c in chunks}
    ids = list(by_id)
    questions = [
        f"What does the {a} {b} setting change for the {c}?"
        for a, b, c in zip(_TOPICS, _TOPICS[7:], _TOPICS[13:], strict=False)
    ]
    t = time.perf_counter()
    lexical = LexicalRanker([c.text for c in chunks])
    build = time.perf_counter() - t
    dense_n = min(len(chunks), 3 * budget // 400)
    times = []
    with ChunkIndex(settings, embedder) as index:
        index.add(chunks)
        for q in (questions * 3)[:runs]:
            t = time.perf_counter()
            rankings = [[chunks[i].id for i in r] for r in lexical.rankings(q)]
            rankings.append(index.dense(embedder.embed_query(q), ids, dense_n))
            rrf(rankings, weights=[1.0, 2.0, 1.0])
            times.append(time.perf_counter() - t)
    median = statistics.median(times)
    return {
        "chunks": len(chunks),
        "runs": runs,
        "query_ms_median": round(median * 1000, 1),
        "query_ms_p90": round(sorted(times)[int(0.9 * (len(times) - 1))] * 1000, 1),
        "baseline_rebuild_lexical_ms": round((build + median) * 1000, 1),
        "ratio_baseline_over_query": round((build + median) / median, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tokens", type=int, default=1_000_000, help="corpus size for the select and query figures"
    )
    parser.add_argument("--budget", type=int, default=120_000, help="token budget for select()")
    parser.add_argument("--embed-chunks", type=int, default=128, help="chunks embedded by our pipeline")
    parser.add_argument(
        "--naive-chunks", type=int, default=64, help="chunks embedded by the naive loop (a subset)"
    )
    parser.add_argument("--runs", type=int, default=30, help="queries for the median")
    parser.add_argument("--out", type=Path, default=Path("evals/perf/results/bench_retrieval.json"))
    args = parser.parse_args(argv)
    docs = make_corpus(args.tokens)
    result: dict[str, object] = {}
    sample = [c.text for c in chunk_all(docs[: max(1, args.embed_chunks // 8)])][: args.embed_chunks]
    result["embedding"] = bench_embedding(sample, min(args.naive_chunks, len(sample)))
    print(json.dumps({"embedding": result["embedding"]}), flush=True)
    with tempfile.TemporaryDirectory(prefix="forage-bench-") as tmp:
        result["ask_again"] = bench_select(docs, Path(tmp), args.budget)
        print(json.dumps({"ask_again": result["ask_again"]}), flush=True)
        result["query"] = bench_query(docs, Path(tmp), args.budget, args.runs)
    result["targets"] = {
        "embedding_ratio>=2": result["embedding"]["ratio"] >= 2,  # type: ignore[index]
        "again_share<0.05": result["ask_again"]["again_share_of_first"] < 0.05,  # type: ignore[index]
        "again_embeds_nothing": result["ask_again"]["again_embedded_chunks"] == 0,  # type: ignore[index]
        "query_median<200ms": result["query"]["query_ms_median"] < 200,  # type: ignore[index]
    }
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
