"""An HTML element as plain markdown blocks: headings, paragraphs, list items, code, tables.

Every text node is written once, in document order, so nothing is doubled (a paragraph
inside a list item) and nothing is lost. It renders a subtree another extractor has already
chosen (readability's article, or a whole page when no main content was found); choosing
what to keep is not its job.
"""

from __future__ import annotations

import re

from lxml import etree

_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "title", "meta", "link", "iframe",
     "object", "embed", "select", "option", "input", "textarea", "button", "canvas", "map"}
)  # fmt: skip
_BLOCK = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "ul", "ol", "dl",
     "dt", "dd", "blockquote", "figure", "figcaption", "form", "fieldset", "address", "details",
     "summary", "center", "hr", "caption", "body", "html"}
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_WS = re.compile(r"\s+")
MAX_TABLE_CELLS = 2000  # a layout table with thousands of cells is written as paragraphs
MAX_DEPTH = 200  # deeper than this, a subtree is written as its plain text (no recursion limit hit)


class _Writer:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buf: list[str] = []
        self.prefix: list[str] = [""]

    def flush(self) -> None:
        text = _WS.sub(" ", "".join(self.buf)).strip()
        self.buf.clear()
        if text:
            self.blocks.append(self.prefix[-1] + text)
            self.prefix[-1] = ""  # a list item's marker goes on its first block only

    def walk(self, el: etree._Element, depth: int = 0) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag or tag in _SKIP:  # comments, processing instructions, invisible elements
            self.buf.append(el.tail or "")
            return
        if depth > MAX_DEPTH:
            self.buf.append(" " + _text(el) + " ")
        elif tag == "br":
            self.buf.append(" ")
        elif tag == "pre":
            self.flush()
            code = _text(el).strip("\n")
            if code.strip():
                self.blocks.append(f"```\n{code}\n```")
        elif tag in _HEADINGS:
            self.flush()
            text = _WS.sub(" ", _text(el)).strip()
            if text:
                self.blocks.append("#" * _HEADINGS[tag] + " " + text)
        elif tag == "table" and self._table(el):
            pass
        elif tag in _BLOCK or tag in ("li", "table", "tr", "td", "th", "thead", "tbody", "tfoot"):
            self.flush()
            # A list item's marker goes to the first text written inside it, however deep.
            inherited, self.prefix[-1] = self.prefix[-1], ""
            self.prefix.append("- " if tag == "li" else inherited)
            self.buf.append(el.text or "")
            for child in el:
                self.walk(child, depth + 1)
            self.flush()
            if (left := self.prefix.pop()) and tag != "li":
                self.prefix[-1] = left  # nothing written yet: the marker waits for the next block
        else:
            self.buf.append(el.text or "")
            for child in el:
                self.walk(child, depth + 1)
        self.buf.append(el.tail or "")

    def _table(self, table: etree._Element) -> bool:
        """Write a table of plain rows as a markdown table; False when it is a layout table."""
        rows = [r for r in table.iter("tr") if _nearest_table(r) is table]
        if not rows or table.xpath(".//table") or sum(len(r) for r in rows) > MAX_TABLE_CELLS:
            return False
        self.flush()
        lines = []
        for row in rows:
            cells = [_WS.sub(" ", _text(c)).strip().replace("|", "\\|") for c in row if c.tag in ("td", "th")]
            if not any(cells):
                continue
            lines.append("| " + " | ".join(cells) + " |")
            if len(lines) == 1:
                lines.append("|" + " --- |" * len(cells))
        if lines:
            self.blocks.append("\n".join(lines))
        return True


def _nearest_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def html_blocks(root: etree._Element) -> str:
    """Return the text under ``root`` as markdown blocks separated by blank lines."""
    writer = _Writer()
    writer.buf.append(root.text or "")
    for child in root:
        writer.walk(child)
    writer.flush()
    return "\n\n".join(writer.blocks)


def _text(el: etree._Element) -> str:
    return "".join(el.itertext())
