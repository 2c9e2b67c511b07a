"""The Chroma index of chunk vectors: one collection per embedding model, locked against a second writer.

Vectors come from the content-hash cache when it has them (`agent.retrieval.embeddings.embed_cached`);
an edited document's old chunks are dropped as its new ones go in, and `prune` keeps the index
to exactly the sources given.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from agent.damaged import Kept, check_sqlite
from agent.errors import AgentError, IndexLocked
from agent.paths import places
from agent.retrieval.chunking import TARGET_TOKENS, Chunk
from agent.retrieval.embeddings import LEGACY_NAMES, Embedder, EmbeddingCache, embed_cached
from agent.settings import Settings

_COLLECTION_PREFIX = "forage-"
INDEXED_VECTORS = Kept(
    "indexed chunk vectors",
    "SELECT count(*) FROM embeddings",
    after="the index is built again from the sources",
)
_ADD_SLICE = 256  # chunks embedded and stored together (~10 s of CPU embedding)


class IndexLock:
    """An exclusive fcntl lock on the embedded store, so two writers never share it."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    os.close(fd)
                    raise IndexLocked(
                        f"The retrieval index at {self.path.parent} is in use by {holder}. "
                        "Wait for it to finish, or use another --data-dir (or a Chroma server with --chroma-url)."
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ChunkIndex:
    """Chunk vectors in Chroma, keyed by chunk id; adding an unchanged chunk is a no-op."""

    def __init__(self, settings: Settings, embedder: Embedder, *, lock_timeout: float = 10.0) -> None:
        import chromadb

        self.embedder = embedder
        self.cache = EmbeddingCache(places(settings).embeddings)
        self._lock: IndexLock | None = None
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise AgentError(f"--chroma-url {settings.chroma_url!r} is not a URL; use http://host:port.")
            self.store = settings.chroma_url
            try:
                self.client: Any = chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                )
            except ValueError as exc:  # chromadb raises ValueError when the server is unreachable
                raise AgentError(f"Cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
        else:
            path = places(settings).index
            self.store = str(path)
            self._lock = IndexLock(path / "forage.lock", lock_timeout)
            self._lock.acquire()
            if check_sqlite(path / "chroma.sqlite3", INDEXED_VECTORS, aside=path):
                self._lock.release()  # it was moved aside with the folder: lock the new one
                self._lock.acquire()
            try:
                self.client = chromadb.PersistentClient(
                    path=str(path), settings=chromadb.Settings(anonymized_telemetry=False)
                )
            except BaseException:
                self._lock.release()
                raise
        self._adopt_legacy(embedder.name)
        self.collection = self.client.get_or_create_collection(
            collection_name(embedder.name), embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self.embedded = 0
        self.added = 0
        self.removed = 0  # stale chunks deleted (changed or pruned documents)

    def _adopt_legacy(self, name: str) -> None:
        """Take over the vectors an older forage stored for the same model under another name (once)."""
        legacy = LEGACY_NAMES.get(name, ())
        if not legacy:
            return
        self.cache.adopt(name, legacy)
        have = {getattr(c, "name", c) for c in self.client.list_collections()}
        for old in legacy:
            if collection_name(old) in have and collection_name(name) not in have:
                self.client.get_collection(collection_name(old)).modify(name=collection_name(name))
                have.add(collection_name(name))

    def close(self) -> None:
        """Release the store; the next opener (maybe another process) rereads it from disk."""
        self.cache.close()
        if self._lock is not None:
            # Chroma keeps one shared system per path in this process; drop it so no stale
            # in-memory segment outlives our lock.
            self.client.clear_system_cache()
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ChunkIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def missing(self, chunks: Sequence[Chunk]) -> list[Chunk]:
        """The chunks Chroma does not hold yet (each once)."""
        ids = list(dict.fromkeys(c.id for c in chunks))
        present: set[str] = set()
        for b in range(0, len(ids), 2000):
            present.update(self.collection.get(ids=ids[b : b + 2000], include=[])["ids"])
        seen: set[str] = set()
        missing = []
        for c in chunks:
            if c.id not in present and c.id not in seen:
                seen.add(c.id)
                missing.append(c)
        return missing

    def add(
        self,
        chunks: Sequence[Chunk],
        size: int = TARGET_TOKENS,
        *,
        current: set[str] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Embed (from cache when possible) and add the chunks Chroma does not hold yet.

        A document with new chunks has changed (or is new): its chunks of the same size that
        are no longer current are removed, so an edited file leaves no old vectors behind.
        current: every chunk id of the corpus now, when only some of its chunks are added.
        on_progress(done, total) is called before each slice and at the end; it may raise to
        stop (a cancelled request), keeping the slices already stored.
        """
        missing = self.missing(chunks)
        if not missing:
            return
        changed = list(dict.fromkeys(c.doc_id for c in missing))
        self._drop_stale(changed, current if current is not None else {c.id for c in chunks}, size)
        # In slices: the vectors of each are cached and stored before the next is embedded, so
        # an interrupted `forage index` keeps what it did.
        step = max(1, min(self.client.get_max_batch_size(), _ADD_SLICE))
        for b in range(0, len(missing), step):
            if on_progress is not None:
                on_progress(b, len(missing))
            part = missing[b : b + step]
            before = getattr(self.embedder, "calls", 0)
            vecs = embed_cached(self.embedder, self.cache, [c.text for c in part], [c.hash for c in part])
            self.embedded += getattr(self.embedder, "calls", 0) - before
            self.collection.add(
                ids=[c.id for c in part],
                embeddings=vecs,
                metadatas=[_metadata(c, size) for c in part],
            )
            self.added += len(part)
        if on_progress is not None:
            on_progress(len(missing), len(missing))

    def _drop_stale(self, doc_ids: Sequence[str], current: set[str], size: int) -> None:
        for b in range(0, len(doc_ids), 500):
            got = self.collection.get(
                where={"doc_id": {"$in": list(doc_ids[b : b + 500])}}, include=["metadatas"]
            )
            stale = [
                i
                for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
                if i not in current and (m or {}).get("size", size) == size
            ]
            self._delete(stale)

    def _delete(self, ids: Sequence[str]) -> None:
        for b in range(0, len(ids), 2000):
            self.collection.delete(ids=list(ids[b : b + 2000]))
        self.removed += len(ids)

    def prune(self, keep_doc_ids: set[str]) -> int:
        """Remove every chunk whose document is not in keep_doc_ids; return how many went."""
        stale: list[str] = []
        total = self.collection.count()
        for offset in range(0, total, 5000):
            got = self.collection.get(include=["metadatas"], limit=5000, offset=offset)
            stale += [
                i for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
                if (m or {}).get("doc_id") not in keep_doc_ids
            ]  # fmt: skip
        before = self.removed
        self._delete(stale)
        return self.removed - before

    def count(self) -> int:
        return int(self.collection.count())

    def dense(self, query: np.ndarray, ids: Sequence[str], n: int) -> list[str]:
        """Return up to n of `ids`, nearest to the query vector first."""
        if not ids or n <= 0:
            return []
        res = self.collection.query(
            query_embeddings=[query], ids=list(ids), n_results=min(n, len(ids)), include=[]
        )
        return list(res["ids"][0]) if res["ids"] else []


def collection_name(model: str) -> str:
    """The Chroma collection that holds one model's vectors."""
    return _COLLECTION_PREFIX + "".join(c if c.isalnum() else "-" for c in model.lower())


def _metadata(c: Chunk, size: int) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "uri": c.uri,
        "doc_id": c.doc_id,
        "hash": c.hash,
        "order": c.order,
        "kind": c.span.kind,
        "size": size,  # the chunk target it was cut at: one document may be indexed at two sizes
    }
    if c.span.start is not None:
        meta["start"] = c.span.start
    if c.span.end is not None:
        meta["end"] = c.span.end
    if c.span.label:
        meta["label"] = c.span.label
    return meta
