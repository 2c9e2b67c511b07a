"""Documents: the one builder every gathering path calls, the trust rule, stable ids and hashes.

The graph (tool results, `to_documents`), the direct pack path (agent/session/direct.py) and the
editor workspace all build their Documents with `build_documents`: screened the same way, under
the same trust rule, with the same secret-verdict sequence.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.isolation import isolated
from agent.safety.screening import screen_text, with_safety
from agent.safety.secret_verdicts import SecretVerdicts, settle
from agent.state import Document, Span
from agent.tokens import TokenCounter

TRUSTED_SERVERS = {"files", "pdf"}  # our own local readers; everything else is untrusted


def is_trusted(server: str, source: str, claimed: bool = True) -> bool:
    """The trust rule: only the user's own files, read by our own local readers, are trusted.

    A server's own claim of trust is not enough (it can only lower trust: a checkout of someone
    else's repository is claimed untrusted); a PDF's text is its author's, wherever it came from.
    """
    return claimed and server in TRUSTED_SERVERS and source == "file"


def content_hash(text: str) -> str:
    """The sha256 a document is deduplicated, cached and listed in the manifest by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def doc_id(uri: str, span: Span) -> str:
    raw = f"{uri}|{span.kind}|{span.start}|{span.end}|{span.label}"
    return "d" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10]


@dataclass
class Read:
    """One piece of text a reader returned, before it is screened into a Document."""

    uri: str
    text: str
    span: Span
    source: str  # file | web | pdf | mcp
    server: str  # the reader: "files", "pdf", "web", or a third-party server's name
    title: str | None = None
    claimed: bool = True  # the reader's own claim of trust (see is_trusted)
    tokens: int | None = None  # the reader's count, when it made one on this text
    meta: dict[str, Any] = field(default_factory=dict)


def build_documents(
    reads: Sequence[Read],
    counter: TokenCounter,
    now: str,
    *,
    redact: bool = True,
    verdicts: SecretVerdicts | None = None,
) -> list[Document]:
    """Screen reads into Documents: check the clean-verdict cache, screen, remember the clean ones.

    Screening (agent/safety/screening.py) drops invisible characters, redacts secrets unless
    redact is False, and flags untrusted text that addresses the assistant, before the text is
    counted. One scouting pass over all the texts decides which could hold a secret at all (most
    code cannot); with `verdicts`, texts the detector already found clean in an earlier run are
    not scouted, and the ones it finds clean now are remembered.
    """
    marks: list[bool] = [redact] * len(reads)
    digests: list[str | None] = [None] * len(reads)
    names = [str(r.meta.get("path") or r.uri) for r in reads]
    if redact and (verdicts is not None or len(reads) > 1):
        texts = [r.text for r in reads]
        if verdicts is None:
            from tools.screening.secrets import may_hold_secrets

            marks = may_hold_secrets(texts, names)
        else:
            digests = [content_hash(t) for t in texts]
            marks = verdicts.marks(texts, names, digests)
    # A text screening fails on is left out (never packed unscreened), and said so.
    built = [
        isolated("screening", r.uri, "left out", None, _document, r, counter, now, redact=mark, digest=digest)
        for r, mark, digest in zip(reads, marks, digests, strict=True)
    ]
    kept = [i for i, d in enumerate(built) if d is not None]
    docs = [d for d in built if d is not None]
    if verdicts is not None and reads and redact:
        settle(
            verdicts, [names[i] for i in kept], [digests[i] for i in kept],  # type: ignore[misc]
            [marks[i] for i in kept], [d.meta for d in docs],
        )  # fmt: skip
    return docs


def to_documents(
    entries: Sequence[Any],
    server: str,
    counter: TokenCounter,
    now: str,
    *,
    redact: bool = True,
    verdicts: SecretVerdicts | None = None,
) -> list[Document]:
    """Turn a tool result's structured `documents` entries into Documents (entries without a `uri` are skipped)."""
    spans: dict[str, Span] = {}  # equal spans of one result share an instance
    reads = [
        Read(
            uri=str(e["uri"]),
            text=str(e.get("text") or ""),
            span=_span(e.get("span"), spans),
            source=e["source"] if e.get("source") in ("file", "web", "pdf") else "mcp",
            server=server,
            title=None if e.get("title") is None else str(e["title"]),
            claimed=bool(e.get("trusted", False)),
            meta=dict(e["meta"]) if isinstance(e.get("meta"), dict) else {},
        )
        for e in entries
        if isinstance(e, dict) and "uri" in e
    ]
    return build_documents(reads, counter, now, redact=redact, verdicts=verdicts)


# Every field of a Document is given when it is built here, so the instances can share one set
# as pydantic's `__pydantic_fields_set__` (each would own a 700-byte copy). It never changes:
# pydantic only adds field names to it, all already in; a copied model gets its own set.
_ALL_FIELDS = set(Document.model_fields)


def _span(raw: Any, spans: dict[str, Span]) -> Span:
    """The validated span; equal spans of one result share an instance (spans are only ever copied)."""
    raw = raw or {"kind": "whole"}
    key = repr(raw)
    span = spans.get(key)
    if span is None:
        span = spans[key] = Span.model_validate(raw)
    return span


def _document(read: Read, counter: TokenCounter, now: str, *, redact: bool, digest: str | None) -> Document:
    trusted = is_trusted(read.server, read.source, read.claimed)
    text, done = screen_text(
        read.text, uri=read.uri, trusted=trusted, redact=redact, path=read.meta.get("path")
    )
    meta = with_safety(read.meta, done)
    if isinstance(meta.get("encoding"), str):  # the same few names for every file: one string each
        meta["encoding"] = sys.intern(meta["encoding"])
    tokens = read.tokens
    if text is not read.text and text != read.text:  # screening changed it: hash and count it again
        digest, tokens = None, None
    title = read.uri if read.title == read.uri else read.title  # a file's title is its path: one string
    # model_construct: every field is computed or coerced right here (the span was validated),
    # and validating a folder's 100k documents again costs seconds.
    return Document.model_construct(
        id=doc_id(read.uri, read.span),
        uri=read.uri,
        text=text,
        hash=digest or content_hash(text),
        span=read.span,
        title=title,
        source=read.source,
        trusted=trusted,
        tokens=counter(text) if tokens is None else tokens,
        fetched_at=now,
        meta=meta,
        _fields_set=_ALL_FIELDS,
    )
