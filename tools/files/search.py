"""search_files: find text in the files under a path, with context, merged into line windows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.errors import InvalidArgument
from tools.files.bundle import read_entry
from tools.files.safe_read import DEFAULT_MAX_FILE_BYTES, FileText, is_pdf_name, positive
from tools.files.walk import WALK_LIMIT, walk
from tools.roots import Roots
from tools.tokens import estimate_tokens

DEFAULT_MAX_HITS = 50


@dataclass
class Search:
    text: str
    hits: list[dict[str, Any]]
    windows: list[FileText]  # each hit with its context, merged per file, as line ranges
    files_searched: int
    truncated: bool
    skipped: list[dict[str, str]] = field(default_factory=list)


# ---------------------------------------------------------------- search_files


def search_files(
    roots: Roots,
    query: str,
    regex: bool = False,
    pattern: str | None = None,
    context_lines: int = 2,
    max_results: int = DEFAULT_MAX_HITS,
    *,
    path: str = ".",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Search:
    """Find lines matching a literal string or a regex; smart case (case-sensitive only with capitals)."""
    if not query:
        raise InvalidArgument("query is empty; pass the text or regex to look for")
    if "\x00" in query:
        raise InvalidArgument("query contains a NUL byte; pass plain text")
    if not 0 <= context_lines <= 20:
        raise InvalidArgument(f"context_lines={context_lines} must be between 0 and 20")
    positive("max_results", max_results, 1000)
    flags = 0 if any(ch.isupper() for ch in query) else re.IGNORECASE
    try:
        rx = re.compile(query if regex else re.escape(query), flags | re.MULTILINE)
    except re.error as exc:
        raise InvalidArgument(
            f"query {query!r} is not a valid regex ({exc}); fix it or pass regex=false"
        ) from exc
    start = roots.resolve(path)
    found = walk(roots, start, pattern)
    hits: list[dict[str, Any]] = []
    windows: list[FileText] = []
    searched = 0
    truncated = False
    for entry in found.files:
        if entry.size > max_file_bytes or is_pdf_name(entry.path):
            continue
        outcome = read_entry(entry, max_file_bytes)
        if isinstance(outcome, dict):
            continue
        searched += 1
        if not rx.search(outcome.text):
            continue
        lines = outcome.text.split("\n")
        file_hits = [n for n, line in enumerate(lines, 1) if rx.search(line)]
        room = max_results - len(hits)
        if len(file_hits) > room:
            file_hits, truncated = file_hits[:room], True
        for n in file_hits:
            lo, hi = max(1, n - context_lines), min(len(lines), n + context_lines)
            hits.append({"path": entry.display, "line": n, "text": lines[n - 1],
                         "before": lines[lo - 1 : n - 1], "after": lines[n:hi]})  # fmt: skip
        windows += _windows(outcome, lines, file_hits, context_lines)
        if truncated or len(hits) >= max_results:
            truncated = truncated or entry is not found.files[-1]
            break
    text = _search_text(query, hits, windows, searched, truncated, max_results, found.limit_hit)
    return Search(text, hits, windows, searched, truncated, found.skipped)


def _windows(ft: FileText, lines: list[str], hit_lines: list[int], context: int) -> list[FileText]:
    """Merge overlapping hit contexts of one file into line ranges."""
    ranges: list[list[int]] = []
    for n in hit_lines:
        lo, hi = max(1, n - context), min(len(lines), n + context)
        if ranges and lo <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    out = []
    for lo, hi in ranges:
        raw = "\n".join(lines[lo - 1 : hi])
        out.append(
            FileText(ft.path, ft.display, raw, lo, hi, ft.total_lines, ft.encoding, estimate_tokens(raw))
        )
    return out


def _search_text(
    query: str,
    hits: list[dict[str, Any]],
    windows: list[FileText],
    searched: int,
    truncated: bool,
    max_results: int,
    capped: bool,
) -> str:
    if not hits:
        return f"No matches for {query!r} in {searched} files searched."
    files = len({h["path"] for h in hits})
    out = [f"{len(hits)} matches for {query!r} in {files} files ({searched} searched). path:line: text"]
    hit_lines = {(h["path"], h["line"]) for h in hits}
    for w in windows:
        out.append("--")
        for n, line in enumerate(w.text.split("\n"), w.start):
            sep = ":" if (w.display, n) in hit_lines else "-"
            out.append(f"{w.display}{sep}{n}{sep} {line}")
    if truncated:
        out.append(
            f"[Stopped at max_results={max_results}; there may be more matches. Narrow the search with "
            "pattern= or path=, or raise max_results.]"
        )
    if capped:
        out.append(f"[Only the first {WALK_LIMIT} files were searched; search a subfolder for the rest.]")
    return "\n".join(out)
