"""Whole units: the function or class of a ranked file that matters most to the question, in full.

Under a small budget, a few 400-token chunks in full reach only two or three files, and the next
files arrive as excerpts of a few lines: enough to know where something is, not how it works.
So once files are ranked, each of the best files shows one whole unit: the definition (a
function, a method, a class) of its best chunk whose text holds the most of the question's
terms and fits the unit size, or the chunk itself when it is that small. When no definition of
the best chunk fits (it sits inside a long function or class), the unit is a window of about ten
lines of it where the question's terms weigh most. A unit is exact source with its own line span
(compacted: agent/retrieval/compact.py), so it is a block at fidelity `full`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from agent.retrieval.chunking import Chunk
from agent.retrieval.compact import compact_block, compact_span
from agent.retrieval.excerpts import best_window, line_block
from agent.retrieval.lexicon import line_terms
from agent.state import Document

# Tuned on SWE-QA dev pytest at 4k (lexical), in full: unit share 0.5 with excerpts 0.35 gave
# 0.711; excerpts 0.5 (no whole chunks) 0.66; units of at most 200 tokens 0.608, 400 0.701.
# With windows (below), on the even halves of pytest and sqlfluff at 4k and 8k, in full: units
# 0.6 with excerpts 0.3 gave .796 .944 | .732 .829; 0.5/0.35 .796 .907 | .683 .805; 0.4/0.35
# lower; excerpts 0.2 or 0.25 lost files at any fidelity.
UNIT_SHARE = 0.6  # of the selected text: the files ranked after the whole chunks, one unit each
UNIT_TOKENS = 300  # a unit's size, at most: a function or a small class
# When no definition of a file's best chunk fits: a window of it this big, about ten lines. SWE-QA
# dev at 4k (lexical), in full, even half: 120 tokens pytest 0.796, sqlfluff 0.683; 200: 0.796,
# 0.659; 300: 0.778, 0.659 (bigger windows leave fewer files any room at all).
WINDOW_TOKENS = 120
MIN_ROOM = 48  # less room than this left: no unit is worth its frame
_FRAME = 16  # a block's header and fences
CHUNKS_TRIED = 3  # of a file's ranked chunks, how many are searched for a unit that fits
# A definition at any indentation (methods and nested functions too), in Python or a C/JS-like language.
_DEF = re.compile(
    r"^([ \t]*)(?:(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:def|class|function)\s"
    r"|(?:pub(?:\([\w:]+\))?\s+)?(?:fn|struct|enum|impl|trait)\s|func\s|interface\s)"
)
_DECORATOR = re.compile(r"^[ \t]*(?:@|#\[)")
_CLOSER = re.compile(r"^[ \t]*[)\]}]")


def unit_room(room: int) -> int:
    """Tokens of the selection's room kept for whole units."""
    return int(room * UNIT_SHARE)


