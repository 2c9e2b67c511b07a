"""The background embedder stops when its data dir is removed under it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from agent import background


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
