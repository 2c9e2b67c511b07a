"""Excerpts: the few lines of a ranked chunk that matter most to the question.

Under a small budget, a handful of chunks in full reach only a few files, while the evidence is
often spread over more. So after the best chunks go in whole, the next files by rank go in as an
excerpt each: the window of their best chunk whose lines hold the question's rarest terms, with
its exact line span, so the model can cite it and ask for more (read_file with those lines).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from agent.gather.documents import content_hash
from agent.isolation import isolated
from agent.retrieval.chunking import Chunk
from agent.retrieval.lexicon import TokenMemo, code_tokens
from agent.state import Document, Span

EXCERPT_TOKENS = 50  # three or four lines of code: enough to show what is there and where (units show how)
# Of the selected text, when the ladder is on: more files, each briefly. Whole units of the files
# ranked before them take a share of their own (agent/retrieval/units.py).
EXCERPT_SHARE = 0.3
MAX_EXCERPTS = 40  # past this many, more fragments say less than fuller text would
_FRAME = 16  # a block's header and fences


def excerpt_room(room: int) -> int:
    """Tokens of the selection's room kept for excerpts."""
    return min(int(room * EXCERPT_SHARE), MAX_EXCERPTS * (EXCERPT_TOKENS + _FRAME))


def excerpt_cost(blocks: Sequence[Document]) -> int:
    """Tokens of the room a list of excerpts took, frames included."""
    return sum(b.tokens + _FRAME for b in blocks)


def best_window(
    lines: Sequence[str], weights: Mapping[str, float], max_tokens: int, count_tokens: Callable[[str], int]
) -> tuple[int, int]:
    """The [start, end) run of lines within max_tokens whose distinct question terms weigh most."""
    memo = TokenMemo()
    line_terms = [set(code_tokens(line, memo)) & weights.keys() for line in lines]
    costs = [count_tokens(line) + 1 for line in lines]
    best, best_span = -1.0, (0, 0)
    for start in range(len(lines)):
        if not line_terms[start] and start:
            continue  # a window worth having starts on a line that matches
        seen: set[str] = set()
        used = 0
        end = start
        while end < len(lines) and used + costs[end] <= max_tokens:
            used += costs[end]
            seen |= line_terms[end]
            end += 1
        score = math.fsum(weights[t] for t in seen)  # exact: the same for any order of the set
        if score > best:
            best, best_span = score, (start, max(end, start + 1))
    return best_span


def excerpt(
    chunk: Chunk,
    doc: Document,
    weights: Mapping[str, float],
    count_tokens: Callable[[str], int],
    max_tokens: int = EXCERPT_TOKENS,
) -> Document:
    """One block: the best window of a chunk, with its own line span, marked as an excerpt."""
    start, end = best_window(chunk.text.split("\n"), weights, max_tokens, count_tokens)
    return line_block(chunk, doc, start, end, count_tokens, "excerpt")


def line_block(
    chunk: Chunk, doc: Document, start: int, end: int, count_tokens: Callable[[str], int], fidelity: str
) -> Document:
    """Lines [start, end) of a chunk as a block of its own, with their exact line span and source offsets."""
    lines = chunk.text.split("\n")
    head = sum(len(line) + 1 for line in lines[:start])
    text = "\n".join(lines[start:end])
    first = chunk.start_char + head
    last = first + len(text)
    span = chunk.span.model_copy()
    if span.kind == "lines" and span.start is not None:
        span = Span(kind="lines", start=span.start + start, end=span.start + end - 1)
    meta = {**doc.meta, "fidelity": fidelity, "chunk_of": doc.id, "chars": [first, last]}
    marker = "x" if fidelity == "excerpt" else ""  # an excerpt and a unit of the same lines differ
    return doc.model_copy(
        update={
            "id": f"{doc.id}#{marker}{first:09d}-{last:09d}",
            "text": text,
            "hash": content_hash(text),
            "span": span,
            "tokens": count_tokens(text),
            "meta": meta,
        }
    )


def excerpts(
    ranked: Sequence[Chunk],
    shown: set[str],
    room: int,
    weights: Mapping[str, float],
    documents: Mapping[str, Document],
    count_tokens: Callable[[str], int],
) -> list[Document]:
    """An excerpt of each next file by rank (files already shown in full are skipped), within room."""
    out: list[Document] = []
    seen = set(shown)
    left = room
    for chunk in ranked:
        if left < _FRAME + 8 or len(out) >= MAX_EXCERPTS:
            break
        if chunk.uri in seen or chunk.doc_id not in documents:
            continue
        seen.add(chunk.uri)
        block = isolated(
            "excerpting", chunk.uri, "no excerpt of it", None,
            excerpt, chunk, documents[chunk.doc_id], weights, count_tokens, min(EXCERPT_TOKENS, left - _FRAME),
        )  # fmt: skip
        if block is not None and block.text.strip():
            out.append(block)
            left -= block.tokens + _FRAME
    return out
