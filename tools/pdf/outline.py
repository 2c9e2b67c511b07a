"""A PDF's bookmarks (its outline), in document order with their page numbers."""

from __future__ import annotations

from typing import Any

from pypdf import PdfReader
from pypdf.generic import IndirectObject

from tools.pdf.opening import PYPDF_FAILURES, OpenedPdf


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
