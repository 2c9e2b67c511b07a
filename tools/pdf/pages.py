"""A PDF's pages as forage reads them: page text and status, page ranges, rendering into windows.

What the extraction (`tools.pdf.extract`, in worker processes) produces and what the servers
show: one `PageText` per page, "[page N]" blocks, and windows cut on page boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tools.errors import DamagedDocument, InvalidArgument, ToolError

NO_TEXT_LAYER = "no text layer (OCR not available)"

PageStatus = Literal["text", "no_text_layer", "blank", "unreadable"]


class NoTextLayer(ToolError):
    """None of the requested pages has extractable text (scanned images, OCR not available)."""


@dataclass(frozen=True)
class PageText:
    """The text of one page (1-based `number`) and what kind of page it was."""

    number: int
    text: str
    status: PageStatus
    note: str | None = None
    hidden: dict[str, Any] | None = None  # text a reader does not see, dropped (tools.pdf.hidden)

    def body(self) -> str:
        """The page as the model reads it: its text, or a sentence saying why there is none."""
        if self.status == "text":
            return self.text
        if self.status == "no_text_layer":
            return f"<{NO_TEXT_LAYER}>"
        if self.status == "blank":
            return "<blank page: no text and no images>"
        return f"<unreadable page: {self.note or 'extraction failed'}>"


# ---------------------------------------------------------------------------- page ranges

_RANGE_ITEM = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


def parse_page_range(spec: str | None, page_count: int, *, name: str = "the PDF") -> list[int]:
    """Turn "1-5,9" into [1, 2, 3, 4, 5, 9]; None or "" means every page. Strict: no guessing."""
    if page_count <= 0:
        raise DamagedDocument(f"{name} has no pages (its page tree is empty); there is nothing to read")
    if spec is None or not spec.strip():
        return list(range(1, page_count + 1))
    numbers: list[int] = []
    seen: set[int] = set()
    for raw in spec.split(","):
        item = raw.strip()
        m = _RANGE_ITEM.match(item)
        if not m:
            raise InvalidArgument(
                f"page range {spec!r}: {item!r} is not a page or a range; "
                f'use 1-based numbers like "3", "1-5" or "1-5,9"'
            )
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else start
        if start == 0 or end == 0:
            raise InvalidArgument(f"page range {spec!r}: pages are numbered from 1, not 0")
        if end < start:
            raise InvalidArgument(f"page range {spec!r}: {item!r} runs backwards; write {end}-{start}")
        if end > page_count:
            raise InvalidArgument(
                f"page range {spec!r}: {name} has {page_count} page{'s' if page_count != 1 else ''}; "
                f"ask for pages 1-{page_count}"
            )
        for n in range(start, end + 1):
            if n not in seen:
                seen.add(n)
                numbers.append(n)
    return numbers


def pages_phrase(numbers: Sequence[int]) -> str:
    """ "page 3" or "pages 1-3,7"."""
    return f"page{'s' if len(numbers) != 1 else ''} {format_page_list(numbers)}"


def format_page_list(numbers: Iterable[int]) -> str:
    """Compress [1, 2, 3, 7] to "1-3,7"."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [n]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(out)


# ---------------------------------------------------------------------------- rendering


def page_block(page: PageText) -> str:
    """One page as it appears in read_pdf's text: a [page N] marker, then the page."""
    return f"[page {page.number}]\n{page.body()}\n\n"


@dataclass
class Window:
    """A slice of the rendered pages: its text, the page texts inside it, where it ends."""

    text: str
    parts: list[tuple[PageText, str, bool]]  # page, its text inside the window, whole page?
    shown: list[PageText]  # every page whose block overlaps the window, text or not
    end: int
    total: int


def render_window(pages: Sequence[PageText], start_index: int, max_chars: int) -> Window:
    """Cut [start_index, start_index+max_chars) from the rendered pages, ending on a page
    boundary when one falls inside the window so that pages are not split needlessly."""
    blocks = [page_block(p) for p in pages]
    starts: list[int] = []
    total = 0
    for block in blocks:
        starts.append(total)
        total += len(block)
    limit = start_index + max_chars
    ends = [s + len(b) for s, b in zip(starts, blocks, strict=True)]
    boundaries = [e for e in ends if start_index < e <= limit]
    end = boundaries[-1] if boundaries else min(limit, total)
    pieces: list[str] = []
    parts: list[tuple[PageText, str, bool]] = []
    shown: list[PageText] = []
    for page, block, s in zip(pages, blocks, starts, strict=True):
        e = s + len(block)
        if e <= start_index or s >= end:
            continue
        shown.append(page)
        lo, hi = max(s, start_index), min(e, end)
        piece = block[lo - s : hi - s]
        if lo > s:
            piece = f"[page {page.number}, continued]\n" + piece
        pieces.append(piece)
        if page.status == "text":
            body_at = s + len(block) - len(page.body()) - 2
            b_lo, b_hi = max(lo, body_at), min(hi, body_at + len(page.text))
            if b_hi > b_lo:
                whole = b_lo == body_at and b_hi == body_at + len(page.text)
                parts.append((page, page.text[b_lo - body_at : b_hi - body_at], whole))
    return Window("".join(pieces), parts, shown, end, total)
