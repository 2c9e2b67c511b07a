"""Documents from tool results: stable ids, hashes, token counts, trust."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from typing import Any

from agent.safety.screening import screen_entry
from agent.safety.secret_verdicts import SecretVerdicts, settle
from agent.state import Document, Span
from agent.tokens import TokenCounter

TRUSTED_SERVERS = {"files", "pdf"}  # our own local readers; everything else is untrusted


def content_hash(text: str) -> str:
    """The sha256 a document is deduplicated, cached and listed in the manifest by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def doc_id(uri: str, span: Span) -> str:
    raw = f"{uri}|{span.kind}|{span.start}|{span.end}|{span.label}"
    return "d" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def to_documents(
    entries: Sequence[Any],
    server: str,
    counter: TokenCounter,
    now: str,
    *,
    redact: bool = True,
    verdicts: SecretVerdicts | None = None,
) -> list[Document]:
    """Turn a tool result's structured `documents` entries into Documents, screened.

    Screening (agent/safety/screening.py) drops invisible characters, redacts secrets unless redact is
    False, and flags untrusted text that addresses the assistant, before the text is counted.
    Entries that are not objects with a `uri` are skipped. One scouting pass over all the texts
    decides which could hold a secret at all (most code cannot), as the direct pack path does;
    with `verdicts`, texts the detector already found clean in an earlier run are not scouted.
    """
    entries = [e for e in entries if isinstance(e, dict) and "uri" in e]
    marks: list[bool] = [redact] * len(entries)
    digests: list[str | None] = [None] * len(entries)
    names: list[str] = []
    if redact and (verdicts is not None or len(entries) > 1):
        texts = [str(e.get("text") or "") for e in entries]
        names = [
            str((e.get("meta") if isinstance(e.get("meta"), dict) else {}).get("path") or e["uri"])
            for e in entries
        ]
        if verdicts is None:
            from tools.screening.secrets import may_hold_secrets

            marks = may_hold_secrets(texts, names)
        else:
            digests = [content_hash(t) for t in texts]
            marks = verdicts.marks(texts, names, digests)
    spans: dict[str, Span] = {}  # equal spans of one result share an instance
    docs = [
        _document(e, server, counter, now, redact=mark, digest=digest, spans=spans)
        for e, mark, digest in zip(entries, marks, digests, strict=True)
    ]
    if verdicts is not None and names:
        settle(verdicts, names, digests, marks, [d.meta for d in docs])  # type: ignore[arg-type]
    return docs


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


def _document(
    entry: dict[str, Any],
    server: str,
    counter: TokenCounter,
    now: str,
    *,
    redact: bool,
    digest: str | None = None,
    spans: dict[str, Span] | None = None,
) -> Document:
    span = _span(entry.get("span"), {} if spans is None else spans)
    source = entry.get("source") if entry.get("source") in ("file", "web", "pdf") else "mcp"
    # A server's own claim of trust is not enough: only our local readers are trusted.
    trusted = bool(entry.get("trusted", False)) and server in TRUSTED_SERVERS
    if not isinstance(entry.get("meta"), dict):
        entry = {**entry, "meta": {}}
    raw = entry.get("text")
    text, meta = screen_entry(entry, trusted=trusted, redact=redact)
    if isinstance(meta.get("encoding"), str):  # the same few names for every file: one string each
        meta["encoding"] = sys.intern(meta["encoding"])
    if digest is None or text is not raw:
        digest = content_hash(text)
    title = entry.get("title")
    uri = str(entry["uri"])
    if title == uri:
        title = uri  # files are titled by their path: one string, not two equal ones
    # model_construct: every field is computed or coerced right here (the span was validated),
    # and validating a folder's 100k documents again costs seconds.
    return Document.model_construct(
        id=doc_id(uri, span),
        uri=uri,
        text=text,
        hash=digest,
        span=span,
        title=None if title is None else str(title),
        source=source,
        trusted=trusted,
        tokens=counter(text),
        fetched_at=now,
        meta=meta,
        _fields_set=_ALL_FIELDS,
    )
