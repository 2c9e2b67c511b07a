"""What follows the article outside its container is not the article: trailing blocks are cut.

An extractor that judges a page paragraph by paragraph keeps the boxes that come after the
article when they look like prose: the author's bio, a "related posts" grid, a FAQ or a sales
pitch in sibling sections, a contact block. On the page they sit outside the element that
holds the article: its body is one container (the smallest element holding most of the words
we extracted, in more than one block), and what comes after it in another one is a different box. So every block of
the extracted markdown is traced back to the page element it came from (``page_blocks``, an
index of the page's blocks by their words, made before the extractor edits the tree), and the
blocks after the container's last one that lie outside it are dropped (``drop_trailing``).
Blocks before or between the container's blocks stay (a standfirst in the page header, an
article split in parts), and so do blocks that cannot be traced.

It is a judgement on the page's structure only: no class names, no wording.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

# The container holds at least this share of the extracted words. Chosen on the even-indexed
# pages of the three real-page sets (evals/checks/extraction.py): at 0.8 precision rose 0.3 points on
# the 2025 pages and 0.4 on the trafilatura set for 0.1 of recall, the readability set unchanged;
# 0.6-0.7 gained up to 0.8 points of precision but cost 0.2-0.5 of recall on every set (FAQs
# and second parts in sibling boxes), 0.9 gained half as much.
MAIN_SHARE = 0.8
PREFIX_WORDS = 8  # a block is also found by its first words (the extractor joins text differently)
_WORD = re.compile(r"\w+")
_FENCE = re.compile(r"\s*(?:```|~~~)")
_BLOCK_TAGS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "td", "th", "dd", "dt",
     "figcaption", "ul", "ol", "dl", "table", "div", "section", "article", "header", "footer",
     "aside", "address", "caption"}
)  # fmt: skip
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})

Words = tuple[str, ...]


@dataclass
class PageBlocks:
    """The page's block elements by their words, as numbers in document order (the root is 0)."""

    index: dict[Words, int] = field(default_factory=dict)
    parent: list[int] = field(default_factory=list)  # an element's number -> its parent's (-1: none)

    def find(self, words: Words) -> int | None:
        """Return the element a block of these words came from, if one has them."""
        head = words[:PREFIX_WORDS]
        found = self.index.get((str(len(words)), *head))
        if found is None and len(words) > PREFIX_WORDS:
            found = self.index.get(("…", *head))
        return found

    def ancestry(self, number: int) -> list[int]:
        """Return the element and its ancestors, innermost first."""
        chain = []
        while number >= 0:
            chain.append(number)
            number = self.parent[number]
        return chain


def page_blocks(tree: etree._Element) -> PageBlocks:
    """Index the page's block elements by their words: their count and first words, or first words.

    Of nested elements with the same key the innermost wins, then the first in document order.
    One pass over the tree, each text read once; memory grows with the elements, not their depth.
    """
    page = PageBlocks()
    words: list[str] = []
    stack: list[tuple[int, int]] = []  # (element number, index of its first word)
    skipping = 0
    for event, el in etree.iterwalk(tree, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            stack.append((len(page.parent), len(words)))
            page.parent.append(stack[-2][0] if len(stack) > 1 else -1)
            skipping += tag in _SKIP
            if el.text and not skipping:
                words.extend(_WORD.findall(el.text.lower()))
            continue
        own, first = stack.pop()
        skipping -= tag in _SKIP
        size = len(words) - first
        if tag in _BLOCK_TAGS and size:
            head = tuple(words[first : first + PREFIX_WORDS])
            page.index.setdefault((str(size), *head), own)
            if size > PREFIX_WORDS:
                page.index.setdefault(("…", *head), own)
        if el.tail and not skipping:
            words.extend(_WORD.findall(el.tail.lower()))
    return page


def drop_trailing(markdown: str, page: PageBlocks) -> str:
    """Drop the blocks after the article's container that lie outside it."""
    blocks = split_blocks(markdown)
    if len(blocks) < 2 or not page.index:
        return markdown
    traced = []  # (the block's place, its words, its element's ancestry or None)
    for place, block in enumerate(blocks):
        if words := _words(block):
            number = page.find(words)
            traced.append((place, len(words), None if number is None else page.ancestry(number)))
    total = sum(size for _, size, _ in traced)
    under: Counter[int] = Counter()
    holds: Counter[int] = Counter()  # how many blocks lie under each element
    depth: dict[int, int] = {}
    for _, size, chain in traced:
        for d, number in enumerate(reversed(chain or ())):
            under[number] += size
            holds[number] += 1
            depth[number] = d
    # A container holds more than one block: one long paragraph is not the article's box.
    held = [number for number, size in under.items() if size >= MAIN_SHARE * total and holds[number] > 1]
    if not held:
        return markdown
    main = max(held, key=depth.__getitem__)
    inside = [chain is not None and main in chain for _, _, chain in traced]
    last = max(i for i, yes in enumerate(inside) if yes)
    dropped = {
        place
        for i, (place, _, chain) in enumerate(traced)
        if i > last and chain is not None and not inside[i]
    }
    if not dropped:
        return markdown
    return "\n\n".join(block for place, block in enumerate(blocks) if place not in dropped)


def split_blocks(markdown: str) -> list[str]:
    """Split markdown at blank lines, a fenced code block (blank lines and all) being one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _words(block: str) -> Words:
    return tuple(_WORD.findall(block.lower()))
