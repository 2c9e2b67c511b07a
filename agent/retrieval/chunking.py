"""Split documents into chunks along their structure: definitions, headings, pages, paragraphs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from agent.gather.documents import content_hash
from agent.isolation import isolated
from agent.state import Document, Span
from tools.tokens import MIN_CPT, estimate_tokens

# Chunks are sized for retrieval, not for reading: ~400 tokens keeps the number of embeddings
# low (the local model embeds ~15 chunks/s per core) while still isolating one topic each.
TARGET_TOKENS = 400
MAX_TOKENS = 600

ChunkKind = Literal["code", "markdown", "pages", "web", "text"]

_CODE_EXT = frozenset(
    ".py .pyi .js .jsx .mjs .cjs .ts .tsx .go .rs .java .kt .scala .c .h .cc .cpp .hpp .cs .rb .php .swift .lua .sh".split()
)
_MARKDOWN_EXT = frozenset(".md .markdown .mdx .rst .adoc".split())
# A top-level definition in Python or a C/JS-like language starts at column 0.
_DEF_RE = re.compile(
    r"^(?:async\s+def|def|class|function|async\s+function|export\s+(?:default\s+)?(?:async\s+)?(?:function|class|const|let)"
    r"|(?:pub\s+)?(?:fn|struct|enum|impl|trait|mod)|func|interface|type|const\s+\w+\s*=\s*(?:async\s*)?\()\b"
)
_DECORATOR_RE = re.compile(r"^(?:@|#\[)")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(slots=True)
class Chunk:
    """A retrievable piece of one document, with its place in the source.

    A plain dataclass: a corpus of 100k files makes 100k chunks, and pydantic's construction
    alone cost seconds there; chunks are made only here, from typed values.
    """

    id: str  # stable: hash of the parent document id, char range and content hash
    doc_id: str
    uri: str
    order: int  # position within the parent document; neighbours differ by 1
    start_char: int  # [start_char, end_char) of the parent document's text
    end_char: int
    text: str
    hash: str  # sha256 of text
    span: Span


def chunk_kind(doc: Document) -> ChunkKind:
    """Choose how to split a document from its span, source and file extension."""
    if doc.span.kind == "pages" or doc.source == "pdf":
        return "pages"
    if doc.source == "web":
        return "web"
    path = doc.uri.split("?", 1)[0].split("#", 1)[0].lower()
    ext = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    if ext in _CODE_EXT:
        return "code"
    if ext in _MARKDOWN_EXT:
        return "markdown"
    return "text"


def chunk_document(doc: Document, target: int = TARGET_TOKENS, limit: int = MAX_TOKENS) -> list[Chunk]:
    """Split one document into chunks of about `target` tokens along its structure."""
    if not doc.text.strip():
        return []
    lines = doc.text.splitlines(keepends=True)
    kind = chunk_kind(doc)
    # Too small to split: no segment counts more than len/MIN_CPT tokens (+1 for rounding up),
    # so packing would merge every segment into one piece anyway.
    tiny = kind in ("code", "text") and len(doc.text) / MIN_CPT + len(lines) <= target
    if tiny:
        segments: list[Segment] = [(0, len(lines), None)]
    elif kind == "code":
        segments = list(_code_segments(lines))
    elif kind in ("markdown", "web"):
        segments = list(_heading_segments(lines))
    else:
        segments = list(_paragraph_segments(lines))
    pieces = segments if tiny else _pack(lines, segments, target, limit)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chunks: list[Chunk] = []
    for order, (lo, hi, label) in enumerate(pieces):
        whole = lo == 0 and hi == len(lines)
        # A chunk that is its whole document shares the document's text and hash (one copy of
        # a 100k-file folder's text in memory, not two).
        text = doc.text if whole else "".join(lines[lo:hi])
        if not text.strip():
            continue
        h = doc.hash if whole and doc.hash else content_hash(text)
        span = _span_for(doc, kind, lo, hi, label)
        cid = hashlib.sha256(f"{doc.id}\0{starts[lo]}\0{h}".encode()).hexdigest()[:32]
        chunks.append(
            Chunk(
                id=cid,
                doc_id=doc.id,
                uri=doc.uri,
                order=order,
                start_char=starts[lo],
                end_char=starts[hi],
                text=text,
                hash=h,
                span=span,
            )
        )
    # Renumber so neighbours in the document are exactly one apart after empty pieces are dropped.
    for i, chunk in enumerate(chunks):
        chunk.order = i
    return chunks


def _span_for(doc: Document, kind: ChunkKind, lo: int, hi: int, label: str | None) -> Span:
    """Translate a line range of the document into a span of its source."""
    if kind == "pages" or doc.span.kind == "pages":
        return doc.span.model_copy()
    if doc.span.kind == "section" or kind == "web":
        return Span.model_construct(
            kind="section", start=None, end=None, label=label or doc.span.label or doc.title
        )
    first = doc.span.start if doc.span.kind == "lines" and doc.span.start else 1
    if doc.span.kind == "lines" and doc.span.start == first + lo and doc.span.end == first + hi - 1:
        return doc.span  # the whole document (spans are never changed in place, only copied)
    return Span.model_construct(kind="lines", start=first + lo, end=first + hi - 1, label=None)


# A segment is (first_line, end_line_exclusive, label). Segments never straddle a boundary.
Segment = tuple[int, int, str | None]


def _code_segments(lines: list[str]) -> Iterator[Segment]:
    """Cut before each top-level definition, keeping its decorators and leading comments."""
    cuts = [0]
    for i, line in enumerate(lines):
        if i and _DEF_RE.match(line):
            j = i
            while j > 0 and (
                _DECORATOR_RE.match(lines[j - 1]) or lines[j - 1].lstrip().startswith(("#", "//", "/*", "*"))
            ):
                if not lines[j - 1][:1].strip():  # indented comment belongs to the body above
                    break
                j -= 1
            if j > cuts[-1]:
                cuts.append(j)
    cuts.append(len(lines))
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        if hi > lo:
            yield lo, hi, None


def _heading_segments(lines: list[str]) -> Iterator[Segment]:
    """Cut before each markdown heading; label each segment with its heading path."""
    path: list[tuple[int, str]] = []
    lo, label = 0, None
    in_fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _HEADING_RE.match(line)
        if not m:
            continue
        if i > lo:
            yield lo, i, label
        level, title = len(m.group(1)), m.group(2)
        path = [(lv, t) for lv, t in path if lv < level] + [(level, title)]
        lo, label = i, " › ".join(t for _, t in path)
    if len(lines) > lo:
        yield lo, len(lines), label


def _paragraph_segments(lines: list[str]) -> Iterator[Segment]:
    """Cut after each blank line, so paragraphs stay whole."""
    lo = 0
    for i, line in enumerate(lines):
        if not line.strip() and i + 1 > lo:
            yield lo, i + 1, None
            lo = i + 1
    if len(lines) > lo:
        yield lo, len(lines), None


def _pack(lines: list[str], segments: list[Segment], target: int, limit: int) -> list[Segment]:
    """Merge small consecutive segments up to `target` tokens; split big ones into line windows."""
    out: list[Segment] = []
    cur: Segment | None = None
    cur_tokens = 0
    for lo, hi, label in segments:
        tokens = estimate_tokens("".join(lines[lo:hi]))
        if tokens > limit:
            if cur:
                out.append(cur)
                cur, cur_tokens = None, 0
            out.extend(_windows(lines, lo, hi, label, target))
            continue
        # A new heading starts a new chunk once the current one is half full: sections stay whole.
        starts_section = (
            label is not None and cur is not None and label != cur[2] and cur_tokens >= target // 2
        )
        if cur is not None and (cur_tokens + tokens > target or starts_section):
            out.append(cur)
            cur, cur_tokens = None, 0
        cur = (cur[0], hi, cur[2]) if cur else (lo, hi, label)
        cur_tokens += tokens
    if cur:
        out.append(cur)
    return out


def _windows(lines: list[str], lo: int, hi: int, label: str | None, target: int) -> Iterator[Segment]:
    """Split lines [lo, hi) into consecutive windows of about `target` tokens."""
    start, tokens = lo, 0
    for i in range(lo, hi):
        t = estimate_tokens(lines[i])
        if i > start and tokens + t > target:
            yield start, i, label
            start, tokens = i, 0
        tokens += t
    if hi > start:
        yield start, hi, label


# The chunks of the last corpus chunked at each size, by document: a chat's next question, an
# eval's next budget and the next commit of a history run re-chunk only what changed (numpy's
# 11M tokens take ~1.3 s to chunk, most of a warm ranking). Chunks are never changed once made.
_Key = tuple[str, str, str, str, str, object]
_CACHE: dict[int, dict[_Key, list[Chunk]]] = {}
_CACHED_SIZES = 2


def chunk_all(documents: Sequence[Document], target: int = TARGET_TOKENS) -> list[Chunk]:
    """Chunk every document, in order (what the last call at this size chunked is reused)."""
    before = _CACHE.pop(target, {})
    now: dict[_Key, list[Chunk]] = {}
    out: list[Chunk] = []
    for doc in documents:
        span = doc.span
        key = (
            doc.id,
            doc.hash,
            doc.uri,
            doc.source,
            doc.title or "",
            (span.kind, span.start, span.end, span.label),
        )
        chunks = before.get(key) or now.get(key)
        if chunks is None:
            chunks = isolated(
                "chunking", doc.uri, "left out of the ranked text", [],
                chunk_document, doc, target, target * 3 // 2,
            )  # fmt: skip
        if chunks and doc.hash:  # a failure (no chunks) is tried again, and says so again
            now[key] = chunks
        out.extend(chunks)
    _CACHE[target] = now  # most recent last
    while len(_CACHE) > _CACHED_SIZES:
        _CACHE.pop(next(iter(_CACHE)))
    return out


def forget_chunks() -> None:
    """Drop the kept chunks: the next chunk_all() chunks every document anew (benchmarks' baseline)."""
    _CACHE.clear()
