"""Read local files inside the roots: list, read (ranges and bundles), search and describe them.

Every function takes the server's Roots first, resolves user paths through Roots.resolve before
anything is opened, and returns a small result object: `text` for the model, fields for code.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.errors import AccessDenied, BinaryContent, InvalidArgument, NotFound, TooLarge, ToolError
from tools.office import is_document, read_document
from tools.safety import Roots
from tools.text import SNIFF_BYTES, Sniff, decode, sniff, split_lines
from tools.tokens import estimate_tokens
from tools.walk import WALK_LIMIT, Entry, walk

DEFAULT_MAX_FILE_BYTES = 2_000_000
DEFAULT_MAX_CHARS = 40_000
DEFAULT_MAX_RESULTS = 500
DEFAULT_MAX_TOKENS = 50_000
DEFAULT_MAX_HITS = 50
# One read_many reply holds at most this much text (it travels twice: model text and documents).
# Big replies are slow over stdio (the SDK's line reader re-splits its whole buffer per chunk),
# so a large folder comes back in several replies chained by `next`.
DEFAULT_MAX_REPLY_CHARS = 1_000_000
DOCUMENT_MAX_BYTES = 50_000_000  # office files are zips: their text is far smaller than the file
_MAX_SKIPPED = 200
_BYTES_PER_TOKEN = 3.5  # listing estimate from size alone, without opening the file
_GLOB_CHARS = frozenset("*?[")
_SHOW_SKIPPED = 20


@dataclass(frozen=True)
class FileText:
    """Decoded text of a file, or of a line range of it."""

    path: Path
    display: str
    text: str
    start: int
    end: int
    total_lines: int
    encoding: str
    tokens: int
    label: str | None = None  # a part of an office document or notebook ("slide 3", "cell 4")


@dataclass
class Listing:
    text: str
    path: str
    files: list[dict[str, Any]]
    total: int
    more: int
    ignored: int
    skipped: list[dict[str, str]]
    next: dict[str, Any] | None = None


@dataclass
class FileRead:
    text: str
    file: FileText
    truncated: bool
    next: dict[str, Any] | None = None


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


@dataclass
class Search:
    text: str
    hits: list[dict[str, Any]]
    windows: list[FileText]  # each hit with its context, merged per file, as line ranges
    files_searched: int
    truncated: bool
    skipped: list[dict[str, str]] = field(default_factory=list)


class ListingCache:
    """Recent read_many expansions, so a chain of calls following `next` walks a big folder once.

    Entries expire after `ttl` seconds; a server owns one (no module-level state).
    """

    def __init__(self, ttl: float = 120.0, size: int = 8) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[tuple[str, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> Any | None:
        hit = self._items.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return hit[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


# ---------------------------------------------------------------- reading bytes safely


def _open(path: Path, display: str) -> int:
    """Open a resolved path for reading, turning OS errors into messages the model can act on."""
    try:
        # O_NOFOLLOW: the path was resolved just before; a symlink swapped in since is refused.
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; the caller
        # refuses anything that is not a regular file right after (fstat).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError as exc:
        raise AccessDenied(
            f"{display!r} cannot be read: permission denied; skip it or fix its permissions"
        ) from exc
    except FileNotFoundError as exc:
        raise NotFound(f"{display!r} does not exist; use list_files to see what is there") from exc
    except OSError as exc:
        raise AccessDenied(f"{display!r} cannot be opened ({exc.strerror}); skip it") from exc
    return fd


def _read_bytes(path: Path, display: str, limit: int) -> bytes:
    """Read a resolved file once, refusing oversize files before and after opening."""
    with open(_open(path, display), "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidArgument(
                f"{display!r} is not a regular file (a pipe, socket or device); forage reads regular files only"
            )
        os.set_blocking(fh.fileno(), True)
        _check_size(display, info.st_size, limit)
        data = fh.read(limit + 1)
    _check_size(display, len(data), limit)
    return data


def _check_size(display: str, size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(
            f"{display!r} is {_human(size)}, over this server's {_human(limit)} file limit; use search_files "
            "to find the lines you need, or restart the server with a larger --max-file-bytes"
        )


def _load(path: Path, display: str, limit: int) -> tuple[str, str]:
    """Read and decode a text file; raise BinaryContent (with the reason) for anything else."""
    data = _read_bytes(path, display, limit)
    found = sniff(data[:SNIFF_BYTES])
    _refuse_non_text(display, path, found)
    return decode(data, found)


def _refuse_non_text(display: str, path: Path, found: Sniff) -> None:
    if found.kind == "pdf":
        raise BinaryContent(f"{display!r} is a PDF; read it with read_pdf (path {str(path)!r})")
    if found.kind == "binary":
        raise BinaryContent(f"{display!r} is binary ({found.reason}); it holds no text to read")


def _is_pdf_name(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"


def _human(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _positive(name: str, value: int, upper: int | None = None) -> int:
    if value < 1:
        raise InvalidArgument(f"{name}={value} must be at least 1")
    if upper is not None and value > upper:
        raise InvalidArgument(f"{name}={value} is over the maximum of {upper}; use a smaller value")
    return value


# ---------------------------------------------------------------- list_files


def list_files(
    roots: Roots,
    path: str = ".",
    pattern: str | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    offset: int = 0,
) -> Listing:
    """List files under a path, honouring .gitignore and the default ignore list, with size and tokens."""
    _positive("max_results", max_results, 10_000)
    if offset < 0:
        raise InvalidArgument(f"offset={offset} must be 0 or more")
    start = roots.resolve(path)
    found = walk(roots, start, pattern)
    total = len(found.files)
    shown = found.files[offset : offset + max_results]
    files = [_listing_entry(e) for e in shown]
    more = max(0, total - offset - len(shown))
    where = roots.display(start)
    lines = [_listing_head(where, pattern, total, found.limit_hit, sum(f["tokens"] or 0 for f in files))]
    lines += [_listing_line(f) for f in files]
    nxt = None
    if more:
        nxt = {"path": path, "pattern": pattern, "max_results": max_results, "offset": offset + len(shown)}
        lines.append(
            f"[{more} more files not shown (showing {offset + 1}-{offset + len(shown)}). Call list_files again "
            f"with offset={offset + len(shown)}, or narrow it with path= or pattern= (e.g. '*.py').]"
        )
    if found.limit_hit:
        lines.append(f"[Stopped counting at {WALK_LIMIT} files; list a subfolder to see the rest.]")
    if found.ignored:
        lines.append(f"({found.ignored} entries hidden by .gitignore or the default ignore list.)")
    lines += _skipped_lines(found.skipped)
    return Listing("\n".join(lines), where, files, total, more, found.ignored, found.skipped, nxt)


def _listing_entry(entry: Entry) -> dict[str, Any]:
    pdf = _is_pdf_name(entry.path)
    tokens = None if pdf else int(entry.size / _BYTES_PER_TOKEN + 0.5)
    return {"path": entry.display, "size": entry.size, "tokens": tokens, "kind": "pdf" if pdf else "file"}


def _listing_head(where: str, pattern: str | None, total: int, capped: bool, tokens: int) -> str:
    what = f"{'at least ' if capped else ''}{total} file{'s' if total != 1 else ''}"
    filt = f" matching {pattern!r}" if pattern else ""
    if total == 0:
        return f"No files{filt} under {where!r} (after ignore rules)."
    return f"{what}{filt} under {where!r}; the listed ones hold about {tokens} tokens. path  size  ~tokens:"


def _listing_line(f: dict[str, Any]) -> str:
    tokens = "PDF (use read_pdf)" if f["kind"] == "pdf" else f"~{f['tokens']}"
    return f"{f['path']}  {_human(f['size'])}  {tokens}"


def _skipped_lines(skipped: list[dict[str, str]]) -> list[str]:
    if not skipped:
        return []
    shown = [
        f"  {s['path']}: {s['reason']}" + (f" ({s['detail']})" if s.get("detail") else "") for s in skipped
    ]
    more = len(shown) - _SHOW_SKIPPED
    return [f"Skipped {len(skipped)}:", *shown[:_SHOW_SKIPPED]] + (
        [f"  … and {more} more"] if more > 0 else []
    )


# ---------------------------------------------------------------- read_file


def read_file(
    roots: Roots,
    path: str,
    start_line: int = 1,
    end_line: int | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> FileRead:
    """Read a text file (or a line range), line-numbered for the model, cut at max_chars."""
    _positive("start_line", start_line)
    _positive("max_chars", max_chars)
    if end_line is not None and end_line < start_line:
        raise InvalidArgument(
            f"end_line={end_line} is before start_line={start_line}; pass end_line >= start_line"
        )
    resolved = roots.resolve(path)
    display = roots.display(resolved)
    if resolved.is_dir():
        raise InvalidArgument(f"{display!r} is a folder; use list_files or read_many on it")
    if _is_pdf_name(resolved):
        raise BinaryContent(f"{display!r} is a PDF; read it with read_pdf (path {str(resolved)!r})")
    if is_document(resolved):
        raise BinaryContent(
            f"{display!r} is an office document or notebook; read it with read_many (paths_or_glob "
            f"{str(resolved)!r}), which returns it by slide, sheet, section or cell"
        )
    _check_size(display, resolved.stat().st_size, max_file_bytes)  # refuse before opening
    text, encoding = _load(resolved, display, max_file_bytes)
    lines = split_lines(text)
    total = len(lines)
    if total == 0:
        ft = FileText(resolved, display, "", 1, 0, 0, encoding, 0)
        return FileRead(f"{display} is empty (0 lines).", ft, truncated=False)
    if start_line > total:
        raise InvalidArgument(
            f"start_line={start_line} is past the end of {display!r}, which has {total} lines"
        )
    last = min(end_line or total, total)
    width = len(str(last))
    out: list[str] = []
    used = 0
    end = start_line - 1
    cut_line = False
    for n in range(start_line, last + 1):
        line = lines[n - 1]
        numbered = f"{n:>{width}}\t{line}"
        if used + len(numbered) + 1 > max_chars and out:
            break
        if len(numbered) + 1 > max_chars:  # one line longer than the whole allowance (minified code)
            numbered = numbered[:max_chars] + f" [line {n} cut at {max_chars} characters]"
            cut_line = True
        out.append(numbered)
        used += len(numbered) + 1
        end = n
    raw = "\n".join(lines[start_line - 1 : end])
    ft = FileText(resolved, display, raw, start_line, end, total, encoding, estimate_tokens(raw))
    truncated = end < last
    head = f"{display} lines {start_line}-{end} of {total} ({encoding}):"
    body = [head, *out]
    nxt = None
    if truncated:
        nxt = {"path": path, "start_line": end + 1, "max_chars": max_chars}
        if end_line is not None:
            nxt["end_line"] = end_line
        body.append(
            f"[Truncated at max_chars={max_chars}: lines {end + 1}-{last} not shown. "
            f"Call read_file again with start_line={end + 1} to continue.]"
        )
    elif cut_line:
        body.append(f"[Line {end} is longer than max_chars={max_chars}; its end was not shown.]")
    return FileRead("\n".join(body), ft, truncated, nxt)


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
    _positive("max_tokens", max_tokens)
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
    for idx in range(offset, len(entries)):
        entry = entries[idx]
        outcome = _read_entry(entry, max_file_bytes)
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
                {"path": str(entry.path), "reason": "too_many_tokens",
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
    seen: dict[Path, Entry] = {}
    skipped: list[dict[str, str]] = []
    errors: list[tuple[str, ToolError]] = []
    for item in items:
        try:
            for base, pattern in _bases(roots, item):
                if base.is_file() and pattern is None:
                    entry = Entry(base, roots.display(base), base.stat().st_size)
                    seen.setdefault(base, entry)
                    continue
                found = walk(roots, base, pattern)
                skipped += found.skipped
                for entry in found.files:
                    seen.setdefault(entry.path, entry)
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


def _read_entry(entry: Entry, max_file_bytes: int) -> FileText | list[FileText] | dict[str, str]:
    """Read one walked file, or say why it was skipped (never raises for a single bad file)."""
    where = str(entry.path)
    if _is_pdf_name(entry.path):
        return {"path": where, "reason": "pdf", "detail": "read it with read_pdf"}
    if is_document(entry.path):
        return _read_document(entry, max(max_file_bytes, DOCUMENT_MAX_BYTES))
    if entry.size > max_file_bytes:
        return {
            "path": where,
            "reason": "too_large",
            "detail": f"{_human(entry.size)} > {_human(max_file_bytes)}",
        }
    try:
        data = _read_bytes(entry.path, entry.display, max_file_bytes)
    except TooLarge:
        return {"path": where, "reason": "too_large", "detail": f"over {_human(max_file_bytes)}"}
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
    return FileText(entry.path, entry.display, raw, 1, count, count, encoding, estimate_tokens(raw))


def _read_document(entry: Entry, limit: int) -> list[FileText] | dict[str, str]:
    """An office document or notebook as one FileText per part (slide, sheet, section, cell)."""
    try:
        data = _read_bytes(entry.path, entry.display, limit)
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
    for f in files:
        what = f"{f.label}, " if f.label else f"{f.total_lines} lines, "
        if contents:
            out.append(f"\n=== {f.display} ({what}~{f.tokens} tokens) ===\n{f.text}")
        else:
            out.append(f"- {f.display} ({what}~{f.tokens} tokens)")
    tail: list[str] = []
    if empty:
        tail.append(f"({empty} empty file{'s' if empty != 1 else ''} not included.)")
    pdfs = [s["path"] for s in skipped if s["reason"] == "pdf"]
    if pdfs:
        tail.append(f"PDFs to read with read_pdf: {', '.join(pdfs[:_SHOW_SKIPPED])}")
    tail += _skipped_lines([s for s in skipped if s["reason"] != "pdf"])
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
    _positive("max_results", max_results, 1000)
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
        if entry.size > max_file_bytes or _is_pdf_name(entry.path):
            continue
        outcome = _read_entry(entry, max_file_bytes)
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


# ---------------------------------------------------------------- file_info


def file_info(roots: Roots, path: str, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> dict[str, Any]:
    """Describe a file or folder: size, mtime, kind, encoding, binary or not, lines and tokens."""
    resolved = roots.resolve(path)
    display = roots.display(resolved)
    info = resolved.stat()
    out: dict[str, Any] = {
        "path": display,
        "absolute_path": str(resolved),
        "size": info.st_size,
        "mtime": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds"),
    }
    if resolved.is_dir():
        found = walk(roots, resolved)
        out.update(kind="folder", files=len(found.files), files_capped=found.limit_hit,
                   size=sum(e.size for e in found.files), ignored=found.ignored)  # fmt: skip
        out["text"] = (
            f"{display}: folder, {'at least ' if found.limit_hit else ''}{len(found.files)} files "
            f"({_human(out['size'])}) after ignore rules; modified {out['mtime']}."
        )
        return out
    over = info.st_size > max_file_bytes
    if over:
        with open(_open(resolved, display), "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    else:
        head = _read_bytes(resolved, display, max_file_bytes)
    found_kind = sniff(head[:SNIFF_BYTES])
    kind = "pdf" if _is_pdf_name(resolved) or found_kind.kind == "pdf" else found_kind.kind
    out.update(kind=kind, is_binary=kind != "text", binary_reason=found_kind.reason if kind != "text" else None,
               encoding=None, lines=None, tokens=None, over_limit=over)  # fmt: skip
    if kind == "text":
        if over:
            out["encoding"] = found_kind.encoding
            out["tokens"] = int(info.st_size / _BYTES_PER_TOKEN + 0.5)
        else:
            text, encoding = decode(head, found_kind)
            out.update(encoding=encoding, lines=len(split_lines(text)), tokens=estimate_tokens(text))
    parts = [f"{display}: {kind}", _human(info.st_size), f"modified {out['mtime']}"]
    if kind == "text":
        parts += [out["encoding"] or "?", f"{out['lines'] if out['lines'] is not None else '?'} lines",
                  f"~{out['tokens']} tokens"]  # fmt: skip
    elif kind == "pdf":
        parts.append(f"read it with read_pdf (path {str(resolved)!r})")
    else:
        parts.append(f"binary: {out['binary_reason']}")
    if over:
        parts.append(f"over the {_human(max_file_bytes)} read limit: read_file will refuse it")
    out["text"] = "; ".join(parts) + "."
    return out
