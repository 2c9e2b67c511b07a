"""A damaged embeddings cache or Chroma index is set aside with one line and rebuilt, never fatal."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from agent.retrieval.chroma_index import ChunkIndex
from agent.retrieval.embeddings import EmbeddingCache
from tests.agent.retrieval.test_select import HashEmbedder, settings_in


def _overwrite(path: Path, offset: int = 0, size: int = 100) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(os.urandom(size))


def _vectors(n: int) -> dict[str, np.ndarray]:
    return {f"h{i}": np.full(4, i, dtype=np.float32) for i in range(n)}


def test_a_damaged_embeddings_cache_is_set_aside_and_starts_empty(tmp_path: Path, caplog) -> None:
    path = tmp_path / "embeddings.sqlite"
    cache = EmbeddingCache(path)
    cache.put_many("m", _vectors(5))
    cache.close()
    _overwrite(path)
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        cache = EmbeddingCache(path)
    assert cache.get_many("m", ["h1"]) == {}
    cache.put_many("m", _vectors(2))
    assert set(cache.get_many("m", ["h0", "h1"])) == {"h0", "h1"}
    (aside,) = tmp_path.glob("embeddings.sqlite.damaged-*[0-9]")
    assert [r.getMessage() for r in caplog.records] == [
        "the cached embedding vectors could not be read (they will be computed again); "
        f"the old file is at {aside}"
    ]


def test_damage_found_mid_run_is_mended_and_the_call_still_answers(tmp_path: Path, caplog) -> None:
    path = tmp_path / "embeddings.sqlite"
    cache = EmbeddingCache(path)
    cache.put_many("m", _vectors(3))
    cache.close()
    cache = EmbeddingCache(path)  # opened while sound (the probe reads the schema only) ...
    _overwrite(path, 4096, path.stat().st_size - 4096)  # ... then the table's pages go bad
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        assert cache.get_many("m", ["h1"]) == {}
        cache.put_many("m", _vectors(1))
    assert set(cache.get_many("m", ["h0"])) == {"h0"}
    assert len(caplog.records) == 1
    assert len(list(tmp_path.glob("embeddings.sqlite.damaged-*[0-9]"))) == 1


def test_a_damaged_chroma_index_folder_is_set_aside_and_rebuilt(tmp_path: Path, caplog) -> None:
    settings = settings_in(tmp_path)
    with ChunkIndex(settings, HashEmbedder()) as index:
        index.collection.add(ids=["c1", "c2"], embeddings=np.ones((2, 64), dtype=np.float32))
    _overwrite(settings.data_dir / "index" / "chroma.sqlite3")
    with (
        caplog.at_level(logging.WARNING, logger="forage.state"),
        ChunkIndex(settings, HashEmbedder()) as index,
    ):
        assert index.count() == 0
        index.collection.add(ids=["c3"], embeddings=np.ones((1, 64), dtype=np.float32))
        assert index.count() == 1
    (aside,) = settings.data_dir.glob("index.damaged-*")
    assert (aside / "chroma.sqlite3").exists()
    assert caplog.records[0].getMessage() == (
        "the indexed chunk vectors could not be read (the index is built again from the sources); "
        f"the old folder is at {aside}"
    )
