"""PDF text extraction with pypdf: open (and repair), decrypt, page ranges, outline, search.

Everything here runs in-process and trusts nothing about the file, but it cannot bound time
or memory on its own: `tools.pdf_worker.PdfPool` runs these functions in worker processes
with a deadline and RLIMIT_AS. pypdf's own decompression limits (`pypdf.Configuration`) are
left at their defaults on purpose.

Reading order: on a generated two-column page, pypdf's plain mode reproduced the columns
exactly (word-sequence similarity 1.00) while layout mode interleaved the two columns line
by line (0.51); on a page drawn row by row across both columns both modes scored 0.51.
Plain mode is also no slower, so it is the mode used (see tests/tools/test_pdf.py).
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pypdf
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import DictionaryObject, IndirectObject, NameObject

from tools.errors import DamagedDocument, EncryptedDocument, InvalidArgument, ToolError

EXTRACTION_MODE: Literal["plain", "layout"] = "plain"
EXTRACTOR = f"pypdf-{pypdf.__version__}-{EXTRACTION_MODE}-1"  # part of every cache key
NO_TEXT_LAYER = "no text layer (OCR not available)"

# pypdf raises many exception types on hostile input, not only PyPdfError; these are the
# ones seen in practice. MemoryError is deliberately absent: the worker handles it.
PYPDF_FAILURES: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
    OverflowError,
    UnicodeError,
    zlib.error,
    struct.error,
)

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

    def body(self) -> str:
        """The page as the model reads it: its text, or a sentence saying why there is none."""
        if self.status == "text":
            return self.text
        if self.status == "no_text_layer":
            return f"<{NO_TEXT_LAYER}>"
        if self.status == "blank":
            return "<blank page: no text and no images>"
        return f"<unreadable page: {self.note or 'extraction failed'}>"


@dataclass
class OpenedPdf:
    """A PdfReader plus what opening it revealed."""

    reader: PdfReader
    page_count: int
    damaged: bool = False
    repairs: list[str] = field(default_factory=list)
    encryption: str | None = None  # algorithm name when the file was encrypted
    password_used: str | None = None  # which password opened it ("" for an empty user password)


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


# ---------------------------------------------------------------------------- opening

_DAMAGE_HINT = re.compile(
    r"xref|startxref|trailer|EOF|rebuil|circular|object.*(not found|missing)|root", re.I
)


@contextmanager
def _pypdf_warnings() -> Iterator[list[str]]:
    """Collect what pypdf logs while it works around a broken file (strict=False)."""
    notes: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(record.getMessage())

    handler = _Collect(level=logging.WARNING)
    log = logging.getLogger("pypdf")
    log.addHandler(handler)
    try:
        yield notes
    finally:
        log.removeHandler(handler)


def open_pdf(
    data: bytes,
    *,
    name: str,
    password: str | None = None,
    default_password: str | None = None,
) -> OpenedPdf:
    """Open PDF bytes, repairing a broken xref or missing trailer, and decrypt if needed."""
    if not data:
        raise DamagedDocument(f"{name} is empty (0 bytes); it is not a PDF")
    if b"%PDF-" not in data[:1024]:
        raise DamagedDocument(
            f"{name} has no PDF header (%PDF-) in its first 1024 bytes; it is not a PDF, "
            "or it is damaged beyond repair"
        )
    repairs: list[str] = []
    with _pypdf_warnings() as notes:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            page_count = _count_pages(reader)
        except PYPDF_FAILURES as exc:
            repaired = repair_pdf(data)
            if repaired is None:
                raise DamagedDocument(
                    f"{name} is damaged beyond repair ({type(exc).__name__}: {exc}); "
                    "no PDF objects could be recovered"
                ) from exc
            repairs.append(f"rebuilt the cross-reference table and trailer after: {exc}")
            try:
                reader = PdfReader(io.BytesIO(repaired), strict=False)
                page_count = _count_pages(reader)
            except PYPDF_FAILURES as exc2:
                raise DamagedDocument(
                    f"{name} is damaged beyond repair; even after rebuilding its cross-reference "
                    f"table pypdf could not read it ({type(exc2).__name__}: {exc2})"
                ) from exc2
    repairs.extend(dict.fromkeys(n for n in notes if _DAMAGE_HINT.search(n)))
    declared = _declared_page_count(reader)
    if repairs and declared is not None and declared > page_count:
        repairs.append(
            f"the page tree lists {declared} pages but only {page_count} could be found; the rest were lost"
        )
    opened = OpenedPdf(reader, page_count, damaged=bool(repairs), repairs=repairs[:10])
    if reader.is_encrypted:
        opened.encryption, opened.password_used = _decrypt(
            reader, name=name, password=password, default_password=default_password
        )
        opened.page_count = _count_pages(reader)
    return opened


def _declared_page_count(reader: PdfReader) -> int | None:
    try:
        return int(reader.trailer["/Root"].get_object()["/Pages"].get_object()["/Count"])
    except PYPDF_FAILURES:
        return None


def _count_pages(reader: PdfReader) -> int:
    if reader.is_encrypted and not _is_decrypted(reader):
        return 0  # the page tree cannot be read before decryption
    return len(reader.pages)


def _is_decrypted(reader: PdfReader) -> bool:
    # pypdf tries the empty user password on open; probe whether that unlocked the file.
    try:
        reader.trailer["/Root"].get_object()
        return True
    except PyPdfError:
        return False


def _decrypt(
    reader: PdfReader, *, name: str, password: str | None, default_password: str | None
) -> tuple[str, str]:
    algorithm = encryption_name(reader)
    candidates = [p for p in (password, default_password) if p is not None]
    for candidate in [*candidates, ""]:
        try:
            if reader.decrypt(candidate) != pypdf.PasswordType.NOT_DECRYPTED:
                return algorithm, candidate
        except PYPDF_FAILURES as exc:
            raise EncryptedDocument(
                f"{name} is encrypted ({algorithm}) in a way pypdf cannot open: {exc}"
            ) from exc
    if password is not None:
        raise EncryptedDocument(
            f"the password given for {name} is wrong (the file is encrypted with {algorithm}); "
            "ask the user for the right password and call again with password='...'"
        )
    raise EncryptedDocument(
        f"{name} is encrypted ({algorithm}) and needs a password; call again with password='...', "
        "or start the pdf server with the FORAGE_PDF_PASSWORD environment variable set"
    )


def encryption_name(reader: PdfReader) -> str:
    """Name the encryption algorithm from the /Encrypt dictionary (RC4, AES-128, AES-256)."""
    try:
        enc = reader.trailer["/Encrypt"].get_object()
        version = int(enc.get("/V", 0))
        if version >= 5:
            return "AES-256"
        if version == 4:
            cfm = enc["/CF"][enc.get("/StmF", "/StdCF")].get("/CFM")
            return {"/AESV2": "AES-128", "/AESV3": "AES-256", "/V2": "RC4-128"}.get(str(cfm), f"V4 {cfm}")
        bits = int(enc.get("/Length", 40))
        return f"RC4-{bits}"
    except PYPDF_FAILURES:
        return "an unknown algorithm"


_OBJ_START = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def repair_pdf(data: bytes) -> bytes | None:
    """Append a rebuilt xref table and trailer built by scanning for complete objects.

    Only objects that end with `endobj` are listed, so a cut-off object reads as missing
    instead of as garbage. The trailer's /Root is the last catalog found; when there is
    none (the catalog was cut off), a new page tree is made from the page objects found.
    """
    offsets: dict[int, int] = {}
    catalog: int | None = None
    pages: list[int] = []
    matches = list(_OBJ_START.finditer(data))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(data)
        body = data[m.end() : end]
        if b"endobj" not in body:
            continue
        num = int(m.group(1))
        offsets[num] = m.start()
        head = body[:4096]
        if _CATALOG.search(head):
            catalog = num
        elif _PAGE.search(head):
            pages.append(num)
    if not offsets:
        return None
    out = bytearray(data)
    out += b"\n"
    size = max(offsets) + 1
    if catalog is None:
        if not pages:
            return None
        pages_num, catalog = size, size + 1
        kids = b" ".join(b"%d 0 R" % p for p in pages)
        for num, body in (
            (
                pages_num,
                b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792] >>" % (kids, len(pages)),
            ),
            (catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_num),
        ):
            offsets[num] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
        size += 2
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, catalog, xref_at)
    return bytes(out)


# ---------------------------------------------------------------------------- pages


def extract_page(opened: OpenedPdf, number: int) -> PageText:
    """Extract one page (1-based); failures become an 'unreadable' page, not an exception."""
    note = None
    try:
        page = opened.reader.pages[number - 1]
        if opened.damaged and _patch_lost_fonts(page):
            note = "its fonts were lost with the damaged part; text decoded with a standard font, may be imperfect"
        text = page.extract_text(extraction_mode=EXTRACTION_MODE) or ""
    except PYPDF_FAILURES as exc:
        return PageText(number, "", "unreadable", f"{type(exc).__name__}: {str(exc)[:200]}")
    text = _tidy(text)
    if text:
        return PageText(number, text, "text", note)
    if _has_images(page):
        return PageText(number, "", "no_text_layer", NO_TEXT_LAYER)
    return PageText(number, "", "blank")


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
