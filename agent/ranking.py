"""Code-aware ranking of chunks: words, symbols, paths, dense vectors and references, fused with RRF.

Signals, each a ranked list of chunks (fused with weighted reciprocal-rank fusion):
  words    BM25 over code-aware tokens: identifiers are kept whole and split into their parts
           (`FixtureFunctionMarker` -> fixturefunctionmarker, fixture, function, marker), and
           every chunk carries its file's path, so "the JSON provider" meets json/provider.py;
  symbols  names and dotted names in the question reach the chunks that define them;
  paths    files whose path words match the question, each represented by its best chunk;
  dense    nearest chunks by embedding (when indexed);
  refs     the definitions that the best chunks call or import (graph-guided expansion, at a
           lower weight).
Then a diversity pass: each further chunk of a file already represented counts a little less,
so a small budget reaches several files instead of one file's every chunk.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.chunking import Chunk
from agent.state import Document
from agent.symbols import Definition, definitions

RRF_K = 60
SYMBOL_WEIGHT = 1.0
PATH_WEIGHT = 0.5
REF_WEIGHT = 0.5  # expansion along references: found through a chunk, not through the question
EXPAND_FROM = 10  # references are followed from this many of the best chunks
SAME_FILE_DECAY = 0.85  # each earlier-ranked chunk of the same file scales a chunk's fused score

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_STOP = frozenset(
    """a an and are as at be but by for from has have how if in into is it its of on or that the their
    then there these they this to was were what when where which while who why will with would does do
    did can could should you your we our not no so than too very such via using use used""".split()
)


def _norm(word: str) -> str:
    """Lower-case, and fold a plural 's' (fixtures -> fixture), so inflection does not split a term."""
    w = word.lower()
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


def split_identifier(word: str) -> list[str]:
    """The parts of a snake_case or CamelCase identifier, lower-cased (`HTTPServer_v2` -> http, server, v, 2)."""
    return [p.lower() for piece in word.split("_") for p in _PART.findall(piece)]


def _word_tokens(word: str) -> tuple[str, ...]:
    whole = _norm(word)
    if whole in _STOP or len(whole) < 2:
        return ()
    parts = split_identifier(word)
    if len(parts) < 2:
        return (whole,)
    return (whole, *(_norm(p) for p in parts if len(p) > 1 and p not in _STOP))


def code_tokens(text: str, memo: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Words for BM25: each identifier whole and, when compound, its parts too; no stopwords.

    memo: a word -> tokens map shared across calls (a corpus repeats its words a lot).
    """
    memo = {} if memo is None else memo
    out: list[str] = []
    for word in _WORD.findall(text):
        toks = memo.get(word)
        if toks is None:
            toks = memo[word] = _word_tokens(word)
        out.extend(toks)
    return out


def question_symbols(question: str) -> list[str]:
    """Names in a question that look like code: dotted, snake_case, CamelCase, or in backticks."""
    found: list[str] = []
    ticked = re.findall(r"`([^`]+)`", question)
    for dotted in _DOTTED.findall(question):
        found.extend(dotted.split("."))
    for word in _WORD.findall(question):
        if "_" in word.strip("_") or re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]", word) or word.startswith("__"):
            found.append(word)
    for t in ticked:
        found.extend(_WORD.findall(t))
    return [w for w in dict.fromkeys(found) if len(w) > 2 and w.lower() not in _STOP]


class _BM25:
    """bm25s over token lists we make ourselves (code_tokens), with a shared vocabulary."""

    def __init__(self, docs: Sequence[list[str]]) -> None:
        import bm25s

        self.vocab: dict[str, int] = {"": 0}
        ids = [[self.vocab.setdefault(t, len(self.vocab)) for t in d] or [0] for d in docs]
        self.n = len(docs)
        self.retriever = bm25s.BM25()
        self.retriever.index((ids, self.vocab), show_progress=False)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        q = list(dict.fromkeys(self.vocab[t] for t in tokens if self.vocab.get(t)))
        if not q or not self.n:
            return np.zeros(self.n)
        return self.retriever.get_scores(q)

    def rank(self, tokens: Sequence[str]) -> list[int]:
        s = self.scores(tokens)
        hits = np.flatnonzero(s > 0)
        return hits[np.argsort(-s[hits], kind="stable")].tolist()


@dataclass
class _Site:
    chunk: int
    definition: Definition


