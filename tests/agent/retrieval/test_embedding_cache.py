"""Two openers of one new embedding cache at once: neither is told the database is locked."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.retrieval.embeddings import EmbeddingCache


def test_caches_opened_at_once_on_a_new_file_both_open(tmp_path: Path) -> None:
    for n in range(40):
        path = tmp_path / f"embeddings-{n}.sqlite"
        with ThreadPoolExecutor(4) as pool:
            caches = list(pool.map(EmbeddingCache, [path] * 4))
        for cache in caches:
            cache.close()
