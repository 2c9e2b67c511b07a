"""Okapi BM25 with postings in numpy arrays (the words, paths and phrases of agent/retrieval/ranking.py)."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence

import numpy as np

# After a burst of big arrays glibc raises its thresholds and keeps tens of MB of freed heap
# resident, and the next phase of an index build grows on top of it: on a 100k-file folder the
# build peaked ~17 MB higher without handing it back.
from tools.runtime import release_memory


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
        """docs: each document's tokens (small corpora; agent/retrieval/lexicon.py builds big ones in bulk)."""
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
        self._load(*postings.rows(), postings.lengths, k1, b)

    @classmethod
    def from_rows(
        cls,
        keys: np.ndarray,
        start: np.ndarray,
        docs: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> BM25:
        """From postings rows: term keys (sorted, distinct), where each term's postings start
        (len(keys) + 1 offsets), the postings' documents (in order within a term) and counts
        there; lengths: tokens per document."""
        self = cls.__new__(cls)
        self._load(keys, start, docs, tf, lengths, k1, b)
        return self

    def _load(
        self,
        keys: np.ndarray,
        start: np.ndarray,
        docs: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
        k1: float,
        b: float,
    ) -> None:
        self.n = len(lengths)
        self.k1 = k1
        self.norm = _norm(lengths, k1, b)
        self._keys = keys
        self._start = start
        self._docs = docs
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
    lookup per document cost Python for every document. Runs come in document order. A run is
    kept as its distinct terms with their numbers of postings, and each posting as a document
    and a count (8 bytes); `rows` places each run's postings after the earlier runs' of the
    same term, with no sort of all postings.
    """

    def __init__(self, n: int) -> None:
        self.lengths = np.zeros(n, dtype=np.int32)
        self._terms: list[np.ndarray] = []  # each run's distinct term keys, sorted
        self._sizes: list[np.ndarray] = []  # and how many postings each has in the run
        self._docs: list[np.ndarray] = []  # each run's postings by term, then document
        self._tf: list[np.ndarray] = []

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
        self._docs.append(d[at].astype(np.int32))
        self._tf.append(np.diff(np.append(at, len(k))).astype(np.int32))
        k = k[at]
        new = np.flatnonzero(k[1:] != k[:-1]) + 1  # where each term's postings start
        self._terms.append(k[np.concatenate(([0], new))])
        self._sizes.append(np.diff(np.concatenate(([0], new, [len(k)]))).astype(np.int32))

    def build(self, k1: float = 1.5, b: float = 0.75) -> BM25:
        return BM25.from_rows(*self.rows(), self.lengths, k1, b)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every run's postings together: (term keys, term starts, documents, counts), by term, then document."""
        keys = np.unique(np.concatenate(self._terms)) if self._terms else np.zeros(0, dtype=np.int64)
        ids = [np.searchsorted(keys, t) for t in self._terms]  # each run's terms by position in keys
        self._terms.clear()
        start = np.zeros(len(keys) + 1, dtype=np.int64)
        for t, n in zip(ids, self._sizes, strict=True):
            start[t + 1] += n
        np.cumsum(start, out=start)
        # Each run's postings go after the earlier runs' of the same term: runs come in document
        # order, so every term's documents stay in order (no sort of all postings).
        docs = np.empty(int(start[-1]), dtype=np.int32)
        tf = np.empty(int(start[-1]), dtype=np.int32)
        fill = start[:-1].copy()  # where each term's next postings go
        for t, n in zip(ids, self._sizes, strict=True):
            at = ranges(fill[t], n)
            docs[at] = self._docs.pop(0)
            tf[at] = self._tf.pop(0)
            fill[t] += n
        self._sizes.clear()
        release_memory()  # the runs' arrays, now copied
        return keys, start, docs, tf


def ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The positions start[i], ..., start[i] + length[i] - 1, range after range, as one array."""
    total = int(length.sum())
    before = np.cumsum(length) - length  # where each range begins in the output
    return np.repeat(start - before, length) + np.arange(total, dtype=np.int64)
