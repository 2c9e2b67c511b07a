"""Indexing speed and quality: each embedding candidate against today's fp32 path, in one run.

1. throughput on real chunks of a real repository (read in-process as `forage pack` reads it):
   today's path (fp32 graph, batches of 16 in 256-chunk slices, length-sorted within each slice)
   against the int8 graph, and against the int8 graph with chunks length-sorted over the whole
   run (Chroma slices then hold chunks of like length). Ratios of chunks/s, and the cosine of
   the vectors to fp32.
2. what skipping generated, vendored, minified and data files saves: chunks before and after.
3. recall on a question set (SWE-QA dev): for each graph, file recall of the top chunks ranked
   dense-only and hybrid (code-aware lexical + dense, RRF, as questions rank) over a pool: the
   chunks of every cited file plus a fixed random sample of the others. A pool, not the whole
   repository, so both graphs can be measured in one run on 2 cores; the same pool for both.

Run: python -m evals.perf.bench_index --repo /work/repos/pytest --questions ../shared/datasets/swe-qa-dev/pytest.jsonl
     [--sample 256] [--pool 1500] [--top 20] [--out result.json]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agent.retrieval.chunking import Chunk, chunk_all
from agent.retrieval.embeddings import LocalEmbedder
from agent.retrieval.select import dense_from_vectors, rank_chunks
from agent.retrieval.skipping import embeddable
from agent.settings import load_settings
from agent.state import Document
from evals.checks.codeqa import file_recall, load_questions
from evals.perf.common import publish

_SLICE = 256  # agent/retrieval/chroma_index.py's _ADD_SLICE: today's path sorts within each slice


def gather_repo(repo: Path, data_dir: Path) -> list[Document]:
    """The repository's documents, read in-process as `forage pack` reads a local folder."""
    from agent.session.direct import gather_local

    return gather_local([str(repo)], load_settings({"embedding": "none", "data_dir": data_dir}))[0]


