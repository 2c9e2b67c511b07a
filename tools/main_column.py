"""What follows the article outside its container is not the article: trailing blocks are cut.

An extractor that judges a page paragraph by paragraph keeps the boxes that come after the
article when they look like prose: the author's bio, a "related posts" grid, a FAQ or a sales
pitch in sibling sections, a contact block. On the page they sit outside the element that
holds the article: its body is one container (the smallest element holding most of the words
we extracted), and what comes after it in another one is a different box. So every block of
the extracted markdown is traced back to the page element it came from (``block_paths``, an
index of the page's blocks by their words, made before the extractor edits the tree), and the
blocks after the container's last one that lie outside it are dropped (``drop_trailing``).
Blocks before or between the container's blocks stay (a standfirst in the page header, an
article split in parts), and so do blocks that cannot be traced.

It is a judgement on the page's structure only: no class names, no wording.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

# The container holds at least this share of the extracted words. Chosen on the even-indexed
# pages of the three real-page sets (evals/extraction.py): at 0.8 precision rose 0.3 points on
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
Path = tuple[int, ...]  # an element and its ancestors, as numbers in document order, root first


def block_paths(tree: etree._Element) -> dict[Words, Path]:
    """Index the page's block elements by their words: their count and first words, or first words.

    Of nested elements with the same key the innermost wins, then the first in document order.
    One pass over the tree, each text read once (a page of 10,000 elements costs milliseconds).
    """
    index: dict[Words, Path] = {}
    words: list[str] = []
    stack: list[tuple[int, int]] = []  # (element number, index of its first word)
    number = skipping = 0
    for event, el in etree.iterwalk(tree, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            number += 1
            stack.append((number, len(words)))
            skipping += tag in _SKIP
            if el.text and not skipping:
                words.extend(_WORD.findall(el.text.lower()))
            continue
        own, first = stack.pop()
        skipping -= tag in _SKIP
        size = len(words) - first
        if tag in _BLOCK_TAGS and size:
            path = (*(n for n, _ in stack), own)
            head = tuple(words[first : first + PREFIX_WORDS])
            index.setdefault((str(size), *head), path)
            if size > PREFIX_WORDS:
                index.setdefault(("…", *head), path)
        if el.tail and not skipping:
            words.extend(_WORD.findall(el.tail.lower()))
    return index


def drop_trailing(markdown: str, index: dict[Words, Path]) -> str:
    """Drop the blocks after the article's container that lie outside it."""
    blocks = split_blocks(markdown)
    if len(blocks) < 2 or not index:
        return markdown
    sized = [(block, len(words), _find(words, index)) for block in blocks if (words := _words(block))]
    total = sum(size for _, size, _ in sized)
    under: Counter[int] = Counter()
    depth: dict[int, int] = {}
    for _, size, path in sized:
        for d, n in enumerate(path or ()):
            under[n] += size
            depth[n] = d
    held = [n for n, size in under.items() if size >= MAIN_SHARE * total]
    if not held:
        return markdown
    main = max(held, key=depth.__getitem__)
    inside = [path is not None and main in path for _, _, path in sized]
    last = max(i for i, yes in enumerate(inside) if yes)
    dropped = {
        id(block)
        for i, (block, _, path) in enumerate(sized)
        if i > last and path is not None and not inside[i]
    }
    if not dropped:
        return markdown
    return "\n\n".join(block for block in blocks if id(block) not in dropped)


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


def _find(words: Words, index: dict[Words, Path]) -> Path | None:
    head = words[:PREFIX_WORDS]
    found = index.get((str(len(words)), *head))
    if found is None and len(words) > PREFIX_WORDS:
        found = index.get(("…", *head))
    return found


def _words(block: str) -> Words:
    return tuple(_WORD.findall(block.lower()))