class CodeIndex:
    """Everything ranking needs about one list of chunks, built once and reused for many questions."""

    def __init__(self, chunks: Sequence[Chunk], documents: Sequence[Document]) -> None:
        self.chunks = list(chunks)
        docs = {d.id: d for d in documents}
        self.files: list[str] = list(dict.fromkeys(c.uri for c in self.chunks))
        self.file_chunks: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.chunks):
            self.file_chunks[c.uri].append(i)
        memo: dict[str, tuple[str, ...]] = {}
        path_tokens = {u: code_tokens(_path_words(u), memo) for u in self.files}
        self.words = _BM25([path_tokens[c.uri] + code_tokens(c.text, memo) for c in self.chunks])
        self.paths = _BM25([path_tokens[u] for u in self.files])
        self.symbols: dict[str, list[_Site]] = defaultdict(list)
        self.defined_in: list[set[str]] = [set() for _ in self.chunks]
        by_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.chunks):
            by_doc[c.doc_id].append(i)
        for doc_id, idx in by_doc.items():
            doc = docs.get(doc_id)
            if doc is None:
                continue
            starts = [doc.text.count("\n", 0, self.chunks[i].start_char) + 1 for i in idx]
            for d in definitions(doc, fast=True):
                if d.kind == "heading":
                    continue
                pos = bisect.bisect_right(starts, d.line) - 1
                if pos < 0:
                    continue
                ci = idx[pos]
                self.symbols[d.name.lower()].append(_Site(ci, d))
                self.defined_in[ci].add(d.name.lower())

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
                qual = tuple(p.lower() for p in site.definition.qualname.split("."))
                if any(len(q) > 1 and qual[-len(q) :] == q for q in dotted):
                    bonus = 1.0
                if site.definition.name == name:  # same case: `Node` the class, not `node` the variable
                    bonus += 0.25
                score[site.chunk] += specificity + bonus
        return sorted(score, key=lambda i: (-score[i], i))

    def by_paths(self, question: str, word_scores: np.ndarray) -> list[int]:
        """Files whose path words match the question, each as its chunk that best matches the question."""
        out = []
        for f in self.paths.rank(code_tokens(question)):
            idx = self.file_chunks[self.files[f]]
            out.append(max(idx, key=lambda i: (word_scores[i], -i)))
        return out

    def references(self, sources: Sequence[int], limit: int = 60) -> list[int]:
        """Chunks defining what the given chunks use (calls, attributes, imports), in source order."""
        out: list[int] = []
        seen = set(sources)
        for ci in sources:
            used = {w.lower() for w in _WORD.findall(self.chunks[ci].text) if len(w) > 3}
            used -= self.defined_in[ci]
            # The rarer a name, the more it says: follow names with few definitions first.
            named = sorted(
                (n for n in used if 0 < len(self.symbols.get(n, ())) <= 3), key=lambda n: len(self.symbols[n])
            )
            for n in named:
                for site in self.symbols[n]:
                    if site.chunk not in seen:
                        seen.add(site.chunk)
                        out.append(site.chunk)
            if len(out) >= limit:
                break
        return out[:limit]

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
            *extra,
        ]
        if dense:
            lists.append((dense, 1.0))
        first = fuse(lists)
        lists.append((self.references(list(first)[:EXPAND_FROM]), REF_WEIGHT))
        return diversify(fuse(lists), [self.chunks[i].uri for i in range(len(self.chunks))])


def _path_words(uri: str) -> str:
    """A path as words: `src/_pytest/fixtures.py` -> 'src _pytest fixtures py'."""
    return re.sub(r"[/\\.:\-]+", " ", uri.split("?", 1)[0])


def fuse(lists: Sequence[tuple[Sequence[int], float]], k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal-rank fusion; returns scores in best-first order (ties: first seen)."""
    score: dict[int, float] = {}
    for ranking, weight in lists:
        for rank, key in enumerate(ranking):
            score[key] = score.get(key, 0.0) + weight / (k + rank + 1)
    return dict(sorted(score.items(), key=lambda kv: -kv[1]))


def diversify(scores: dict[int, float], uri_of: Sequence[str]) -> list[int]:
    """Re-rank so each further chunk of an already-represented file counts a little less."""
    seen: dict[str, int] = defaultdict(int)
    adjusted: dict[int, float] = {}
    for key, s in scores.items():  # best first
        uri = uri_of[key]
        adjusted[key] = s * SAME_FILE_DECAY ** seen[uri]
        seen[uri] += 1
    return sorted(adjusted, key=lambda key: -adjusted[key])
