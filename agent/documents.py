"""Documents from tool results: stable ids, hashes, token counts, trust."""

from __future__ import annotations

import hashlib
from typing import Any

from agent.screening import screen_entry
from agent.state import Document, Span
from agent.tokens import TokenCounter

TRUSTED_SERVERS = {"files", "pdf"}


def content_hash(text: str) -> str:
    """The sha256 a document is deduplicated, cached and listed in the manifest by."""
    return hashlib.sha256(
        text.encode("utf-8", "surrogatepass")
    ).hexdigest()  # our own local readers; everything else is untrusted


def doc_id(uri: str, span: Span) -> str:
    raw = f"{uri}|{span.kind}|{span.start}|{span.end}|{span.label}"
    return "d" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def to_document(
    entry: dict[str, Any], server: str, counter: TokenCounter, now: str, *, redact: bool = True
) -> Document:
    """Turn one structured `documents` entry from a tool result into a Document, screened.

    Screening (agent/screening.py) drops invisible characters, redacts secrets unless redact is
    False, and flags untrusted text that addresses the assistant, before the text is counted.
    """
    span = Span.model_validate(entry.get("span") or {"kind": "whole"})
    source = entry.get("source") if entry.get("source") in ("file", "web", "pdf") else "mcp"
    # A server's own claim of trust is not enough: only our local readers are trusted.
    trusted = bool(entry.get("trusted", False)) and server in TRUSTED_SERVERS
    text, meta = screen_entry(entry, trusted=trusted, redact=redact)
    return Document(
        id=doc_id(str(entry["uri"]), span),
        uri=str(entry["uri"]),
        text=text,
        hash=content_hash(text),
        span=span,
        title=entry.get("title"),
        source=source,  # type: ignore[arg-type]
        trusted=trusted,
        tokens=counter(text),
        fetched_at=now,
        meta=meta,
    )
