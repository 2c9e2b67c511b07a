"""PDF text extraction with pypdf: each page's text (hidden text dropped), document facts, whole files.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pypdf
from pypdf.generic import DictionaryObject, NameObject

from tools.pdf.hidden import HiddenTracker, crop_box, drop_hidden_text
from tools.pdf.opening import PYPDF_FAILURES, OpenedPdf, open_pdf
from tools.pdf.outline import read_outline
from tools.pdf.pages import NO_TEXT_LAYER, PageText, parse_page_range

EXTRACTION_MODE: Literal["plain", "layout"] = "plain"
EXTRACTOR = (
    f"pypdf-{pypdf.__version__}-{EXTRACTION_MODE}-2"  # part of every cache key (2: hidden text dropped)
)


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
