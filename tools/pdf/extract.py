"""PDF text extraction with pypdf: open (and repair), decrypt, page ranges, outline, search.

Everything here runs in-process and trusts nothing about the file, but it cannot bound time
or memory on its own: `tools.pdf.pool.PdfPool` runs these functions in worker processes
with a deadline and RLIMIT_AS. pypdf's own decompression limits (`pypdf.Configuration`) are
left at their defaults on purpose.

Reading order: on a generated two-column page, pypdf's plain mode reproduced the columns
exactly (word-sequence similarity 1.00) while layout mode interleaved the two columns line
by line (0.51); on a page drawn row by row across both columns both modes scored 0.51.
Plain mode is also no slower, so it is the mode used (see tests/tools/pdf/test_extract.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pypdf
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, NameObject

from tools.errors import DamagedDocument, InvalidArgument, ToolError
from tools.pdf.hidden import HiddenTracker, crop_box, drop_hidden_text
from tools.pdf.opening import PYPDF_FAILURES, OpenedPdf, encryption_name, open_pdf, repair_pdf

__all__ = [
    "EXTRACTOR", "PYPDF_FAILURES", "NoTextLayer", "OpenedPdf", "PageText", "PdfText", "Window",
    "document_info", "encryption_name", "extract_page", "extract_pdf_bytes", "format_page_list",
    "iter_pages", "open_pdf", "page_block", "pages_phrase", "parse_page_range", "read_outline",
    "render_window", "repair_pdf", "search_pages",
]  # fmt: skip

EXTRACTION_MODE: Literal["plain", "layout"] = "plain"
EXTRACTOR = (
    f"pypdf-{pypdf.__version__}-{EXTRACTION_MODE}-2"  # part of every cache key (2: hidden text dropped)
)
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


# ---------------------------------------------------------------------------- pages


def extract_page(opened: OpenedPdf, number: int) -> PageText:
    """Extract one page (1-based); failures become an 'unreadable' page, not an exception."""
    note = None
    try:
        page = opened.reader.pages[number - 1]
        if opened.damaged and _patch_lost_fonts(page):
            note = "its fonts were lost with the damaged part; text decoded with a standard font, may be imperfect"
        box = crop_box(page)
        tracker = HiddenTracker(box)
        text = page.extract_text(extraction_mode=EXTRACTION_MODE, visitor_operand_before=tracker.op) or ""
        hidden = None
        if tracker.kinds:  # white, invisible, off-page or tiny text: rewrite the page without it
            text, hidden = drop_hidden_text(page, opened.reader, box, _extract)
    except PYPDF_FAILURES as exc:
        return PageText(number, "", "unreadable", f"{type(exc).__name__}: {str(exc)[:200]}")
    text = _tidy(text)
    if text:
        return PageText(number, text, "text", note, hidden)
    if _has_images(page):
        return PageText(number, "", "no_text_layer", NO_TEXT_LAYER, hidden)
    return PageText(number, "", "blank", None, hidden)


def _extract(page: Any) -> str:
    return page.extract_text(extraction_mode=EXTRACTION_MODE) or ""


def _patch_lost_fonts(page: Any) -> bool:
    """Stand in Helvetica for fonts (or whole /Resources) a truncated file lost; tell if any were."""
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    fonts = resources.get("/Font")
    fonts = fonts.get_object() if fonts is not None else None
    if not isinstance(fonts, DictionaryObject):
        fonts = DictionaryObject()
        resources[NameObject("/Font")] = fonts
    contents = page.get_contents()
    used = set(_FONT_USE.findall(contents.get_data())) if contents is not None else set()
    names = {k.encode() for k in fonts} | used
    lost = [key for key in (n.decode("latin-1") for n in names) if not _is_dict(fonts.get(key))]
    for key in lost:
        fonts[NameObject(key)] = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    return bool(lost)


def _is_dict(value: Any) -> bool:
    # DictionaryObject.get returns the raw IndirectObject; resolve it (a lost one is null).
    return isinstance(value.get_object() if value is not None else None, DictionaryObject)


_FONT_USE = re.compile(rb"(/[^\s/\[\]()<>{}%]+)\s+[-+]?[\d.]+\s+Tf\b")


def _tidy(text: str) -> str:
    text = text.replace("\x00", "")
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def _has_images(page: Any, depth: int = 0) -> bool:
    try:
        xobjects = page["/Resources"].get_object().get("/XObject")
        if xobjects is None:
            return False
        for ref in xobjects.get_object().values():
            xobj = ref.get_object()
            subtype = xobj.get("/Subtype")
            if subtype == "/Image":
                return True
            if subtype == "/Form" and depth < 3 and "/Resources" in xobj and _has_images(xobj, depth + 1):
                return True
    except PYPDF_FAILURES:
        return False
    return False


def iter_pages(opened: OpenedPdf, numbers: Iterable[int]) -> Iterator[PageText]:
    """Extract the given pages in order."""
    for n in numbers:
        yield extract_page(opened, n)


# ---------------------------------------------------------------------------- info


def document_info(opened: OpenedPdf, *, sample: int = 24) -> tuple[dict[str, Any], list[PageText]]:
    """Metadata, outline and a text-layer check over up to `sample` evenly spread pages."""
    reader = opened.reader
    meta: dict[str, Any] = {}
    try:
        raw = reader.metadata or {}
        for key, label in (
            ("/Title", "title"),
            ("/Author", "author"),
            ("/Subject", "subject"),
            ("/Creator", "creator"),
            ("/Producer", "producer"),
            ("/CreationDate", "created"),
        ):
            value = raw.get(key)
            if value is not None and str(value).strip():
                meta[label] = str(value).strip()[:300]
    except PYPDF_FAILURES as exc:
        opened.repairs.append(f"document metadata unreadable: {exc}")
    count = opened.page_count
    step = max(1, count / sample) if count else 1
    picks = sorted({min(count, 1 + int(i * step)) for i in range(min(sample, count))})
    sampled = list(iter_pages(opened, picks))
    info = {
        "pages": count,
        **{k: meta.get(k) for k in ("title", "author")},
        "metadata": meta,
        "encrypted": opened.encryption is not None,
        "encryption": opened.encryption,
        "has_text_layer": any(p.status == "text" for p in sampled),
        "pages_checked_for_text": len(sampled),
        "no_text_pages_checked": [p.number for p in sampled if p.status == "no_text_layer"],
        "outline": read_outline(opened),
        "damaged": opened.damaged,
        "repairs": opened.repairs,
    }
    return info, sampled


def read_outline(opened: OpenedPdf, *, limit: int = 500, max_depth: int = 12) -> list[dict[str, Any]]:
    """The bookmarks in document order: title, 1-based page (or None), level. Cycles are cut."""
    reader = opened.reader
    try:
        root = reader.trailer["/Root"].get_object()
        outlines = root.get("/Outlines")
        if outlines is None:
            return []
        first = outlines.get_object().get("/First")
        page_of = {
            p.indirect_reference.idnum: i + 1 for i, p in enumerate(reader.pages) if p.indirect_reference
        }
    except PYPDF_FAILURES:
        return []
    entries: list[dict[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(first, 1)] if first is not None else []
    while stack and len(entries) < limit:
        ref, level = stack.pop()
        try:
            key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
            if key in seen:
                continue  # a /Next or /First cycle: each item is listed once
            seen.add(key)
            node = ref.get_object()
            title = str(node.get("/Title", "")).strip()[:200]
            entries.append({"title": title, "page": _dest_page(reader, node, page_of), "level": level})
            if node.get("/Next") is not None:
                stack.append((node.raw_get("/Next"), level))
            if node.get("/First") is not None and level < max_depth:
                stack.append((node.raw_get("/First"), level + 1))
        except PYPDF_FAILURES:
            continue
    return entries


def _dest_page(reader: PdfReader, node: Any, page_of: dict[int, int]) -> int | None:
    dest = node.get("/Dest")
    if dest is None:
        action = node.get("/A")
        if action is not None and action.get_object().get("/S") == "/GoTo":
            dest = action.get_object().get("/D")
    if dest is None:
        return None
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    if isinstance(dest, str):  # a named destination
        named = reader.named_destinations.get(str(dest))
        target = named.page if named is not None else None
    elif isinstance(dest, list) and dest:
        target = dest[0]
    else:
        return None
    if isinstance(target, IndirectObject):
        return page_of.get(target.idnum)
    if isinstance(target, int) and 0 <= target < len(page_of):
        return target + 1
    return None


# ---------------------------------------------------------------------------- whole files


@dataclass
class PdfText:
    """What `extract_pdf_bytes` returns: the requested pages and what was learnt on the way."""

    name: str
    page_count: int
    pages: list[PageText]
    damaged: bool
    repairs: list[str]
    encryption: str | None

    @property
    def recovered_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.status != "unreadable"]


def extract_pdf_bytes(
    data: bytes,
    *,
    name: str,
    pages: str | None = None,
    password: str | None = None,
    default_password: str | None = None,
) -> PdfText:
    """Extract the text of PDF bytes in this process (no time or memory limit: see PdfPool)."""
    opened = open_pdf(data, name=name, password=password, default_password=default_password)
    numbers = parse_page_range(pages, opened.page_count, name=name)
    return PdfText(
        name,
        opened.page_count,
        list(iter_pages(opened, numbers)),
        opened.damaged,
        opened.repairs,
        opened.encryption,
    )


# ---------------------------------------------------------------------------- search


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
