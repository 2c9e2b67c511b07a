"""Retrieval speed, as ratios against baselines measured in the same run.

1. embedding engines: the ONNX Runtime engine (LocalEmbedder, the default) against the torch
   engine it replaces (sentence-transformers; bf16 where the CPU has it, else fp32) and a plain
   fp32 sentence-transformers encode, on the same chunks: throughput ratios and the cosine of
   the vectors (quality). Skipped, and said so, without the torch extra.
2. asking again on an unchanged corpus (default 1M tokens): select() a second time re-embeds
   nothing and takes < 5% of the first (cold) select().
3. a hybrid query (code-aware lexical signals + dense from cached vectors + RRF) over the
   indexed corpus: median < 200 ms; the baseline is the same query with the index rebuilt each time.
4. a follow-up question ranked lexically (rank(), a chat's next turn) on an unchanged corpus,
   against the same follow-up with every document chunked anew (the chunk cache emptied), the
   two alternating: the follow-up takes < 1/3 of the baseline.

Run: python -m evals.perf.bench_retrieval [--tokens 1000000] [--parts rank-again,...] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from agent.gather.documents import content_hash
from agent.retrieval.chroma_index import ChunkIndex
from agent.retrieval.chunking import chunk_all
from agent.retrieval.embeddings import LocalEmbedder, torch_model_available
from agent.retrieval.indexing import build_index
from agent.retrieval.ranking import CodeIndex
from agent.retrieval.select import dense_from_vectors, rank_chunks, select
from agent.settings import Settings
from agent.state import Document, Span
from evals.perf.common import publish
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


def bench_embedding(chunks: list[str], data_dir: Path) -> dict[str, object]:
    import numpy as np

    onnx = LocalEmbedder(data_dir)
    onnx.embed(chunks[:2])  # warm: graph built and session loaded
    t = time.perf_counter()
    ours = onnx.embed(chunks)
    ours_rate = len(chunks) / (time.perf_counter() - t)
    out: dict[str, object] = {"chunks": len(chunks), "onnx_chunks_per_s": round(ours_rate, 1)}
    if not torch_model_available():
        out["torch"] = "not installed (pip install 'forage[torch]'): no comparison"
        return out
    from agent.retrieval.embeddings import TorchEmbedder, _load_local_model

    torch_engine = TorchEmbedder()
    torch_engine.embed(chunks[:2])
    t = time.perf_counter()
    theirs = torch_engine.embed(chunks)
    torch_rate = len(chunks) / (time.perf_counter() - t)
    plain = _load_local_model(False)
    plain.encode(chunks[:2], show_progress_bar=False)
    t = time.perf_counter()
    ref = plain.encode(chunks, batch_size=16, normalize_embeddings=True, show_progress_bar=False)
    plain_rate = len(chunks) / (time.perf_counter() - t)
    out.update(
        {
            "torch_engine": torch_engine.name,
            "torch_engine_chunks_per_s": round(torch_rate, 1),
            "st_fp32_chunks_per_s": round(plain_rate, 1),
            "onnx_over_torch_engine": round(ours_rate / torch_rate, 2),
            "onnx_over_st_fp32": round(ours_rate / plain_rate, 2),
            "cosine_onnx_vs_st_fp32_min": round(float(np.min(np.sum(ours * ref, axis=1))), 6),
            "cosine_torch_engine_vs_st_fp32_min": round(float(np.min(np.sum(theirs * ref, axis=1))), 6),
        }
    )
    return out


def bench_select(docs: list[Document], data_dir: Path, budget: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    question = "How does the retry backoff interact with the cache index and the token budget?"
    embedder = LocalEmbedder(data_dir)
    # First contact with an unindexed corpus answers lexically at once (the rest is embedded in
    # the background); the cold figure here is the index built ahead plus a first question.
    t = time.perf_counter()
    build_index(docs, settings, embedder=embedder)
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
        "index_and_first_select_s": round(cold, 2),
        "first_embedded_chunks": embedded,
        "again_select_s": round(warm, 3),
        "again_embedded_chunks": embedder.calls - embedded,
        "again_share_of_first": round(warm / cold, 4),
        "kept_tokens": again.kept_tokens,
        "first_kept_tokens": first.kept_tokens,
    }


def bench_query(docs: list[Document], data_dir: Path, budget: int, runs: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    embedder = LocalEmbedder(data_dir)
    chunks = chunk_all(docs)
    questions = [
        f"What does the {a} {b} setting change for the {c}?"
        for a, b, c in zip(_TOPICS, _TOPICS[7:], _TOPICS[13:], strict=False)
    ]
    t = time.perf_counter()
    CodeIndex(chunks, docs)
    build = time.perf_counter() - t
    dense_n = min(len(chunks), 3 * budget // 400)
    with ChunkIndex(settings, embedder) as index:
        index.add(chunks)
        vectors = index.cache.get_many(embedder.name, [c.hash for c in chunks])
    rank_chunks(chunks, questions[0], documents=docs)  # the ranking index, built once per corpus
    times = []
    for q in (questions * 3)[:runs]:
        t = time.perf_counter()
        dense = dense_from_vectors(embedder.embed_query(q), chunks, vectors, dense_n)
        rank_chunks(chunks, q, dense=dense, documents=docs)
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    return {
        "chunks": len(chunks),
        "runs": runs,
        "query_ms_median": round(median * 1000, 1),
        "query_ms_p90": round(sorted(times)[int(0.9 * (len(times) - 1))] * 1000, 1),
        "baseline_rebuild_index_ms": round((build + median) * 1000, 1),
        "ratio_baseline_over_query": round((build + median) / median, 1),
    }


def bench_rank_again(docs: list[Document], data_dir: Path, runs: int) -> dict[str, float]:
    from agent.retrieval import chunking
    from agent.retrieval.select import rank

    settings = Settings(data_dir=data_dir, embedding="none")
    questions = [
        f"Where is the {a} {b} handled for the {c}?"
        for a, b, c in zip(_TOPICS, _TOPICS[5:], _TOPICS[11:], strict=False)
    ]
    rank(
        docs, questions[0], 4000, settings=settings, count_tokens=estimate_tokens
    )  # chunks and the ranking index
    cached, anew = [], []
    for i in range(runs):
        for times, empty in ((cached, False), (anew, True)):
            if empty:
                chunking.forget_chunks()
            t = time.perf_counter()
            rank(
                docs,
                questions[1 + i % (len(questions) - 1)],
                4000,
                settings=settings,
                count_tokens=estimate_tokens,
            )
            times.append(time.perf_counter() - t)
    follow_up, baseline = statistics.median(cached), statistics.median(anew)
    return {
        "runs": runs,
        "follow_up_rank_ms_median": round(follow_up * 1000, 1),
        "baseline_chunked_anew_ms_median": round(baseline * 1000, 1),
        "ratio_follow_up_over_baseline": round(follow_up / baseline, 3),
    }


PARTS = ("embedding", "ask-again", "query", "rank-again")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tokens", type=int, default=1_000_000, help="corpus size for the select and query figures"
    )
    parser.add_argument("--budget", type=int, default=120_000, help="token budget for select()")
    parser.add_argument("--embed-chunks", type=int, default=128, help="chunks embedded by each engine")
    parser.add_argument("--runs", type=int, default=30, help="queries for the median")
    parser.add_argument("--out", type=Path, default=Path("evals/perf/results/bench_retrieval.json"))
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(
            f"unknown part(s): {', '.join(sorted(parts - set(PARTS)))}; choose from {', '.join(PARTS)}"
        )
    docs = make_corpus(args.tokens)
    result: dict[str, object] = {}
    sample = [c.text for c in chunk_all(docs[: max(1, args.embed_chunks // 8)])][: args.embed_chunks]
    targets: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="forage-bench-") as tmp:
        if "embedding" in parts:
            embedding = result["embedding"] = bench_embedding(sample, Path(tmp))
            print(json.dumps({"embedding": embedding}), flush=True)
            targets["onnx_cosine>=0.9999"] = embedding.get("cosine_onnx_vs_st_fp32_min", 1.0) >= 0.9999
        if "ask-again" in parts:
            again = result["ask_again"] = bench_select(docs, Path(tmp), args.budget)
            print(json.dumps({"ask_again": again}), flush=True)
            targets["again_share<0.05"] = again["again_share_of_first"] < 0.05
            targets["again_embeds_nothing"] = again["again_embedded_chunks"] == 0
        if "query" in parts:
            query = result["query"] = bench_query(docs, Path(tmp), args.budget, args.runs)
            targets["query_median<200ms"] = query["query_ms_median"] < 200
        if "rank-again" in parts:
            follow = result["rank_again"] = bench_rank_again(docs, Path(tmp), min(args.runs, 10))
            print(json.dumps({"rank_again": follow}), flush=True)
            targets["follow_up<1/3_of_chunking_anew"] = follow["ratio_follow_up_over_baseline"] < 1 / 3
    result["targets"] = targets
    publish(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
