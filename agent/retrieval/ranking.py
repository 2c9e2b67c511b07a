"""Code-aware ranking of chunks: words, symbols, paths, dense vectors and references, fused with RRF.

Signals, each a ranked list of chunks (fused with weighted reciprocal-rank fusion):
  words    BM25 over code-aware tokens: identifiers are kept whole and split into their parts
           (`FixtureFunctionMarker` -> fixturefunctionmarker, fixture, function, marker), and
           every chunk carries its file's path, so "the JSON provider" meets json/provider.py;
  symbols  names and dotted names in the question reach the chunks that define them;
  paths    files whose path words match the question, each represented by its best chunk;
  phrases  rare adjacent word pairs shared with the question (a full name among near-misses);
  dense    nearest chunks by embedding (when indexed);
  refs     the definitions that the best chunks call or import, those used by more of them
           first (graph-guided expansion).
Then files are ranked: a file stands on its best chunk plus a decayed share of its others, and
each further chunk of a file counts a little less, so a small budget reaches several files
instead of one file's every chunk.
"""

from __future__ import annotations

import bisect
import gc
import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from agent.retrieval.chunking import Chunk
from agent.retrieval.lexicon import STOPWORDS, WORD, code_tokens, index_corpus, word_pairs
from agent.retrieval.priors import file_factors, machine_made, release_notes
from agent.retrieval.symbols import definition_names
from agent.state import Document

RRF_K = 60  # reciprocal-rank fusion's constant: the usual 60 (Cormack et al. 2009)
# An exact rare phrase shared with the question (a full name, a multi-word term) tells an exact
# name from near-misses. At double weight it outvoted the other signals on real code questions
# (SWE-QA pytest and sqlfluff: file recall of the best 5 files 0.62 -> 0.44), so it counts as one.
PHRASE_WEIGHT = 1.0
PHRASE_MAX_DF = 0.05  # a word pair in more than 5% of chunks is boilerplate, not a name or a phrase
SYMBOL_WEIGHT = 1.0
PATH_WEIGHT = 0.5
# Expansion along references. Definitions are ranked by how much the best chunks use them, so
# the list is as sure as the others and counts as one: at 0.5 the definitions that many of the
# best chunks call (the grammar classes a dialect's rules are built from) stayed out of 16k packs.
REF_WEIGHT = 1.0
EXPAND_FROM = 10  # references are followed from this many of the best chunks
SAME_FILE_DECAY = 0.85  # each earlier-ranked chunk of the same file scales a chunk's fused score
REF_MAX_DEFINITIONS = 3  # names defined in more places than this are not followed
# A file's standing: its best chunk's fused score plus this share of its further chunks' scores,
# each further one counting less (a decayed sum).
FILE_REST_WEIGHT = 0.3
FILE_REST_DECAY = 0.8

K = TypeVar("K", bound=Hashable)
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def question_symbols(question: str) -> list[str]:
    """Names in a question that look like code: dotted, snake_case, CamelCase, or in backticks."""
    found: list[str] = []
    ticked = re.findall(r"`([^`]+)`", question)
    for dotted in _DOTTED.findall(question):
        found.extend(dotted.split("."))
    for word in WORD.findall(question):
        if "_" in word.strip("_") or re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]", word) or word.startswith("__"):
            found.append(word)
    for t in ticked:
        found.extend(WORD.findall(t))
    return [w for w in dict.fromkeys(found) if len(w) > 2 and w.lower() not in STOPWORDS]


