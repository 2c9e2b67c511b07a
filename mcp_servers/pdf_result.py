"""A PDF read as a tool result: one document per page, and notes on what was damaged or missing.

Shared by the pdf server (read_pdf) and the web server (a URL that serves a PDF), so that
neither reader server imports the other.
"""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult

from mcp_servers import common
from tools.errors import DamagedDocument, InvalidArgument
from tools.pdf.pages import NO_TEXT_LAYER, NoTextLayer, format_page_list, pages_phrase, render_window
from tools.pdf.pool import PdfRead
from tools.tool_names import ToolName


def read_result(
    read: PdfRead,
    display: str,
    absolute: str,
    pages: str | None,
    start_index: int,
    max_chars: int,
    *,
    trusted: bool = False,
    next_base: dict[str, Any] | None = None,
    tool: str = ToolName.READ_PDF,
) -> CallToolResult:
    """Window the pages, build one document per page, and say what was damaged or missing.

    A PDF's text is written by whoever made the file, so it is untrusted (packed in an envelope)
    wherever the file came from. The web server calls this for PDFs served by URLs with
    next_base={"url": ...}, tool="fetch_page".
    """
    window = render_window(read.pages, start_index, max_chars)
    if read.complete and start_index >= window.total > 0:
        raise InvalidArgument(
            f"start_index={start_index} is past the end of {display} (pages {pages or 'all'} hold "
            f"{window.total} characters); call again with a smaller start_index"
        )
    shown = window.shown
    no_text = [p.number for p in shown if p.status == "no_text_layer"]
    blank = [p.number for p in shown if p.status == "blank"]
    unreadable = [{"page": p.number, "reason": p.note} for p in shown if p.status == "unreadable"]
    if read.complete and not any(p.status == "text" for p in read.pages):
        _raise_no_text(display, read)
    more = window.end < window.total or not read.complete
    base = next_base if next_base is not None else {"path": display, "pages": pages}
    nxt = {**base, "start_index": window.end, "max_chars": max_chars} if more else None
    documents = [
        common.doc(
            display,
            text,
            span={"kind": "pages", "start": page.number, "end": page.number},
            title=f"{display} p.{page.number}",
            source="pdf",
            trusted=trusted,
            path=absolute,
            sha256=read.sha,
            page_count=read.page_count,
            **({} if whole else {"partial": True}),
            **({"note": page.note} if page.note else {}),
            **({"hidden": page.hidden} if page.hidden else {}),
        )  # fmt: skip
        for page, text, whole in window.parts
    ]
    notes = []
    if read.damaged:
        recovered = [p.number for p in read.pages if p.status != "unreadable"]
        notes.append(
            f"This file is damaged ({'; '.join(read.repairs[:3])}). Recovered pages: "
            f"{format_page_list(recovered) or 'none'} of {read.page_count} found."
        )
    if unreadable:
        notes.append("Unreadable pages: " + "; ".join(f"p.{u['page']}: {u['reason']}" for u in unreadable))
    if no_text:
        notes.append(f"{pages_phrase(no_text).capitalize()}: {NO_TEXT_LAYER}.")
    hidden = [p.number for p in shown if p.hidden]
    if hidden:
        notes.append(
            f"Left out text a reader does not see (white, invisible, off-page or tiny) on "
            f"{pages_phrase(hidden)}."
        )
    if read.stopped:
        notes.append(f"Extraction stopped early: {read.stopped}.")
    if nxt:
        notes.append(
            f"More text follows: call {tool} again with start_index={window.end}"
            + (f" and pages={pages!r}" if pages else "")
            + " to continue."
        )
    count = f"{read.page_count} page{'s' if read.page_count != 1 else ''}"
    head = (
        f"{display} ({count}), showing {pages_phrase([p.number for p in shown]) if shown else 'no pages'}:\n"
    )
    text = head + window.text.rstrip() + ("\n---\n" + "\n".join(notes) if notes else "")
    return common.result(
        text, path=display, page_count=read.page_count, requested=format_page_list(read.requested),
        documents=documents, start_index=start_index, end_index=window.end, truncated=more, next=nxt,
        damaged=read.damaged, repairs=read.repairs,
        recovered_pages=[p.number for p in read.pages if p.status != "unreadable"] if read.damaged else None,
        unreadable_pages=unreadable, no_text_pages=no_text, blank_pages=blank, stopped=read.stopped,
        from_cache=read.from_cache, encryption=read.encryption, sha256=read.sha,
    )  # fmt: skip


def _raise_no_text(display: str, read: PdfRead) -> None:
    scanned = [p.number for p in read.pages if p.status == "no_text_layer"]
    blank = [p.number for p in read.pages if p.status == "blank"]
    broken = [p for p in read.pages if p.status == "unreadable"]
    if not broken:
        parts = [f"{pages_phrase(scanned)}: {NO_TEXT_LAYER}"] if scanned else []
        parts += [f"{pages_phrase(blank)}: blank"] if blank else []
        raise NoTextLayer(
            f"{display} has no text to read ({'; '.join(parts)}); scanned pages need OCR, which is not available"
        )
    reasons = "; ".join(f"p.{p.number}: {p.note}" for p in broken[:10])
    raise DamagedDocument(f"no text could be read from {display}: {reasons}")
