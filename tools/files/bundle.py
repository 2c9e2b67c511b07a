"""read_many: a folder, a list of paths or a glob read in path order, up to a token budget.

Office documents and notebooks come back as one part per slide, sheet, section or cell
(tools.files.office); PDFs are listed for the PDF server; a file that cannot be read is skipped
with its reason, and the others are read.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import InvalidArgument, TooLarge, ToolError
from tools.files.disk_readers import Outcome, read_ahead
from tools.files.office import is_document, read_document
from tools.files.safe_read import (
    DEFAULT_MAX_FILE_BYTES,
    FileText,
    human,
    is_pdf_name,
    positive,
    read_bytes,
    skipped_lines,
)
from tools.files.text import SNIFF_BYTES, decode, sniff, split_lines
from tools.files.walk import Entry, walk
from tools.roots import Roots
from tools.tokens import estimate_tokens

DEFAULT_MAX_TOKENS = 50_000
# One read_many reply holds at most this much text (it travels twice: model text and documents).
# Big replies are slow over stdio (the SDK's line reader re-splits its whole buffer per chunk),
# so a large folder comes back in several replies chained by `next`.
DEFAULT_MAX_REPLY_CHARS = 1_000_000
DOCUMENT_MAX_BYTES = 50_000_000  # office files are zips: their text is far smaller than the file
_MAX_SKIPPED = 200
_GLOB_CHARS = frozenset("*?[")
_SHOW_SKIPPED = 20
# Files named in a reply without contents: the client reads the structured documents, and a
# line per file made a page of 10k small files ~0.4 MB longer to send and parse, twice.
_LIST_FILES = 20


@dataclass
class Bundle:
    text: str
    files: list[FileText]
    tokens: int
    skipped: list[dict[str, str]]
    left: list[str]
    left_count: int
    empty: int
    next: dict[str, Any] | None = None
    skipped_more: int = 0  # skipped entries beyond the ones listed (PDFs are always all listed)


class ListingCache:
    """Recent read_many expansions, so a chain of calls following `next` walks a big folder once.

    Entries expire after `ttl` seconds; a server owns one (no module-level state). Calls run in
    worker threads (and the next page is read ahead in another), hence the lock.
    """

    def __init__(self, ttl: float = 120.0, size: int = 8) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[tuple[str, ...], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl:
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# ---------------------------------------------------------------- read_many


def read_many(
    roots: Roots,
    paths_or_glob: str | list[str],
    max_tokens: int = DEFAULT_MAX_TOKENS,
    offset: int = 0,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_reply_chars: int = DEFAULT_MAX_REPLY_CHARS,
    cache: ListingCache | None = None,
    contents: bool = True,
) -> Bundle:
    """Read a folder (recursively), a list of paths or a glob, in path order, up to max_tokens.

    With contents=False the text names the files read instead of quoting them (the contents are
    in Bundle.files either way), for clients that take the structured result.
    """
    positive("max_tokens", max_tokens)
    if offset < 0:
        raise InvalidArgument(f"offset={offset} must be 0 or more")
    items = [paths_or_glob] if isinstance(paths_or_glob, str) else list(paths_or_glob)
    if not items:
        raise InvalidArgument("paths_or_glob is empty; pass a folder, a file, a list of paths or a glob")
    key = tuple(items)
    expanded = cache.get(key) if cache is not None and offset else None
    if expanded is None:
        expanded = _expand(roots, items)
        if cache is not None:
            cache.put(key, expanded)
    entries, skipped, errors = expanded
    skipped = list(skipped)
    if errors and not entries:
        if len(errors) == 1:
            raise errors[0][1]
        raise type(errors[0][1])("; ".join(str(err) for _, err in errors))
    skipped += [{"path": item, "reason": "error", "detail": str(err)} for item, err in errors]
    if offset:
        skipped = []  # walk-level notes were reported by the first call of the chain
    files: list[FileText] = []
    used = 0
    chars = 0
    empty = 0
    stop_at: int | None = None
    full_reply = False
    # Closed on the way out, early or not: the readers stop after their current batch.
    with contextlib.closing(read_ahead(entries[offset:], max_file_bytes)) as ahead:
        for idx in range(offset, len(entries)):
            entry = entries[idx]
            outcome = read_entry(entry, max_file_bytes, next(ahead))
            if isinstance(outcome, dict):
                skipped.append(outcome)
                continue
            parts = outcome if isinstance(outcome, list) else [outcome]
            tokens = sum(p.tokens for p in parts)
            size = sum(len(p.text) for p in parts)
            if not parts or parts[0].total_lines == 0:
                empty += 1
                continue
            if tokens > max_tokens:
                skipped.append(
                    {"path": entry.where, "reason": "too_many_tokens",
                     "detail": f"~{tokens} tokens alone exceed max_tokens={max_tokens}; read it in parts with read_file"}
                )  # fmt: skip
                continue
            if used + tokens > max_tokens:
                stop_at = idx
                break
            if files and chars + size > max_reply_chars:
                stop_at, full_reply = idx, True
                break
            files.extend(parts)
            used += tokens
            chars += size
    left = [e.display for e in entries[stop_at:]] if stop_at is not None else []
    nxt = None
    if stop_at is not None:
        nxt = {"paths_or_glob": paths_or_glob, "max_tokens": max_tokens - used if full_reply else max_tokens}
        nxt["offset"] = stop_at
    kept = [s for s in skipped if s["reason"] == "pdf"] + [s for s in skipped if s["reason"] != "pdf"][
        :_MAX_SKIPPED
    ]
    text = _bundle_text(
        files, used, skipped, left, empty, max_tokens, stop_at, offset, len(entries), full_reply, contents
    )
    return Bundle(text, files, used, kept, left[:50], len(left), empty, nxt, len(skipped) - len(kept))


def _expand(
    roots: Roots, items: list[str]
) -> tuple[list[Entry], list[dict[str, str]], list[tuple[str, ToolError]]]:
    """Turn paths, folders and globs into one de-duplicated, path-ordered list of files."""
    seen: dict[str, Entry] = {}
    skipped: list[dict[str, str]] = []
    errors: list[tuple[str, ToolError]] = []
    for item in items:
        try:
            for base, pattern in _bases(roots, item):
                if base.is_file() and pattern is None:
                    entry = Entry(str(base), roots.display(base), base.stat().st_size)
                    seen.setdefault(entry.where, entry)
                    continue
                found = walk(roots, base, pattern, sizes=False)  # read_entry checks each size as it reads
                skipped += found.skipped
                for entry in found.files:
                    seen.setdefault(entry.where, entry)
        except ToolError as exc:  # one bad item must not sink the others
            errors.append((item, exc))
    entries = sorted(seen.values(), key=lambda e: e.display.split("/"))
    return entries, skipped, errors


def _bases(roots: Roots, item: str) -> list[tuple[Path, str | None]]:
    """Split a path or glob into (resolved folder or file, glob relative to it)."""
    if not any(ch in _GLOB_CHARS for ch in item):
        return [(roots.resolve(item), None)]
    parts = item.split("/")
    fixed: list[str] = []
    for part in parts:
        if any(ch in _GLOB_CHARS for ch in part):
            break
        fixed.append(part)
    rest = "/".join(parts[len(fixed) :])
    prefix = "/".join(fixed)
    if item.startswith("/") and not prefix:
        prefix = "/"
    if prefix:
        return [(roots.resolve(prefix), rest)]
    return [(root, rest) for root in roots.paths]  # a bare glob ("*.py") searches every root


def read_entry(
    entry: Entry, max_file_bytes: int, pre: Outcome = None
) -> FileText | list[FileText] | dict[str, str]:
    """Read one walked file, or say why it was skipped (never raises for a single bad file).

    pre: what tools.files.disk_readers made of the file already (its bytes, or the error reading it).
    """
    where, path = entry.where, entry.path
    if is_pdf_name(path):
        return {"path": where, "reason": "pdf", "detail": "read it with read_pdf"}
    if is_document(path):
        return _read_document(entry, max(max_file_bytes, DOCUMENT_MAX_BYTES))
    if entry.size > max_file_bytes:
        return {
            "path": where,
            "reason": "too_large",
            "detail": f"{human(entry.size)} > {human(max_file_bytes)}",
        }
    try:
        if isinstance(pre, ToolError):
            raise pre
        data = pre if pre is not None else read_bytes(path, entry.display, max_file_bytes)
    except TooLarge:
        try:
            size = f"{human(os.stat(path).st_size)} > "
        except OSError:
            size = "over "
        return {"path": where, "reason": "too_large", "detail": f"{size}{human(max_file_bytes)}"}
    except ToolError as exc:
        return {"path": where, "reason": "unreadable", "detail": str(exc)}
    found = sniff(data[:SNIFF_BYTES])
    if found.kind == "pdf":
        return {"path": where, "reason": "pdf", "detail": "read it with read_pdf"}
    if found.kind == "binary":
        return {"path": where, "reason": "binary", "detail": found.reason or "binary data"}
    text, encoding = decode(data, found)
    if "\r" in text:
        lines = split_lines(text)
        raw, count = "\n".join(lines), len(lines)
    else:  # the common case: count lines without building a list of them
        raw = text[:-1] if text.endswith("\n") else text
        count = raw.count("\n") + 1 if raw else 0
    return FileText(path, entry.display, raw, 1, count, count, encoding, estimate_tokens(raw))


def _read_document(entry: Entry, limit: int) -> list[FileText] | dict[str, str]:
    """An office document or notebook as one FileText per part (slide, sheet, section, cell)."""
    try:
        data = read_bytes(entry.path, entry.display, limit)
        parts = read_document(entry.path, data, repr(entry.display))
    except ToolError as exc:  # damaged, encrypted, huge: this file is skipped, the others are read
        return {"path": str(entry.path), "reason": "unreadable", "detail": str(exc)}
    kind = "notebook" if entry.path.suffix.lower() == ".ipynb" else "office"
    return [
        FileText(entry.path, entry.display, p.text, i, i, len(parts), kind, estimate_tokens(p.text), p.label)
        for i, p in enumerate(parts, 1)
    ]


def _bundle_text(
    files: list[FileText],
    used: int,
    skipped: list[dict[str, str]],
    left: list[str],
    empty: int,
    max_tokens: int,
    stop_at: int | None,
    offset: int,
    total: int,
    full_reply: bool,
    contents: bool = True,
) -> str:
    start = f" (from file {offset + 1} of {total})" if offset else ""
    out = [f"Read {len(files)} file{'s' if len(files) != 1 else ''}, about {used} tokens{start}."]
    for f in files if contents else files[:_LIST_FILES]:
        what = f"{f.label}, " if f.label else f"{f.total_lines} lines, "
        if contents:
            out.append(f"\n=== {f.display} ({what}~{f.tokens} tokens) ===\n{f.text}")
        else:
            out.append(f"- {f.display} ({what}~{f.tokens} tokens)")
    if not contents and len(files) > _LIST_FILES:
        out.append(f"- … and {len(files) - _LIST_FILES} more (all are in the structured documents)")
    tail: list[str] = []
    if empty:
        tail.append(f"({empty} empty file{'s' if empty != 1 else ''} not included.)")
    pdfs = [s["path"] for s in skipped if s["reason"] == "pdf"]
    if pdfs:
        tail.append(f"PDFs to read with read_pdf: {', '.join(pdfs[:_SHOW_SKIPPED])}")
    tail += skipped_lines([s for s in skipped if s["reason"] != "pdf"])
    if stop_at is not None:
        names = ", ".join(left[:10]) + (", …" if len(left) > 10 else "")
        why = "this reply is full" if full_reply else f"max_tokens={max_tokens}"
        tail.append(
            f"[Stopped because {why}: {len(left)} files not read yet ({names}). "
            f"Call read_many again with the same paths_or_glob and offset={stop_at} to continue, "
            "or narrow it to the files you need.]"
        )
    if not files and not tail:
        tail.append("No readable files matched (after .gitignore and the default ignore list).")
    return "\n".join(out + ([""] + tail if tail else []))
