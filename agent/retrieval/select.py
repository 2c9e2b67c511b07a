"""Select what fits: chunk, rank with BM25, code signals and dense vectors (RRF), fill the budget in document order.

Ranking reads dense vectors from the embedding cache or Chroma (agent/retrieval/indexing.py
fills them ahead of time); the chosen chunks become blocks in agent/retrieval/blocks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from agent.paths import places
from agent.retrieval import background
from agent.retrieval.blocks import fill_budget, merge_neighbours
from agent.retrieval.chroma_index import ChunkIndex
from agent.retrieval.chunking import TARGET_TOKENS, Chunk, chunk_all
from agent.retrieval.embeddings import Embedder, EmbeddingCache, choose_embedder, embed_cached
from agent.retrieval.ranking import CodeIndex
from agent.retrieval.skipping import embeddable
from agent.settings import Settings
from agent.state import Document


class Selection(BaseModel):
    """What select() kept: chunk-level documents in document order, and the token counts."""

    documents: list[Document]
    kept_tokens: int
    gathered_tokens: int
    notice: str | None = None
    ranked_uris: list[str] = []  # files in the order their best chunk ranked (the ladder's order)


# ---------------------------------------------------------------- the seam the graph calls


def chunk_target(budget: int) -> int:
    """Chunk size for a budget: the standard size, smaller only when the budget holds few chunks."""
    return min(TARGET_TOKENS, max(48, budget // 8))


EMBED_AT_QUESTION = 300  # ~10 s of CPU embedding; a bigger unindexed corpus is embedded in the background


_CODE_INDEXES: dict[str, CodeIndex] = {}  # the last few corpora, by their chunk ids (chat follow-ups, evals)
_KEEP_INDEXES = 2


def code_index(chunks: Sequence[Chunk], documents: Sequence[Document]) -> CodeIndex:
    """The ranking index of these chunks, built once per process for an unchanged corpus."""
    import hashlib

    key = hashlib.sha256("\0".join(c.id for c in chunks).encode()).hexdigest()
    hit = _CODE_INDEXES.pop(key, None) or CodeIndex(chunks, documents)
    _CODE_INDEXES[key] = hit  # most recent last
    while len(_CODE_INDEXES) > _KEEP_INDEXES:
        _CODE_INDEXES.pop(next(iter(_CODE_INDEXES)))
    return hit


def rank_chunks(
    chunks: Sequence[Chunk],
    question: str,
    *,
    dense: Sequence[str] = (),
    documents: Sequence[Document] = (),
) -> list[Chunk]:
    """Rank chunks for the question: code-aware lexical signals and, if given, a dense ranking (ids)."""
    ranker = code_index(chunks, documents)
    pos = {c.id: i for i, c in enumerate(ranker.chunks)}
    dense_pos = [pos[i] for i in dense if i in pos]
    return [ranker.chunks[i] for i in ranker.rank(question, dense=dense_pos)]


def rank_documents(documents: Sequence[Document], question: str) -> list[Document]:
    """Rank whole documents for the question: each by its best chunk; those no signal reached last, in order."""
    ranked = rank_chunks(chunk_all(documents), question, documents=documents)
    by_id = {d.id: d for d in documents}
    first = [by_id[i] for i in dict.fromkeys(c.doc_id for c in ranked)]
    seen = {d.id for d in first}
    return first + [d for d in documents if d.id not in seen]


def dense_from_vectors(
    query: np.ndarray, chunks: Sequence[Chunk], vectors: dict[str, np.ndarray], n: int
) -> list[str]:
    """Exact cosine ranking (unit vectors) of the chunks whose vectors are known, best first, top n."""
    known = [c for c in chunks if c.hash in vectors]
    if not known or n <= 0:
        return []
    matrix = np.stack([vectors[c.hash] for c in known])
    scores = matrix @ np.asarray(query, dtype=np.float32)
    top = np.argpartition(-scores, min(n, len(known)) - 1)[:n] if n < len(known) else np.arange(len(known))
    return [known[i].id for i in top[np.argsort(-scores[top], kind="stable")]]


MAX_CACHED_DENSE = 200_000  # chunks ranked from cached vectors in memory (~300 MB); beyond, Chroma's index


@dataclass
class Ranking:
    """Chunks ranked for one question: filled at one budget or several without ranking again."""

    documents: list[Document]
    question: str
    chunks: list[Chunk]
    ranked: list[Chunk]
    gathered_tokens: int
    notice: str | None = None


def rank(
    documents: list[Document],
    question: str,
    budget: int,
    *,
    settings: Settings,
    count_tokens: Callable[[str], int],
    lock_timeout: float = 10.0,
    embedder: Embedder | None = None,
    chunk_tokens: int | None = None,
) -> Ranking:
    """Chunk and rank the documents for the question (dense ranks sized for a budget this large).

    chunk_tokens: the chunk size (default: chunk_target(budget)); the same size for the same
    corpus means the same chunk ids, so what `forage index` embedded is found again.
    """
    gathered = sum(d.tokens or count_tokens(d.text) for d in documents)
    if gathered <= budget:
        return Ranking(list(documents), question, [], [], gathered)
    size = chunk_tokens or chunk_target(budget)
    chunks = chunk_all(documents, size)
    notice = None
    if embedder is None:
        embedder, notice = choose_embedder(settings)
    avg = max(1, sum(len(c.text) for c in chunks) // max(1, len(chunks)) // 4)
    dense_n = min(len(chunks), max(50, 3 * budget // avg))
    dense: list[str] = []
    later: list[Chunk] = []  # not embedded yet: handed to the background worker once ranked
    if embedder is not None:
        wanted, _ = embeddable(chunks, documents, embed_all=settings.embed_all)
        dense, later = _dense_ranking(
            chunks, wanted, question, embedder, size, dense_n, settings, lock_timeout
        )
    ranked = rank_chunks(chunks, question, dense=dense, documents=documents)
    if later and embedder is not None:  # after ranking, so the worker does not slow it down
        notice = _embed_rest(settings, embedder, later, len(chunks))
    return Ranking(list(documents), question, chunks, ranked, gathered, notice)


def fill(
    ranking: Ranking,
    budget: int,
    count_tokens: Callable[[str], int],
    *,
    excerpt_room: int = 0,
    unit_room: int = 0,
    unit_tokens: int = 0,
) -> Selection:
    """The best-ranked chunks that fit the budget, in document order, then units and excerpts of the next files.

    unit_room: of the budget, tokens for whole units of at most unit_tokens each (a function or
    class, agent/retrieval/units.py) of the files ranked after those whose chunks went in whole.
    excerpt_room: tokens for excerpts (agent/retrieval/excerpts.py) of the files after those.
    Room the units and excerpts cannot use (too few files left, or as many excerpts as are worth
    having) goes back to whole chunks.
    """
    documents, gathered = ranking.documents, ranking.gathered_tokens
    if gathered <= budget or not ranking.chunks:  # no chunks: everything fit rank()'s budget
        return Selection(documents=list(documents), kept_tokens=gathered, gathered_tokens=gathered)
    docs_by_id = {d.id: d for d in documents}
    shrink = None
    if excerpt_room or unit_room:
        from agent.retrieval.compact import compact_block

        weights = code_index(ranking.chunks, documents).term_weights(ranking.question)

        def shrink(block: Document) -> Document:
            doc = docs_by_id[block.meta.get("chunk_of", block.id)]
            return compact_block(block, doc, weights, count_tokens)

    blocks, kept = _whole_chunks(
        ranking.ranked, budget - excerpt_room - unit_room, docs_by_id, count_tokens, shrink
    )
    if excerpt_room or unit_room:
        from agent.retrieval.excerpts import EXCERPT_TOKENS, excerpt_cost, excerpts
        from agent.retrieval.units import units

        terms: dict[str, list[set[str]]] = {}  # each chunk's lines' question terms, for every round

        def parts(blocks: list[Document], kept: int) -> list[Document]:
            shown = {b.uri for b in blocks}
            whole = units(
                ranking.ranked, shown, min(unit_room, budget - kept), unit_tokens, weights, docs_by_id, count_tokens,
                terms,
            ) if unit_room else []  # fmt: skip
            shown |= {b.uri for b in whole}
            left = budget - kept - excerpt_cost(whole)
            return whole + excerpts(ranking.ranked, shown, left, weights, docs_by_id, count_tokens)

        extra = parts(blocks, kept)
        # Room left over goes to whole chunks; they may take a file a unit or an excerpt showed,
        # which frees that room in turn, so settle in a few rounds.
        for _ in range(3):
            used = excerpt_cost(extra)
            if budget - kept - used <= EXCERPT_TOKENS:
                break
            blocks, kept = _whole_chunks(ranking.ranked, budget - used, docs_by_id, count_tokens, shrink)
            extra = parts(blocks, kept)
        blocks += extra
        kept += sum(b.tokens for b in extra)
    return Selection(
        documents=blocks, kept_tokens=kept, gathered_tokens=gathered, notice=ranking.notice,
        ranked_uris=list(dict.fromkeys(c.uri for c in ranking.ranked)),
    )  # fmt: skip


def _whole_chunks(
    ranked: Sequence[Chunk],
    budget: int,
    docs_by_id: dict[str, Document],
    count_tokens: Callable[[str], int],
    shrink: Callable[[Document], Document] | None = None,
) -> tuple[list[Document], int]:
    """The best-ranked chunks that fit the budget as blocks (neighbours joined, then shrunk), and their tokens."""
    chosen, _ = fill_budget(ranked, budget, count_tokens)
    while True:
        blocks = merge_neighbours(chosen, docs_by_id)
        if shrink is not None:
            blocks = [shrink(b) for b in blocks]
        for b in blocks:
            b.tokens = b.tokens or count_tokens(b.text)
        kept = sum(b.tokens for b in blocks)
        if kept <= budget or not chosen:
            return blocks, kept
        chosen = chosen[:-1]  # a joined block can count a few tokens more than its parts


def select(
    documents: list[Document],
    question: str,
    budget: int,
    *,
    settings: Settings,
    count_tokens: Callable[[str], int],
    lock_timeout: float = 10.0,
    embedder: Embedder | None = None,
    chunk_tokens: int | None = None,
    excerpt_room: int = 0,
) -> Selection:
    """Keep the chunks most relevant to the question that fit the budget, in document order.

    rank() then fill(): see them for excerpt_room and chunk_tokens.
    """
    ranking = rank(
        documents, question, budget, settings=settings, count_tokens=count_tokens,
        lock_timeout=lock_timeout, embedder=embedder, chunk_tokens=chunk_tokens,
    )  # fmt: skip
    return fill(ranking, budget, count_tokens, excerpt_room=excerpt_room)


def _dense_ranking(
    chunks: Sequence[Chunk],
    wanted: Sequence[Chunk],
    question: str,
    embedder: Embedder,
    size: int,
    dense_n: int,
    settings: Settings,
    lock_timeout: float,
) -> tuple[list[str], list[Chunk]]:
    """Dense ids for the question, and the chunks that could not be embedded now.

    A local corpus of up to MAX_CACHED_DENSE chunks is ranked exactly in memory from the
    content-hash cache: no Chroma import or lock on the query path. Beyond that, or with a
    Chroma server, what is missing is added to the index first. Either way at most a few
    seconds' worth of chunks is embedded now; the rest is left for the background.
    wanted: the chunks worth embedding (agent/retrieval/skipping.py); the others rank densely
    only when their vectors are there already (`forage index --embed-all`).
    """
    if settings.chroma_url is None and len(chunks) <= MAX_CACHED_DENSE:
        cache = EmbeddingCache(places(settings).embeddings)
        try:
            vectors = cache.get_many(embedder.name, [c.hash for c in chunks])
            unknown = list({c.hash: c for c in wanted if c.hash not in vectors}.values())
            if unknown and len(unknown) <= EMBED_AT_QUESTION:
                vecs = embed_cached(embedder, cache, [c.text for c in unknown], [c.hash for c in unknown])
                vectors.update(zip((c.hash for c in unknown), vecs, strict=True))
                unknown = []
        finally:
            cache.close()
        # First contact, or a corpus still being embedded: lexical only. Dense ranks of only the
        # chunks embedded so far favour those (SWE-QA dev, pytest at 16k: 0.876 partly embedded,
        # 0.928 lexical), and with no vectors there is no model to load (~300 MB).
        if not vectors or unknown:
            return [], unknown
        return dense_from_vectors(embedder.embed_query(question), chunks, vectors, dense_n), unknown
    with ChunkIndex(settings, embedder, lock_timeout=lock_timeout) as index:
        pending = index.missing(wanted)
        unknown = _not_cached(index, embedder, pending)
        current = {c.id for c in chunks}
        if len(unknown) <= EMBED_AT_QUESTION:
            index.add(wanted, size, current=current)
            ids = [c.id for c in chunks]
            if len(wanted) < len(chunks):  # of the chunks not worth embedding, those indexed anyway
                absent = {c.id for c in index.missing(chunks)}
                ids = [i for i in ids if i not in absent]
            return index.dense(embedder.embed_query(question), ids, dense_n), []
        # Embedding a big, unindexed corpus takes minutes on a CPU: add what the cache already
        # holds, rank lexically (a dense ranking of part of the corpus favours that part), and
        # embed the rest elsewhere.
        todo = {c.id for c in unknown}
        index.add([c for c in wanted if c.id not in todo], size, current=current)
    return [], unknown


def _embed_rest(settings: Settings, embedder: Embedder, unknown: Sequence[Chunk], total: int) -> str:
    """Hand the chunks not embedded yet to the background worker; the notice that says so."""
    started = background.embed_later(settings, embedder.name, unknown)
    how = (
        "embedding them in the background now (once it is done, questions over these sources rank densely)"
        if started
        else "run `forage index` on these sources once to rank everything densely"
    )
    return (
        f"{len(unknown):,} of {total:,} chunks are not embedded yet, so this question was ranked by "
        f"keywords and code signals only; {how}."
    )


def _not_cached(index: ChunkIndex, embedder: Embedder, chunks: Sequence[Chunk]) -> list[Chunk]:
    have = index.cache.get_many(embedder.name, [c.hash for c in chunks])
    return [c for c in chunks if c.hash not in have]
