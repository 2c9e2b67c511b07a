"""`forage index --plan`: what indexing would cost, before spending it.

Chunks the gathered documents as `forage index` would, leaves out what is not worth embedding
(agent/retrieval/skipping.py) and what the cache already holds for the chosen graph, then times
the chosen graph on a short random sample of the real chunks left, on this machine, now: the
estimate is that rate applied to every chunk left, plus Chroma's measured cost per chunk.

Checked against `forage index` run right after it (2 cores shared, load average 14-20):
sqlfluff's rules/ (fp32, 407 chunks) 280 s said, 229 s measured (+22%); core/ + a dialect's
fixtures (int8, 890 chunks) 440 s said, 569 s measured (-23%, the load rose from 14 to 20).
The disk figure runs high for small indexes (5 MB said, 2.4 MB used for 407 chunks).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from agent.paths import MODELS, places
from agent.retrieval.chunking import Chunk, chunk_all
from agent.retrieval.embeddings import Embedder, EmbeddingCache
from agent.retrieval.skipping import Skipped, embeddable
from agent.settings import Settings
from agent.state import Document

SAMPLE = 64  # chunks timed: four batches of the local engine, ~2-4 s on 2 cores with int8
# Measured on a Chroma index and an embedding cache of 1,000 and 4,000 real chunks (384-dim
# vectors and the chunks' metadata): bytes on disk per chunk, and the index's fixed part.
INDEX_BYTES_PER_CHUNK = 2_060
INDEX_BASE_BYTES = 2_800_000
CACHE_BYTES_PER_CHUNK = 2_130
CHROMA_S_PER_CHUNK = 0.0025  # adding one chunk's vector and metadata to Chroma (same measurement)
_FOLDER_DEPTH = 2


@dataclass
class Plan:
    """What `forage index` would do with these documents and this embedder."""

    documents: int
    tokens: int
    chunks: int
    to_embed: list[Chunk]  # worth embedding and not in the cache yet
    cached: int  # worth embedding, but the cache holds their vectors already
    embed_tokens: int
    skipped: Skipped
    graph: str
    sample: int = 0
    rate: float = 0.0  # chunks/s of the sample
    folders: list[tuple[str, int, int]] = field(
        default_factory=list
    )  # (folder, chunks, tokens), biggest first
    skipped_folders: list[tuple[str, str, int]] = field(default_factory=list)  # (reason, folder, chunks)
    models_bytes: int = 0  # the local model's graphs on disk (shared by every index)

    @property
    def seconds(self) -> float:
        """The estimated wall time of embedding and storing, on this machine."""
        embed = len(self.to_embed) / self.rate if self.rate else 0.0
        return embed + (len(self.to_embed) + self.cached) * CHROMA_S_PER_CHUNK

    @property
    def disk_bytes(self) -> int:
        """The index and the cache this plan adds up to (vectors, metadata, the index's fixed part)."""
        n = len(self.to_embed) + self.cached
        return INDEX_BASE_BYTES + n * INDEX_BYTES_PER_CHUNK + len(self.to_embed) * CACHE_BYTES_PER_CHUNK


def make_plan(
    documents: Sequence[Document], settings: Settings, embedder: Embedder | None, *, sample: int = SAMPLE
) -> Plan:
    """Count what would be embedded and time the embedder on a sample of it (nothing is stored)."""
    chunks = chunk_all(list(documents))
    wanted, skipped = embeddable(chunks, documents, embed_all=settings.embed_all)
    unique = list({c.hash: c for c in wanted}.values())  # identical chunks are embedded once
    have: set[str] = set()
    path = places(settings).embeddings
    if embedder is not None and path.is_file():  # a dry run creates nothing
        cache = EmbeddingCache(path)
        try:
            have = set(cache.get_many(embedder.name, [c.hash for c in unique]))
        finally:
            cache.close()
    to_embed = [c for c in unique if c.hash not in have]
    folder = _folders([c.uri for c in chunks])
    plan = Plan(
        documents=len(documents), tokens=sum(d.tokens for d in documents), chunks=len(chunks),
        to_embed=to_embed, cached=len(unique) - len(to_embed),
        embed_tokens=sum(len(c.text) // 4 for c in to_embed), skipped=skipped,
        graph=embedder.name if embedder is not None else "none (BM25 only)",
        folders=_by_folder(wanted, folder), skipped_folders=_skipped_folders(chunks, skipped, folder),
    )  # fmt: skip
    if embedder is not None and to_embed:
        plan.sample, plan.rate = _time_sample(embedder, to_embed, sample)
    models = places(settings).cache / MODELS  # the local graphs (built by the sample, if not before)
    if models.is_dir():
        plan.models_bytes = sum(f.stat().st_size for f in models.glob("*.onnx"))
    return plan


def _time_sample(embedder: Embedder, chunks: Sequence[Chunk], n: int) -> tuple[int, float]:
    """chunks/s of the embedder on a random sample of the chunks (after one warm-up batch)."""
    rng = random.Random(0)
    picked = rng.sample(list(chunks), min(n, len(chunks)))
    embedder.embed([picked[0].text])  # loads (and first time builds) the graph outside the timing
    started = time.perf_counter()
    embedder.embed([c.text for c in picked])
    return len(picked), len(picked) / max(time.perf_counter() - started, 1e-6)


def _folders(uris: Sequence[str]) -> dict[str, str]:
    """Each uri's folder, _FOLDER_DEPTH levels below the folder they all share."""
    parents = {u: PurePosixPath(u.removeprefix("file://")).parent for u in dict.fromkeys(uris)}
    if not parents:
        return {}
    common = PurePosixPath(os.path.commonpath([str(p) for p in parents.values()]))
    return {
        u: "/".join(p.relative_to(common).parts[:_FOLDER_DEPTH]) or (str(common) if len(parents) > 1 else ".")
        for u, p in parents.items()
    }


def _by_folder(chunks: Sequence[Chunk], folder: dict[str, str], top: int = 8) -> list[tuple[str, int, int]]:
    count: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for c in chunks:
        count[folder[c.uri]] += 1
        tokens[folder[c.uri]] += len(c.text) // 4
    return [(f, n, tokens[f]) for f, n in count.most_common(top)]


def _skipped_folders(
    chunks: Sequence[Chunk], skipped: Skipped, folder: dict[str, str], top: int = 6
) -> list[tuple[str, str, int]]:
    reason_of = {uri: r for r, uris in skipped.uris.items() for uri in uris}
    count: Counter[tuple[str, str]] = Counter(
        (reason_of[c.uri], folder[c.uri]) for c in chunks if c.uri in reason_of
    )
    return [(r, f, n) for (r, f), n in count.most_common(top)]
