"""Chosen chunks back into blocks: take ranked chunks while the budget holds, join neighbours in document order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.gather.documents import content_hash
from agent.retrieval.chunking import Chunk
from agent.state import Document, Span


def fill_budget(
    ranked: Sequence[Chunk], budget: int, count_tokens: Callable[[str], int], *, max_misses: int = 50
) -> tuple[list[Chunk], dict[str, int]]:
    """Take ranked chunks until the budget is full, skipping ones that no longer fit."""
    chosen: list[Chunk] = []
    costs: dict[str, int] = {}
    used = misses = 0
    for chunk in ranked:
        cost = costs.setdefault(chunk.hash, count_tokens(chunk.text))
        if used + cost <= budget:
            chosen.append(chunk)
            used += cost
            misses = 0
        else:
            misses += 1  # a smaller chunk further down may still fit; stop once many in a row do not
            if misses >= max_misses or budget - used < 16:
                break
    return chosen, costs


def merge_neighbours(chosen: Sequence[Chunk], documents: dict[str, Document]) -> list[Document]:
    """Order chunks as in their documents and join adjacent ones into one block each."""
    doc_rank = {doc_id: i for i, doc_id in enumerate(documents)}
    ordered = sorted(chosen, key=lambda c: (doc_rank[c.doc_id], c.order))
    runs: list[list[Chunk]] = []
    for c in ordered:
        if runs and runs[-1][-1].doc_id == c.doc_id and c.order <= runs[-1][-1].order + 1:
            if c.order > runs[-1][-1].order:
                runs[-1].append(c)
        else:
            runs.append([c])
    return [_block(run, documents[run[0].doc_id]) for run in runs]


def _block(run: list[Chunk], doc: Document) -> Document:
    """One Document for a run of neighbouring chunks: the exact source text they cover."""
    first, last = run[0], run[-1]
    text = doc.text[first.start_char : last.end_char]
    span = _join_spans(first.span, last.span)
    if first.start_char == 0 and last.end_char >= len(doc.text):
        return doc.model_copy()
    # Zero-padded offsets: ids of one document's blocks sort in document order, which keeps
    # section-spanned web blocks (no line numbers) in order wherever blocks are sorted by id.
    bid = f"{doc.id}#{first.start_char:09d}-{last.end_char:09d}"
    meta = {**doc.meta, "chunk_of": doc.id, "chars": [first.start_char, last.end_char]}
    return doc.model_copy(
        update={
            "id": bid,
            "text": text,
            "hash": content_hash(text),
            "span": span,
            "tokens": 0,
            "meta": meta,
        }
    )


def _join_spans(a: Span, b: Span) -> Span:
    if a.kind in ("lines", "pages") and a.kind == b.kind:
        return Span(kind=a.kind, start=a.start, end=b.end if b.end is not None else b.start, label=a.label)
    if a.kind == "section" and a.label != b.label and b.label:
        return Span(kind="section", label=f"{a.label} … {b.label}" if a.label else b.label)
    return a.model_copy()
