"""Index ahead of time (`forage index`): chunk, embed and add documents to the Chroma index."""

from __future__ import annotations

import time
from collections.abc import Callable

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