def definitions(lines: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) line ranges of the definitions in lines, each with its decorators, nested ones too.

    A definition ends before the next non-blank line indented no deeper than its first line
    (a closing bracket at that depth still belongs to it), so this reads Python and most
    brace languages formatted the usual way.
    """
    out = []
    for i, line in enumerate(lines):
        m = _DEF.match(line)
        if not m:
            continue
        depth = len(m.group(1).expandtabs())
        end = i + 1
        for j in range(i + 1, len(lines)):
            text = lines[j].expandtabs()
            if not text.strip():
                continue
            indent = len(text) - len(text.lstrip())
            if indent < depth or indent == depth and not _CLOSER.match(text):
                break
            end = j + 1
            if indent == depth and not text.rstrip().endswith((":", "{")):
                break  # a closing bracket at the definition's depth ends a brace-language body
        start = i
        while start > 0 and _DECORATOR.match(lines[start - 1]):
            start -= 1
        out.append((start, end))
    return out


def best_unit(
    lines: Sequence[str],
    weights: Mapping[str, float],
    cap: int,
    count_tokens: Callable[[str], int],
    cost_of: Callable[[int, int], int] | None = None,
    terms: Sequence[set[str]] | None = None,
) -> tuple[int, int] | None:
    """The [start, end) unit of lines (all of them, or one definition) within cap tokens whose terms weigh most.

    cost_of(start, end): the tokens lines[start:end] take when shown (compacted, say); by
    default, their count. terms: line_terms of the lines, if the caller has them. Ties go to the
    shorter unit. None when no unit fits or none holds a question term.
    """
    terms = line_terms(lines, weights) if terms is None else terms
    costs = [count_tokens(line) + 1 for line in lines]
    candidates = [(0, len(lines)), *definitions(lines)]
    best: tuple[float, int, tuple[int, int]] | None = None
    for lo, hi in candidates:
        seen = set().union(*terms[lo:hi]) if hi > lo else set()
        score = math.fsum(weights[t] for t in seen)  # exact: the same for any order of the set
        if score <= 0 or best is not None and score < best[0]:
            continue
        cost = sum(costs[lo:hi])
        if cost > cap and cost_of is not None:
            cost = cost_of(lo, hi)  # compaction may bring it within the cap
        if cost > cap:
            continue
        key = (score, -cost, (lo, hi))
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def units(
    ranked: Sequence[Chunk],
    shown: set[str],
    room: int,
    cap: int,
    weights: Mapping[str, float],
    documents: Mapping[str, Document],
    count_tokens: Callable[[str], int],
    memo: dict[str, list[set[str]]] | None = None,
) -> list[Document]:
    """One whole unit of each next file by rank (files in `shown` skipped), within room.

    memo: each chunk's line_terms by chunk id, kept across calls for the same question.

    A file whose best chunk holds no definition that fits shows a window of that chunk instead.
    A file whose best chunk holds none of the question's terms (it ranked by its path, say, or
    densely) is left for the excerpts, and so is every file once a few in a row have none.
    """
    out: list[Document] = []
    seen = set(shown)
    tried: dict[str, int] = {}
    left = room
    misses = 0
    for chunk in ranked:
        if left < MIN_ROOM + _FRAME or misses >= 8:
            break
        if chunk.uri in seen or chunk.doc_id not in documents:
            continue
        tried[chunk.uri] = tried.get(chunk.uri, 0) + 1
        if tried[chunk.uri] > CHUNKS_TRIED:
            continue
        lines = chunk.text.split("\n")
        doc = documents[chunk.doc_id]
        first = doc.text.count("\n", 0, chunk.start_char)

        terms = memo.get(chunk.id) if memo is not None else None
        if terms is None:
            terms = line_terms(lines, weights)
            if memo is not None:
                memo[chunk.id] = terms
        shown = _compacted_cost(doc, first, lines, [bool(t) for t in terms], weights, count_tokens)
        span = best_unit(lines, weights, min(cap, left - _FRAME), count_tokens, shown, terms)
        kind = "definition"  # or the whole chunk, when it is that small
        if span is None and tried[chunk.uri] == 1:
            span = _window(lines, terms, weights, min(WINDOW_TOKENS, cap, left - _FRAME), count_tokens)
            kind = "window"
        if span is None:
            # The file's next-ranked chunk may hold a unit that fits; a run of files with none ends the scan.
            misses += tried[chunk.uri] == 1
            continue
        seen.add(chunk.uri)
        misses = 0
        asked = [bool(t) for t in terms[span[0] : span[1]]]
        block = compact_block(
            line_block(chunk, doc, *span, count_tokens, "full"), doc, weights, count_tokens, asked
        )
        if block.text.strip():
            block.meta["unit"] = kind  # for evals: how much of the evidence in full is a window
            out.append(block)
            left -= block.tokens + _FRAME
    return out


def _compacted_cost(
    doc: Document,
    first: int,
    lines: Sequence[str],
    asked: Sequence[bool],
    weights: Mapping[str, float],
    count_tokens: Callable[[str], int],
) -> Callable[[int, int], int]:
    """The tokens lines[lo:hi] (the document's lines from `first` on) take once compacted."""

    def cost(lo: int, hi: int) -> int:
        return count_tokens(
            compact_span(doc.text, first + lo, lines[lo:hi], doc.uri, weights, asked[lo:hi]).text
        )

    return cost


def _window(
    lines: Sequence[str],
    terms: Sequence[set[str]],
    weights: Mapping[str, float],
    cap: int,
    count_tokens: Callable[[str], int],
) -> tuple[int, int] | None:
    """When no definition fits: the run of lines within cap tokens whose question terms weigh most.

    A ranked file's best chunk often sits inside a function or class too long to show whole; a
    unit-sized window of it, starting where the terms do, still shows how the code works, where an
    excerpt of a few lines only shows where it is. None when no line holds a question term.
    """
    if not any(terms):
        return None
    lo, hi = best_window(lines, weights, cap, count_tokens)
    return (lo, hi) if hi > lo else None
