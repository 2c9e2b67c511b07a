"""The int8 graph: built locally once, close to fp32, and never mixed with fp32 vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.retrieval.chroma_index import ChunkIndex, collection_name
from agent.retrieval.chunking import chunk_document
from agent.retrieval.embeddings import LOCAL_MODEL, EmbeddingCache, LocalEmbedder, choose_embedder
from agent.retrieval.minilm import graph_file, graph_name, graph_precision
from agent.settings import Settings
from tests.agent.retrieval.test_select import doc

TEXTS = [
    "def retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n            return fn()\n"
    "        except TimeoutError:\n            time.sleep(2 ** i)\n",
    "class Parser:\n    '''Parse SQL into a tree of segments.'''\n    def parse(self, text: str) -> Tree:\n"
    "        return self.grammar.match(lex(text))\n",
    "## Configuration\n\nSet `max_line_length` in .sqlfluff to change the limit of rule LT05.",
    "short",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forage-quant")


def test_int8_graph_is_built_once_and_gives_vectors_close_to_fp32(data_dir: Path) -> None:
    fp32 = LocalEmbedder(data_dir, precision="fp32")
    int8 = LocalEmbedder(data_dir, precision="int8")
    a, b = fp32.embed(TEXTS), int8.embed(TEXTS)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.97, cosines  # per-tensor quantization gave ~0.86 on real chunks
    assert float(b[0] @ b[1]) != pytest.approx(float(a[0] @ a[1]), abs=1e-7)  # really another graph
    path = graph_file(data_dir / "models", precision="int8")
    assert path.is_file() and path.stat().st_size < graph_file(data_dir / "models").stat().st_size / 3
    built = path.stat().st_mtime_ns
    assert graph_file(data_dir / "models", precision="int8").stat().st_mtime_ns == built  # reused
    assert float(int8.embed_query(TEXTS[0]) @ b[0]) > 0.98  # activations are scaled per batch
    with pytest.raises(ValueError, match="unknown precision"):
        LocalEmbedder(data_dir, precision="fp16")


def test_each_graph_has_its_own_name_cache_rows_and_collection(data_dir: Path) -> None:
    assert graph_name("fp32") == LOCAL_MODEL  # vectors cached before this change stay valid
    assert graph_name("int8") != LOCAL_MODEL
    assert graph_precision(graph_name("int8")) == "int8" and graph_precision("gemini-embedding-001") is None
    settings = Settings(data_dir=data_dir, embedding="local")
    int8, _ = choose_embedder(settings)  # the default: within 1 point of fp32's recall on SWE-QA dev
    assert int8 is not None and int8.name == graph_name("int8")
    fp32, _ = choose_embedder(settings.model_copy(update={"embedding_precision": "fp32"}))
    assert fp32 is not None and fp32.name == LOCAL_MODEL
    chunks = chunk_document(doc("file:///a.py", "\n\n".join(TEXTS)), 20, 40)
    for embedder in (int8, fp32):
        with ChunkIndex(settings, embedder) as index:
            index.add(chunks)
            assert index.collection.name == collection_name(embedder.name)
            assert index.count() == len(chunks)
    cache = EmbeddingCache(data_dir / "embeddings.sqlite")
    try:
        hashes = [c.hash for c in chunks]
        got8, got32 = cache.get_many(int8.name, hashes), cache.get_many(fp32.name, hashes)
        assert set(got8) == set(got32) == set(hashes)
        assert any(not np.array_equal(got8[h], got32[h]) for h in hashes)
    finally:
        cache.close()


def test_background_worker_embeds_a_spool_file_with_the_graph_it_names(
    data_dir: Path, tmp_path: Path
) -> None:
    from agent.retrieval import background

    (tmp_path / "models").symlink_to(data_dir / "models")  # the graphs built above
    spool = background.pending_dir(tmp_path)
    spool.mkdir(parents=True)
    rows = [{"hash": f"h{i}", "text": t} for i, t in enumerate(TEXTS)]
    (spool / "1-1.int8.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert background.run_pending(tmp_path, wait=0) == len(TEXTS)
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    try:
        assert set(cache.get_many(graph_name("int8"), [r["hash"] for r in rows])) == {r["hash"] for r in rows}
        assert cache.get_many(LOCAL_MODEL, [r["hash"] for r in rows]) == {}
    finally:
        cache.close()
