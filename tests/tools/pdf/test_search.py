"""tools.pdf.search: a phrase across line breaks, else pages holding all of its words."""

from __future__ import annotations

import pytest

from tools.errors import InvalidArgument
from tools.pdf.pages import PageText
from tools.pdf.search import search_pages


def test_search_finds_phrases_across_line_breaks_then_all_words() -> None:
    texts = ("The learning\nrate was 3e-4.", "Nothing here.", "rate and learning apart")
    pages = [PageText(i + 1, t, "text") for i, t in enumerate(texts)]
    hits, kind = search_pages(pages, "learning rate")
    assert kind == "phrase" and [h["page"] for h in hits] == [1]
    hits, kind = search_pages(pages, "apart learning")
    assert kind == "all words" and [h["page"] for h in hits] == [3]
    with pytest.raises(InvalidArgument):
        search_pages(pages, "  ")
