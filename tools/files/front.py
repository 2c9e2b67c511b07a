"""Read local files inside the roots: list, read (ranges and bundles), search and describe them.

Every function takes the server's Roots first, resolves user paths through Roots.resolve before
anything is opened, and returns a small result object: `text` for the model, fields for code.
This module holds the one-file tools (list_files, read_file, file_info) and is the front door
to the others: read_many (tools.files.bundle) and search_files (tools.files.search).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tools.errors import BinaryContent, InvalidArgument
from tools.files.bundle import DEFAULT_MAX_REPLY_CHARS, DEFAULT_MAX_TOKENS, Bundle, ListingCache, read_many
from tools.files.office import is_document
from tools.files.safe_read import (
    DEFAULT_MAX_FILE_BYTES,
    FileText,
    check_size,
    human,
    is_pdf_name,
    load_text,
    open_checked,
    positive,
    read_bytes,
    skipped_lines,
)
from tools.files.search import DEFAULT_MAX_HITS, Search, search_files
from tools.files.text import SNIFF_BYTES, decode, sniff, split_lines
from tools.files.walk import WALK_LIMIT, Entry, walk
from tools.roots import Roots
from tools.tokens import estimate_tokens

__all__ = [
    "DEFAULT_MAX_CHARS", "DEFAULT_MAX_FILE_BYTES", "DEFAULT_MAX_HITS", "DEFAULT_MAX_REPLY_CHARS",
    "DEFAULT_MAX_TOKENS", "Bundle", "FileRead", "FileText", "Listing", "ListingCache", "Search",
    "file_info", "list_files", "read_file", "read_many", "search_files",
]  # fmt: skip

DEFAULT_MAX_CHARS = 40_000
DEFAULT_MAX_RESULTS = 500
_BYTES_PER_TOKEN = 3.5  # listing estimate from size alone, without opening the file


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


# ---------------------------------------------------------------- list_files


def list_files(
    roots: Roots,
    path: str = ".",
    pattern: str | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    offset: int = 0,
) -> Listing:
    """List files under a path, honouring .gitignore and the default ignore list, with size and tokens."""
    positive("max_results", max_results, 10_000)
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
    lines += skipped_lines(found.skipped)
    return Listing("\n".join(lines), where, files, total, more, found.ignored, found.skipped, nxt)


def _listing_entry(entry: Entry) -> dict[str, Any]:
    pdf = is_pdf_name(entry.path)
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
    return f"{f['path']}  {human(f['size'])}  {tokens}"


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
    positive("start_line", start_line)
    positive("max_chars", max_chars)
    if end_line is not None and end_line < start_line:
        raise InvalidArgument(
            f"end_line={end_line} is before start_line={start_line}; pass end_line >= start_line"
        )
    resolved = roots.resolve(path)
    display = roots.display(resolved)
    if resolved.is_dir():
        raise InvalidArgument(f"{display!r} is a folder; use list_files or read_many on it")
    if is_pdf_name(resolved):
        raise BinaryContent(f"{display!r} is a PDF; read it with read_pdf (path {str(resolved)!r})")
    if is_document(resolved):
        raise BinaryContent(
            f"{display!r} is an office document or notebook; read it with read_many (paths_or_glob "
            f"{str(resolved)!r}), which returns it by slide, sheet, section or cell"
        )
    check_size(display, resolved.stat().st_size, max_file_bytes)  # refuse before opening
    text, encoding = load_text(resolved, display, max_file_bytes)
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
            f"({human(out['size'])}) after ignore rules; modified {out['mtime']}."
        )
        return out
    over = info.st_size > max_file_bytes
    if over:
        with open(open_checked(resolved, display), "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    else:
        head = read_bytes(resolved, display, max_file_bytes)
    found_kind = sniff(head[:SNIFF_BYTES])
    kind = "pdf" if is_pdf_name(resolved) or found_kind.kind == "pdf" else found_kind.kind
    out.update(kind=kind, is_binary=kind != "text", binary_reason=found_kind.reason if kind != "text" else None,
               encoding=None, lines=None, tokens=None, over_limit=over)  # fmt: skip
    if kind == "text":
        if over:
            out["encoding"] = found_kind.encoding
            out["tokens"] = int(info.st_size / _BYTES_PER_TOKEN + 0.5)
        else:
            text, encoding = decode(head, found_kind)
            out.update(encoding=encoding, lines=len(split_lines(text)), tokens=estimate_tokens(text))
    parts = [f"{display}: {kind}", human(info.st_size), f"modified {out['mtime']}"]
    if kind == "text":
        parts += [out["encoding"] or "?", f"{out['lines'] if out['lines'] is not None else '?'} lines",
                  f"~{out['tokens']} tokens"]  # fmt: skip
    elif kind == "pdf":
        parts.append(f"read it with read_pdf (path {str(resolved)!r})")
    else:
        parts.append(f"binary: {out['binary_reason']}")
    if over:
        parts.append(f"over the {human(max_file_bytes)} read limit: read_file will refuse it")
    out["text"] = "; ".join(parts) + "."
    return out
