"""Find which pages of a PDF mention a phrase, with the text around each hit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tools.errors import InvalidArgument
from tools.pdf.pages import PageText


def search_pages(
    pages: Sequence[PageText], query: str, *, max_results: int = 20, context: int = 160
) -> tuple[list[dict[str, Any]], str]:
    """Find a phrase (case- and whitespace-insensitive) and return hits with page and snippet.

    When the phrase never occurs, pages holding all of its words are returned instead; the
    second value says which kind of match was made ("phrase" or "all words").
    """
    words = query.split()
    if not words:
        raise InvalidArgument("search query is empty; pass the words or phrase to look for")
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    hits = _hits(pages, pattern, max_results, context)
    if hits or len(words) == 1:
        return hits, "phrase"
    found: list[dict[str, Any]] = []
    for page in pages:
        if len(found) >= max_results:
            break
        if all(re.search(re.escape(w), page.text, re.IGNORECASE) for w in words):
            found.extend(_hits([page], re.compile(re.escape(words[0]), re.IGNORECASE), 1, context))
    return found, "all words"


def _hits(
    pages: Sequence[PageText], pattern: re.Pattern[str], limit: int, context: int
) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = []
    for page in pages:
        for m in pattern.finditer(page.text):
            start, end = max(0, m.start() - context), min(len(page.text), m.end() + context)
            snippet = " ".join(page.text[start:end].split())
            hits.append(
                {
                    "page": page.number,
                    "match": m.group(0),
                    "snippet": ("…" if start else "") + snippet + ("…" if end < len(page.text) else ""),
                }
            )
            if len(hits) >= limit:
                return hits
    return hits