def _groups(keys: Sequence[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group positions by key (0 <= key < n): positions sorted by key (stable), and where each
    key's run starts (n + 1 offsets). Group k is order[start[k]:start[k + 1]]."""
    key = np.asarray(keys, dtype=np.int32) if len(keys) else np.zeros(0, dtype=np.int32)
    order = np.argsort(key, kind="stable").astype(np.int32)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=start[1:])
    return order, start


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building an index allocates hundreds of thousands of
    objects (word lists, names, sites), and each allocation burst set off collections that walk
    every object of the process (100k documents and chunks): ~0.8 s of the symbol index alone
    on a 100k-file folder. The build makes no reference cycles, so nothing waits to be freed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class _Site:
    """A definition as the symbol index needs it: where (its chunk) and by which names."""

    chunk: int
    name: str
    qualname: str


class CodeIndex:
    """Everything ranking needs about one list of chunks, built once and reused for many questions."""

    def __init__(self, chunks: Sequence[Chunk], documents: Sequence[Document]) -> None:
        with _gc_paused():
            self._build(chunks, documents)

    def _build(self, chunks: Sequence[Chunk], documents: Sequence[Document]) -> None:
        self.chunks = list(chunks)
        docs = {d.id: d for d in documents}
        self.files: list[str] = list(dict.fromkeys(c.uri for c in self.chunks))
        self.notes = release_notes(self.files)  # agent/retrieval/priors.py
        self.machine = machine_made(documents)  # uri -> text
        # Each file's chunks as one slice of a sorted index array, not a list per file.
        number = {u: i for i, u in enumerate(self.files)}
        file_of = np.fromiter(
            map(number.__getitem__, (c.uri for c in self.chunks)), np.int32, len(self.chunks)
        )
        del number
        self._file_chunks, self._file_start = _groups(file_of, len(self.files))
        # words: each chunk's code tokens with its path's first; paths: each file's path tokens;
        # phrases: each chunk's word pairs (as their hashes)
        self.words, self.paths, self.phrases = index_corpus(
            [c.text for c in self.chunks], self.files, file_of
        )
        del file_of
        self.symbols: dict[str, list[_Site]] = defaultdict(list)
        site_chunks: list[int] = []  # the chunk of each site, in the order of site_keys
        site_keys: list[str] = []
        by_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.chunks):
            by_doc[c.doc_id].append(i)
        found = [(doc, idx) for doc_id, idx in by_doc.items() if (doc := docs.get(doc_id)) is not None]
        del by_doc
        last, starts, idx = -1, [], []
        for d, name, qualname, line in definition_names([doc for doc, _ in found]):
            if d != last:  # the first line of each of the document's chunks
                doc, idx = found[d]
                starts = [doc.text.count("\n", 0, self.chunks[i].start_char) + 1 for i in idx]
                last = d
            pos = bisect.bisect_right(starts, line) - 1
            if pos < 0:
                continue
            ci = idx[pos]
            key = name.lower()
            key = name if key == name else key  # most names are lower case: one string, not two
            self.symbols[key].append(_Site(ci, name, qualname))
            site_chunks.append(ci)
            site_keys.append(key)
        # chunk -> the names it defines, as slices of the site keys sorted by chunk (a tuple per
        # chunk cost ~100 bytes; 100k files define ~100k names)
        order, self._defined_start = _groups(site_chunks, len(self.chunks))
        self._defined_keys = [site_keys[i] for i in order.tolist()]

    def file_chunks(self, file: int) -> list[int]:
        """The chunks of the file numbered `file` (in self.files), in order."""
        return self._file_chunks[self._file_start[file] : self._file_start[file + 1]].tolist()

    def defined_in(self, chunk: int) -> list[str]:
        """The (lower-cased) names a chunk defines."""
        return self._defined_keys[self._defined_start[chunk] : self._defined_start[chunk + 1]]

    def term_weights(self, question: str) -> dict[str, float]:
        """The question's word tokens that occur in the corpus, each weighed by its rarity (idf)."""
        n = self.words.n
        out = {}
        for t in dict.fromkeys(code_tokens(question)):
            df = self.words.df(t)
            if df:
                out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    # ------------------------------------------------------------ the signals

    def by_symbols(self, question: str) -> list[int]:
        """Chunks defining names the question mentions: rarer names first, dotted matches above all."""
        names = question_symbols(question)
        if not names:
            return []
        dotted = {tuple(p.lower() for p in m.split(".")) for m in _DOTTED.findall(question)}
        score: dict[int, float] = defaultdict(float)
        for name in names:
            sites = self.symbols.get(name.lower(), [])
            if not sites:
                continue
            specificity = 1.0 / math.log2(
                1 + len(sites)
            )  # a name defined once says more than one defined 40 times
            for site in sites:
                bonus = 0.0
                qual = tuple(p.lower() for p in site.qualname.split("."))
                if any(len(q) > 1 and qual[-len(q) :] == q for q in dotted):
                    bonus = 1.0
                if site.name == name:  # same case: `Node` the class, not `node` the variable
                    bonus += 0.25
                score[site.chunk] += specificity + bonus
        return sorted(score, key=lambda i: (-score[i], i))

    def by_phrases(self, question: str) -> list[int]:
        """Chunks sharing rare adjacent word pairs with the question: exact names among look-alikes."""
        limit = max(1, int(PHRASE_MAX_DF * self.phrases.n))
        return self.phrases.rank([p for p in word_pairs(question) if self.phrases.df(p) <= limit])

    def by_paths(self, question: str, word_scores: np.ndarray) -> list[int]:
        """Files whose path words match the question, each as its chunk that best matches the question."""
        out = []
        for f in self.paths.rank(code_tokens(question)):
            idx = self.file_chunks(f)
            out.append(max(idx, key=lambda i: (word_scores[i], -i)))
        return out

    def references(
        self, sources: Sequence[int], limit: int = 60, weights: Sequence[float] | None = None
    ) -> list[int]:
        """Chunks defining what the given chunks use (calls, attributes, imports), most used first.

        A definition scores the weight of each source that uses its name, shared among the
        name's definitions: what several of the best chunks call outranks what one mentions.
        """
        score: dict[int, float] = defaultdict(float)
        own = set(sources)
        for n, ci in enumerate(sources):
            weight = 1.0 if weights is None else weights[n]
            used = {w.lower() for w in WORD.findall(self.chunks[ci].text) if len(w) > 3}
            used.difference_update(self.defined_in(ci))
            for name in sorted(used):  # a fixed order: float sums, so ties, must not depend on hash seeds
                sites = self.symbols.get(name)
                if not sites or len(sites) > REF_MAX_DEFINITIONS:
                    continue  # a name defined in many places says little about which one is meant
                share = weight / len(sites)
                for site in sites:
                    if site.chunk not in own:
                        score[site.chunk] += share
        return sorted(score, key=lambda i: (-score[i], i))[:limit]

    def rank(
        self, question: str, *, dense: Sequence[int] = (), extra: Sequence[tuple[Sequence[int], float]] = ()
    ) -> list[int]:
        """Chunk indices, best first: fused signals, expanded along references, diversified by file."""
        qtokens = code_tokens(question)
        word_scores = self.words.scores(qtokens)
        hits = np.flatnonzero(word_scores > 0)
        words = hits[np.argsort(-word_scores[hits], kind="stable")].tolist()
        lists: list[tuple[Sequence[int], float]] = [
            (words, 1.0),
            (self.by_symbols(question), SYMBOL_WEIGHT),
            (self.by_paths(question, word_scores), PATH_WEIGHT),
            (self.by_phrases(question), PHRASE_WEIGHT),
            *extra,
        ]
        if dense:
            lists.append((dense, 1.0))
        best = list(fuse(lists).items())[:EXPAND_FROM]
        refs = self.references([i for i, _ in best], weights=[s for _, s in best])
        lists.append((refs, REF_WEIGHT))
        return diversify(
            fuse(lists), [c.uri for c in self.chunks], file_factors(self.notes, question, self.machine)
        )


