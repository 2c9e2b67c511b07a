"""Paragraphs that are mostly a link to another page ("Read more: <headline>") are not content.

News and blog pages put teasers for their other articles between the paragraphs of the one you
read: a line that is almost all link text, in whatever words the site chose ("Read more:",
"Lea también:", "LE PUEDE INTERESAR:", or nothing at all). The extractors keep them, because
each is a short ``<p>`` inside the article body. The markdown we pack has no inline links, so
the page's own ``<p>`` elements are judged (``teasers``: the words of every short paragraph
that is mostly link text), and a plain markdown paragraph with exactly those words is dropped
(``drop_teasers``). Lists, headings, tables and code are never dropped here: a list of links is
often the content (a reading list, a table of contents).
"""

from __future__ import annotations

import re

from lxml import etree

# Chosen on the even-indexed pages of the three real-page sets (evals/checks/extraction.py): from half
# to all of a paragraph's words, and up to 15-40 words, the trafilatura set's precision rose by
# 0.5-1 point and the other two sets stayed within 0.001 F1; 0.7 and 25 words gained the most.
TEASER_LINK_SHARE = 0.7
TEASER_MAX_WORDS = 25
_WORD = re.compile(r"\w+")
_NOT_PARAGRAPH = re.compile(r"\s*(?:#{1,6}\s|[-*+]\s|\d{1,3}[.)]\s|\||>|```|~~~)")
_FENCE = re.compile(r"\s*(?:```|~~~)")

Words = tuple[str, ...]


def teasers(tree: etree._Element) -> set[Words]:
    """Return the words (lower-cased) of every short paragraph of the page that is mostly link text."""
    found: set[Words] = set()
    for paragraph in tree.iter("p"):
        words = _words(paragraph)
        if not words or len(words) > TEASER_MAX_WORDS:
            continue
        linked = sum(
            len(_words(anchor))
            for anchor in paragraph.iter("a")
            if anchor.get("href") is not None and next(anchor.iterancestors("a"), None) is None
        )
        if linked >= TEASER_LINK_SHARE * len(words):
            found.add(words)
    return found


def drop_teasers(markdown: str, found: set[Words]) -> str:
    """Drop the plain markdown paragraphs whose words are those of a teaser paragraph."""
    if not found:
        return markdown
    out: list[str] = []
    in_fence = dropped = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and is_paragraph(line) and tuple(_WORD.findall(line.lower())) in found:
            dropped = True
            continue
        elif dropped and not line.strip() and (not out or not out[-1].strip()):
            continue  # the blank line that separated the dropped paragraph
        dropped = False
        out.append(line)
    return "\n".join(out)


def is_paragraph(line: str) -> bool:
    """Tell whether a markdown line is plain paragraph text (no heading, list item, table, quote, fence)."""
    return bool(line.strip()) and not _NOT_PARAGRAPH.match(line)


def _words(el: etree._Element) -> Words:
    return tuple(_WORD.findall(" ".join(el.itertext()).lower()))
