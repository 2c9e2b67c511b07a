"""The background embedder stops when its data dir is removed under it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from agent.retrieval import background


class _RemovesTheDataDir:
    """An embedder that deletes the data dir during its first batch (as `rm -rf` by the user would)."""

    name = "test-removal"
    dim = 4

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.batches = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches += 1
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return np.ones((len(texts), self.dim), dtype=np.float32)


def test_the_worker_stops_when_its_data_dir_is_removed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    spool = background.pending_dir(data_dir)
    spool.mkdir(parents=True)
    rows = [{"hash": f"h{i}", "text": f"note {i}"} for i in range(background._BATCH * 5)]
    (spool / "1-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    embedder = _RemovesTheDataDir(data_dir)
    background.run_pending(data_dir, embedder=embedder)
    assert embedder.batches == 1  # not five: nothing is left to embed them for


class _Chunk:
    def __init__(self, h: str, text: str) -> None:
        self.hash, self.text = h, text


class _CountingEmbedder:
    name = "test-count"
    dim = 4

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return np.ones((len(texts), self.dim), dtype=np.float32)


def test_a_corpus_asked_about_again_is_not_spooled_again(tmp_path: Path) -> None:
    import fcntl
    import os

    from agent.retrieval.embeddings import LOCAL_MODEL
    from agent.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    spool = background.pending_dir(settings.data_dir)
    spool.mkdir(parents=True)
    held = os.open(spool / "worker.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(held, fcntl.LOCK_EX)  # a worker "runs": no real one is started
    try:
        # Quotes, backslashes, line breaks, tabs, non-ASCII and U+2028 must survive the spool.
        corpus = [_Chunk(f"h{i}", f'note {i}: "q" \\ \n\ttab é ☃ \u2028 {{x}}') for i in range(50)]
        for _ in range(3):  # three questions in a row over the same unindexed corpus
            assert background.embed_later(settings, LOCAL_MODEL, corpus)
        assert len(list(spool.glob("*.jsonl"))) == 1
        grown = [*corpus, _Chunk("h-new", "a new note"), _Chunk("h-new", "a new note")]
        assert background.embed_later(settings, LOCAL_MODEL, grown)
        files = sorted(spool.glob("*.jsonl"))
        assert len(files) == 2
        assert [json.loads(line)["hash"] for line in files[1].read_text().splitlines()] == ["h-new"]
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
    embedder = _CountingEmbedder()
    assert background.run_pending(settings.data_dir, embedder=embedder, wait=0) == 51
    assert sorted(embedder.texts) == sorted([c.text for c in corpus] + ["a new note"])  # each once
    assert not list(spool.glob("*.jsonl")) and not list(spool.glob("*.hashes"))
    # Once the queue is empty, the same chunks can be spooled again (a cache the user deleted).
    held = os.open(spool / "worker.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        assert background.embed_later(settings, LOCAL_MODEL, corpus)
        assert len(list(spool.glob("*.jsonl"))) == 1
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