def fuse(lists: Sequence[tuple[Sequence[K], float]], k: int = RRF_K) -> dict[K, float]:
    """Fuse (ranking, weight) pairs by weighted reciprocal rank; scores best first (ties: first seen)."""
    score: dict[K, float] = {}
    for ranking, weight in lists:
        for rank, key in enumerate(ranking):
            score[key] = score.get(key, 0.0) + weight / (k + rank + 1)
    return dict(sorted(score.items(), key=lambda kv: -kv[1]))


def diversify(
    scores: dict[int, float], uri_of: Sequence[str], factors: dict[str, float] | None = None
) -> list[int]:
    """Re-rank by file: a file stands on its best chunk plus a share of its others' scores.

    Evidence spread over several chunks of one file (a module whose functions each match a
    part of the question) lifts that file above one with a single lucky chunk. Within the
    order, each further chunk of a file counts a little less, so a small budget reaches
    several files instead of one file's every chunk. factors: files whose every chunk's score is
    scaled (release notes, machine-made files: agent/retrieval/priors.py).
    """
    factors = factors or {}
    seen: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    standing: dict[str, float] = {}
    adjusted: dict[int, float] = {}
    for key, s in scores.items():  # best first
        uri = uri_of[key]
        s *= factors.get(uri, 1.0)
        n = seen[uri]
        if n == 0:
            first[uri] = key
            standing[uri] = s
        else:
            standing[uri] += FILE_REST_WEIGHT * s * FILE_REST_DECAY ** (n - 1)
        adjusted[key] = s * SAME_FILE_DECAY**n
        seen[uri] = n + 1
    for uri, key in first.items():
        adjusted[key] = standing[uri]
    return sorted(adjusted, key=lambda key: -adjusted[key])
