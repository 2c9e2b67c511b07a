"""Documents from tool results: the lean construction gives the documents (and packs) validation gives."""

from __future__ import annotations

import json
from pathlib import Path

from agent.gather.documents import content_hash, doc_id, to_documents
from agent.pack.packing import build_pack
from agent.retrieval.select import select
from agent.safety.screening import screen_entry
from agent.settings import Settings
from agent.state import Document, Span
from agent.tokens import TokenCounter
from mcp_servers.files.server import _doc
from tools.files.bundle import read_many
from tools.roots import Roots
from tools.tokens import estimate_tokens

REPO = Path(__file__).parents[3]
QUESTION = "Where are the chunks of a document ranked with BM25 and symbols?"


def _entries() -> list[dict]:
    """The files server's read_many entries for a real folder (this repository's agent/), over JSON."""
    out = read_many(Roots.of([REPO]), str(REPO / "agent"), max_tokens=10_000_000, max_reply_chars=10**9)
    return json.loads(json.dumps([_doc(f) for f in out.files]))


def _validated(entry: dict, now: str) -> Document:
    """The same document built the plain way: every field validated, nothing shared."""
    span = Span.model_validate(entry["span"])
    text, meta = screen_entry(entry, trusted=True, redact=True)
    return Document.model_validate(
        {
            "id": doc_id(entry["uri"], span),
            "uri": entry["uri"],
            "text": text,
            "hash": content_hash(text),
            "span": span.model_dump(),
            "title": entry["title"],
            "source": "file",
            "trusted": True,
            "tokens": estimate_tokens(text),
            "fetched_at": now,
            "meta": meta,
        }  # fmt: skip
    )


def test_lean_documents_pack_the_same_bytes_as_validated_ones(tmp_path: Path) -> None:
    entries = _entries()
    assert len(entries) > 30
    lean = to_documents(entries, "files", TokenCounter(estimate_tokens), "2026-12-01T00:00:00+00:00")
    plain = [_validated(e, "2026-12-01T00:00:00+00:00") for e in entries]
    assert [d.model_dump() for d in lean] == [d.model_dump() for d in plain]
    assert [d.model_fields_set for d in lean] == [d.model_fields_set for d in plain]
    full = [build_pack(docs, QUESTION, count_tokens=estimate_tokens).text for docs in (lean, plain)]
    assert full[0] == full[1]
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    picked = [
        select(docs, QUESTION, 4000, settings=settings, count_tokens=estimate_tokens)
        for docs in (lean, plain)
    ]
    assert [(d.id, d.text) for d in picked[0].documents] == [(d.id, d.text) for d in picked[1].documents]
    assert build_pack(picked[0].documents, QUESTION, count_tokens=estimate_tokens, budget=4000).text == (
        build_pack(picked[1].documents, QUESTION, count_tokens=estimate_tokens, budget=4000).text
    )


def test_shared_records_do_not_leak_changes_between_documents() -> None:
    entries = _entries()[:3]
    a, b, c = to_documents(entries, "files", TokenCounter(estimate_tokens), "now")
    a.tokens = 7  # assignment, as select() does on blocks
    copied = b.model_copy(update={"text": "changed"})
    assert (a.tokens, b.tokens == 7, b.text != "changed", copied.text) == (7, False, True, "changed")
    assert c.model_fields_set == set(Document.model_fields)
    assert a.title == a.uri and a.span == Span.model_validate(entries[0]["span"])
