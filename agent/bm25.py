"""Okapi BM25 over token lists, with postings in numpy arrays (the words, paths and phrases of agent/ranking.py)."""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import count
from typing import Any

import numpy as np


def _int32(values: array[int]) -> np.ndarray:
    """An `array("i")` as a numpy view (no copy); an empty one as an empty array."""
    return np.frombuffer(values, dtype=np.int32) if len(values) else np.zeros(0, dtype=np.int32)


def _norm(lengths: np.ndarray, k1: float, b: float) -> np.ndarray:
    """Each document's length normalisation, k1 * (1 - b + b * length / mean length)."""
    avg = float(lengths.mean()) if len(lengths) and lengths.any() else 1.0
    return (k1 * (1 - b + b * lengths / avg)).astype(np.float32)


class BM25:
    """Okapi BM25 over token lists (k1 1.5, b 0.75, Lucene's idf), scored with numpy.

    Ours rather than bm25s: building postings from token lists we already have costs one dict
    lookup per token and one sort, and it spares the query path scipy's import (~0.4 s).
    Postings are compressed rows (term -> documents, term frequencies) in numpy arrays: 100k
    chunks of code index in about a second and hold ~10 bytes per posting, where a dict of
    Python lists took several seconds and ~50 bytes.
    """

    def __init__(
        self,
        docs: Iterable[Sequence[str]] | Iterable[Sequence[int]],
        k1: float = 1.5,
        b: float = 0.75,
        *,
        hashed: bool = False,
    ) -> None:
        """docs: each document's tokens, read once and in order (pass a generator, and only one
        document's tokens are alive at a time). hashed: the tokens are given as their `hash()`
        already (strings are looked up by theirs)."""
        ids: defaultdict[Any, int] = defaultdict(count().__next__)  # term -> id, in order of first sight
        terms = array("i")  # each document's distinct term ids, document after document
        freqs = array("i")  # their counts in the document
        lengths = array("i")  # tokens per document
        distinct = array("i")  # distinct terms per document
        for doc in docs:
            counts = Counter(doc)  # in C; keys in order of first occurrence
            lengths.append(len(doc))
            distinct.append(len(counts))
            terms.extend(map(ids.__getitem__, counts))
            freqs.extend(counts.values())
        # The vocabulary is kept as sorted 64-bit string hashes (this process's, like the index),
        # not as a dict of strings: 100k files hold a million distinct identifiers and word pairs,
        # ~100 bytes each as dict entries, 12 here. Hashed before the postings are sorted, so the
        # dict and its strings are gone by then.
        keys = np.fromiter(ids if hashed else map(hash, ids), dtype=np.int64, count=len(ids))
        del ids, counts
        self.n = len(lengths)
        self.k1 = k1
        self.norm = _norm(_int32(lengths), k1, b)
        # Postings by term, then document: a stable sort by term keeps each term's documents in
        # order. Built from per-document counts, the arrays hold one entry per (term, document)
        # pair, never one per token: 100k chunks of code index in ~50 MB less than from token lists.
        term = _int32(terms)
        order = np.argsort(term, kind="stable")
        self._docs = np.repeat(np.arange(self.n, dtype=np.int32), _int32(distinct))[order]
        self._tf = _int32(freqs)[order].astype(np.float32)
        del order
        self._start = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(keys)), out=self._start[1:])
        del term, terms, freqs
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._ids = order.astype(np.int32)

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
        """From postings sorted by term, then document (see Postings): the same index, scores and
        all, as from the documents' token lists."""
        self = cls.__new__(cls)
        self.n = len(lengths)
        self.k1 = k1
        self.norm = _norm(lengths, k1, b)
        starts = np.flatnonzero(np.diff(keys)) + 1 if len(keys) else np.zeros(0, dtype=np.int64)
        if len(keys):
            starts = np.concatenate(([0], starts))
        self._keys = keys[starts]
        self._ids = np.arange(len(starts), dtype=np.int32)
        self._start = np.append(starts, len(keys)).astype(np.int64)
        self._docs = docs.astype(np.int32, copy=False)
        self._tf = tf.astype(np.float32)
        return self

    def _term(self, term: str) -> int | None:
        h = hash(term)
        i = int(np.searchsorted(self._keys, h))
        return int(self._ids[i]) if i < len(self._keys) and self._keys[i] == h else None

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

    Each `add` takes every token occurrence of a run of documents at once (as flat arrays, a
    term key and a document number per occurrence) and counts them with two sorts in numpy,
    instead of a Counter and a dict lookup per document. Runs must come in document order.
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
        if not self._parts:
            empty = np.zeros(0, dtype=np.int64)
            return BM25.from_postings(
                empty, empty.astype(np.int32), empty.astype(np.int32), self.lengths, k1, b
            )
        keys = np.concatenate([p[0] for p in self._parts])
        docs = np.concatenate([p[1] for p in self._parts])
        tf = np.concatenate([p[2] for p in self._parts])
        self._parts.clear()
        # Runs come in document order and each is sorted by (term, document): a stable sort by
        # term keeps every term's documents in order.
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        docs = docs[order]
        tf = tf[order]
        del order
        return BM25.from_postings(keys, docs, tf, self.lengths, k1, b)
