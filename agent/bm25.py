"""Okapi BM25 with postings in numpy arrays (the words, paths and phrases of agent/ranking.py)."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence

import numpy as np


def _norm(lengths: np.ndarray, k1: float, b: float) -> np.ndarray:
    """Each document's length normalisation, k1 * (1 - b + b * length / mean length)."""
    avg = float(lengths.mean()) if len(lengths) and lengths.any() else 1.0
    return (k1 * (1 - b + b * lengths / avg)).astype(np.float32)


class BM25:
    """Okapi BM25 (k1 1.5, b 0.75, Lucene's idf), scored with numpy.

    Ours rather than bm25s: postings counted from flat arrays of token keys (see Postings) cost
    a few sorts in numpy, and it spares the query path scipy's import (~0.4 s). Postings are
    compressed rows (term -> documents, term frequencies) in numpy arrays, ~10 bytes a posting.
    The vocabulary is kept as sorted 64-bit string hashes (this process's, like the index), not
    as a dict of strings: 100k files hold a million distinct identifiers and word pairs, ~100
    bytes each as dict entries, 12 here.
    """

    def __init__(self, docs: Iterable[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> None:
        """docs: each document's tokens (small corpora; agent/lexicon.py builds big ones in bulk)."""
        keys = array("q")
        lengths = array("q")
        for doc in docs:
            keys.extend(map(hash, doc))
            lengths.append(len(doc))
        n = len(lengths)
        postings = Postings(n)
        if len(keys):
            owners = np.repeat(np.arange(n, dtype=np.int32), np.frombuffer(lengths, dtype=np.int64))
            postings.add(np.frombuffer(keys, dtype=np.int64), owners, 0, n)
        self._load(*postings.sorted(), postings.lengths, k1, b)

    @classmethod
    def from_postings(
        cls,
        keys: np.ndarray,
        docs: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> BM25:
        """From postings (each a term key, a document and the term's count there) sorted by
        term, then document; lengths: tokens per document."""
        self = cls.__new__(cls)
        self._load(keys, docs, tf, lengths, k1, b)
        return self

    def _load(
        self, keys: np.ndarray, docs: np.ndarray, tf: np.ndarray, lengths: np.ndarray, k1: float, b: float
    ) -> None:
        self.n = len(lengths)
        self.k1 = k1
        self.norm = _norm(lengths, k1, b)
        starts = np.flatnonzero(np.diff(keys)) + 1  # where each term's postings start
        starts = np.concatenate(([0], starts)) if len(keys) else starts
        self._keys = keys[starts]
        self._start = np.append(starts, len(keys)).astype(np.int64)
        self._docs = docs.astype(np.int32, copy=False)
        self._tf = tf.astype(np.float32)

    def _term(self, term: str) -> int | None:
        h = hash(term)
        i = int(np.searchsorted(self._keys, h))
        return i if i < len(self._keys) and self._keys[i] == h else None

    def _hit(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        t = self._term(term)
        if t is None:
            return None
        lo, hi = self._start[t], self._start[t + 1]
        return self._docs[lo:hi], self._tf[lo:hi]

    def df(self, term: str) -> int:
        t = self._term(term)
        return 0 if t is None else int(self._start[t + 1] - self._start[t])

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in dict.fromkeys(tokens):
            hit = self._hit(term)
            if hit is None:
                continue
            idx, tf = hit
            idf = math.log(1 + (self.n - len(idx) + 0.5) / (len(idx) + 0.5))
            out[idx] += idf * tf * (self.k1 + 1) / (tf + self.norm[idx])
        return out

    def rank(self, tokens: Sequence[str]) -> list[int]:
        s = self.scores(tokens)
        hits = np.flatnonzero(s > 0)
        return hits[np.argsort(-s[hits], kind="stable")].tolist()


class Postings:
    """BM25 postings gathered in bulk: terms as 64-bit hashes, documents numbered in order.

    Each `add` takes every token of a run of documents at once (flat arrays: a term key and a
    document number per token) and counts them with sorts in numpy, where a Counter and a dict
    lookup per document cost Python for every document. Runs come in document order.
    """

    def __init__(self, n: int) -> None:
        self.lengths = np.zeros(n, dtype=np.int32)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, keys: np.ndarray, docs: np.ndarray, lo: int, hi: int) -> None:
        """keys[i] occurs once in document docs[i] (lo <= docs[i] < hi); documents before lo are done."""
        self.lengths[lo:hi] += np.bincount(docs - lo, minlength=hi - lo).astype(np.int32)
        if not len(keys):
            return
        order = np.lexsort((docs, keys))  # by term, then document
        k, d = keys[order], docs[order]
        del order
        first = np.ones(len(k), dtype=bool)  # where a (term, document) pair starts
        first[1:] = (k[1:] != k[:-1]) | (d[1:] != d[:-1])
        at = np.flatnonzero(first)
        self._parts.append((k[at], d[at].astype(np.int32), np.diff(np.append(at, len(k))).astype(np.int32)))

    def build(self, k1: float = 1.5, b: float = 0.75) -> BM25:
        return BM25.from_postings(*self.sorted(), self.lengths, k1, b)

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every run's postings (term keys, documents, counts) together, by term, then document."""
        parts, self._parts = self._parts, []
        if not parts:
            none = np.zeros(0, dtype=np.int64)
            return none, none.astype(np.int32), none.astype(np.int32)
        keys = np.concatenate([p[0] for p in parts])
        docs = np.concatenate([p[1] for p in parts])
        tf = np.concatenate([p[2] for p in parts])
        del parts
        # Runs come in document order and each is sorted by (term, document): a stable sort by
        # term keeps every term's documents in order.
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        docs = docs[order]
        tf = tf[order]
        del order
        return keys, docs, tf
