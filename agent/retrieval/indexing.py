"""Index ahead of time (`forage index`): chunk, embed and add documents to the Chroma index."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from agent.retrieval.chroma_index import ChunkIndex
from agent.retrieval.chunking import chunk_all
from agent.retrieval.embeddings import Embedder, choose_embedder
from agent.retrieval.skipping import embeddable
from agent.settings import Settings
from agent.state import Document


class IndexStats(BaseModel):
    """What build_index() did."""

    documents: int
    chunks: int
    embedded: int  # chunks whose vectors were computed now (not found in the cache)
    added: int  # chunks newly written to Chroma
    skipped: dict[str, int] = {}  # chunks not embedded, by reason (agent/retrieval/skipping.py)
    skipped_note: str = ""  # the line that says so
    removed: int = 0  # stale chunks deleted: of changed files, or (prune) of files not in these sources
    stored: int = 0  # chunks the index holds afterwards, for every corpus it serves
    store: str  # where the index lives: a path or a server URL
    notice: str | None = None
    seconds: float = 0.0


def build_index(
    documents: list[Document],
    settings: Settings,
    *,
    lock_timeout: float = 10.0,
    embedder: Embedder | None = None,
    prune: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexStats:
    """Chunk, embed and add documents to the index ahead of time (`forage index`).

    prune: also remove the chunks of every document not among these (the index then holds
    exactly these sources). on_progress(done, total): chunks embedded so far (may raise to stop).
    """
    started = time.perf_counter()
    chunks = chunk_all(documents)
    wanted, skipped = embeddable(chunks, documents, embed_all=settings.embed_all)
    left_out = {"skipped": skipped.chunks, "skipped_note": skipped.summary()}
    notice = None
    if embedder is None:
        embedder, notice = choose_embedder(settings)
    if embedder is None:
        return IndexStats(
            documents=len(documents),
            chunks=len(chunks),
            embedded=0,
            added=0,
            store="(none: BM25 only)",
            notice=notice,
            **left_out,
        )
    if on_progress is not None:
        embedder = _Reporting(embedder, on_progress)
        on_progress = embedder.slice_started
    with ChunkIndex(settings, embedder, lock_timeout=lock_timeout) as index:
        index.add(wanted, current={c.id for c in chunks}, on_progress=on_progress)
        if prune:
            index.prune({d.id for d in documents})
        return IndexStats(
            documents=len(documents),
            chunks=len(chunks),
            embedded=index.embedded,
            added=index.added,
            removed=index.removed,
            stored=index.count(),
            store=index.store,
            seconds=time.perf_counter() - started,
            **left_out,
        )


class _Reporting:
    """An embedder that reports progress every few batches, not only between Chroma's slices.

    A slice of 256 chunks takes ~6 s on 2 cores, but minutes on a loaded machine: progress
    would stall. Texts are sorted by length and embedded in groups of GROUP, so the batches the
    engine forms are those it would form from the whole slice (it sorts by length too).
    """

    GROUP = 32

    def __init__(self, inner: Embedder, on_progress: Callable[[int, int], None]) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.on_progress = on_progress
        self.base = self.total = 0

    @property
    def calls(self) -> int:
        return int(getattr(self.inner, "calls", 0))

    def slice_started(self, done: int, total: int) -> None:
        self.base, self.total = done, total
        self.on_progress(done, total)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self.GROUP):
            idx = order[b : b + self.GROUP]
            out[idx] = self.inner.embed([texts[i] for i in idx])
            if b + self.GROUP < len(order):  # the slice's end is reported by ChunkIndex.add
                self.on_progress(min(self.base + b + self.GROUP, self.total), self.total)
        return out

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)