def _timed(embedder: LocalEmbedder, texts: Sequence[str], *, whole_sort: bool) -> tuple[np.ndarray, float]:
    """Embed as ChunkIndex.add does (slices of 256); whole_sort: length-sort the whole run first."""
    order = list(range(len(texts)))
    if whole_sort:
        order.sort(key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    started = time.perf_counter()
    for b in range(0, len(order), _SLICE):
        idx = order[b : b + _SLICE]
        out[idx] = embedder.embed([texts[i] for i in idx])
    return out, time.perf_counter() - started


def throughput(chunks: Sequence[Chunk], data_dir: Path, sample: int, rounds: int) -> dict[str, Any]:
    """chunks/s of each candidate on the same sample, interleaved `rounds` times; ratios to fp32."""
    texts = [c.text for c in random.Random(11).sample(list(chunks), min(sample, len(chunks)))]
    models = data_dir / "models"
    candidates = {
        "fp32": (LocalEmbedder(data_dir, precision="fp32"), False),
        "int8": (LocalEmbedder(data_dir, precision="int8"), False),
        "int8_sorted": (LocalEmbedder(data_dir, precision="int8"), True),
    }
    for embedder, _ in candidates.values():
        embedder.embed(texts[:16])  # build and load the graph outside the timing
    seconds: dict[str, list[float]] = {k: [] for k in candidates}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for name, (embedder, whole) in candidates.items():
            vecs, took = _timed(embedder, texts, whole_sort=whole)
            seconds[name].append(took)
            vectors[name] = vecs
    base = sum(seconds["fp32"])
    out: dict[str, Any] = {"chunks": len(texts), "rounds": rounds, "graph_dir": str(models)}
    for name in candidates:
        cos = (vectors[name] * vectors["fp32"]).sum(axis=1)
        out[name] = {
            "chunks_per_s": round(len(texts) * rounds / sum(seconds[name]), 2),
            "ratio_to_fp32": round(base / sum(seconds[name]), 3),
            "cosine_min": round(float(cos.min()), 4),
            "cosine_mean": round(float(cos.mean()), 4),
        }
    return out


def recall(
    documents: list[Document], chunks: list[Chunk], repo: Path, questions_path: Path, data_dir: Path,
    pool_size: int, top: int,
) -> dict[str, Any]:  # fmt: skip
    """Dense-only and hybrid file recall of each graph over one pool of chunks."""
    questions = load_questions(questions_path, repo)
    root = str(repo.resolve())
    cited = {f for q in questions for f in q.files}
    in_cited = [c for c in chunks if _relative(c.uri, root) in cited]
    others = [c for c in chunks if _relative(c.uri, root) not in cited]
    pool = in_cited + random.Random(5).sample(others, min(pool_size, len(others)))
    out: dict[str, Any] = {"questions": len(questions), "pool_chunks": len(pool), "top_chunks": top}
    wanted = {c.id for c in embeddable(pool, documents)[0]}
    for precision in ("fp32", "int8"):
        embedder = LocalEmbedder(data_dir, precision=precision)
        vecs = embedder.embed([c.text for c in pool])
        by_hash = {c.hash: v for c, v in zip(pool, vecs, strict=True)}
        dense_r, hybrid_r, skip_r = [], [], []
        for q in questions:
            if not q.files:
                continue
            dense = dense_from_vectors(embedder.embed_query(q.question), pool, by_hash, len(pool))
            by_id = {c.id: c for c in pool}
            dense_r.append(file_recall([by_id[i].uri for i in dense[:top]], q.files, repo))
            hybrid = rank_chunks(pool, q.question, dense=dense, documents=documents)
            hybrid_r.append(file_recall([c.uri for c in hybrid[:top]], q.files, repo))
            # As questions rank after a default `forage index`: skipped files have no vectors.
            hybrid = rank_chunks(
                pool, q.question, dense=[i for i in dense if i in wanted], documents=documents
            )
            skip_r.append(file_recall([c.uri for c in hybrid[:top]], q.files, repo))
        out[precision] = {
            "dense_recall": round(100 * sum(dense_r) / len(dense_r), 2),
            "hybrid_recall": round(100 * sum(hybrid_r) / len(hybrid_r), 2),
            "hybrid_recall_skipping": round(100 * sum(skip_r) / len(skip_r), 2),
        }
    for kind in ("dense_recall", "hybrid_recall", "hybrid_recall_skipping"):
        out[f"{kind}_int8_minus_fp32_points"] = round(out["int8"][kind] - out["fp32"][kind], 2)
    return out


def _relative(uri: str, root: str) -> str:
    path = uri.removeprefix("file://")
    return path[len(root) + 1 :] if path.startswith(root + "/") else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--questions", type=Path, help="a SWE-QA style JSONL about --repo (recall)")
    parser.add_argument("--sample", type=int, default=256, help="chunks timed per candidate")
    parser.add_argument("--rounds", "--runs", type=int, default=2, help="timed rounds per candidate")
    parser.add_argument("--pool", type=int, default=1500, help="chunks of uncited files in the recall pool")
    parser.add_argument("--top", type=int, default=20, help="top chunks whose files count for recall")
    parser.add_argument("--data-dir", type=Path, help="where graphs are built (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=Path("evals/perf/results/index.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="forage-bench-index-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        started = time.perf_counter()
        documents = gather_repo(args.repo, data_dir)
        chunks = chunk_all(documents)
        wanted, skipped = embeddable(chunks, documents)
        result: dict[str, Any] = {
            "repo": str(args.repo),
            "load_average": os.getloadavg(),
            "gather_s": round(time.perf_counter() - started, 1),
            "documents": len(documents),
            "tokens": sum(d.tokens for d in documents),
            "chunks": len(chunks),
            "chunks_embedded": len(wanted),
            "skipped": skipped.chunks,
            "skipped_share": round(skipped.total / max(1, len(chunks)), 3),
            "throughput": throughput(wanted, data_dir, args.sample, args.rounds),
        }
        if args.questions:
            result["recall"] = recall(
                documents, chunks, args.repo, args.questions, data_dir, args.pool, args.top
            )
        result["load_average_end"] = os.getloadavg()
    publish(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
