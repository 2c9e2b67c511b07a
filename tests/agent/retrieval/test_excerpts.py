"""Excerpts: the lines of a chunk that hold the question's rarest terms, with their exact span."""

from __future__ import annotations

from agent.gather.documents import content_hash
from agent.retrieval.chunking import chunk_all
from agent.retrieval.excerpts import best_window, excerpt, excerpts
from agent.state import Document, Span
from tools.tokens import estimate_tokens


def _doc(uri: str, text: str) -> Document:
    return Document(
        id="d-" + uri, uri=uri, text=text, hash=content_hash(text),
        span=Span(kind="lines", start=1, end=text.count("\n") + 1), tokens=estimate_tokens(text),
    )  # fmt: skip


BODY = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(20))
TEXT = (
    BODY + "def retry_delay(attempt):\n    '''Back off before a retry.'''\n    return 2 ** attempt\n" + BODY
)


def test_best_window_holds_the_rarest_terms_within_its_size() -> None:
    lines = TEXT.split("\n")
    start, end = best_window(lines, {"retry": 3.0, "delay": 3.0, "return": 0.1}, 30, estimate_tokens)
    window = "\n".join(lines[start:end])
    assert "def retry_delay(attempt):" in window and estimate_tokens(window) <= 30 + (end - start)
    assert best_window(lines, {}, 30, estimate_tokens)[0] == 0  # nothing matches: the chunk's start


def test_an_excerpt_is_the_exact_source_text_of_its_line_span() -> None:
    doc = _doc("pkg/retry.py", TEXT)
    chunk = next(c for c in chunk_all([doc], 400) if "retry_delay" in c.text)
    block = excerpt(chunk, doc, {"retry": 3.0, "delay": 3.0}, estimate_tokens, 40)
    assert block.meta["fidelity"] == "excerpt" and "retry_delay" in block.text
    source = TEXT.split("\n")
    assert block.text == "\n".join(source[block.span.start - 1 : block.span.end])
    a, b = block.meta["chars"]
    assert TEXT[a:b] == block.text


def test_one_excerpt_per_further_file_within_the_room() -> None:
    docs = {d.id: d for d in (_doc(f"m{i}.py", TEXT) for i in range(6))}
    chunks = chunk_all(list(docs.values()), 400)
    out = excerpts(chunks, {"m0.py"}, 200, {"retry": 3.0}, docs, estimate_tokens)
    uris = [b.uri for b in out]
    assert "m0.py" not in uris and len(uris) == len(set(uris)) >= 2
    assert sum(b.tokens + 16 for b in out) <= 200
