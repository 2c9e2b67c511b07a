"""The words of code for lexical ranking, and a corpus's BM25 indexes built from them in bulk.

Tokens: each identifier whole and, when compound, its parts too (`FixtureFunctionMarker` ->
fixturefunctionmarker, fixture, function, marker), no stopwords; word pairs: adjacent words,
neither a stopword (`marta_kowalski`). `index_corpus` builds the words, paths and phrases
indexes of agent/retrieval/ranking.py: every distinct word is tokenized once, and the postings of
thousands of chunks at a time are counted in numpy (flat arrays of token keys with their chunk
numbers), instead of a Counter and a string per token, per pair and per chunk.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate, chain, count, filterfalse, islice

import numpy as np

from agent.retrieval.bm25 import BM25, Postings, ranges
from tools.runtime import release_memory

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have how if in into is it its of on or that the their
    then there these they this to was were what when where which while who why will with would does do
    did can could should you your we our not no so than too very such via using use used""".split()
)


def _norm(word: str) -> str:
    """Lower-case, and fold a plural 's' (fixtures -> fixture), so inflection does not split a term."""
    return _fold(word.lower())


def _fold(w: str) -> str:
    """A lower-case word with a plural 's' folded."""
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def word_pairs(text: str) -> list[str]:
    """Pairs of words that stand next to each other, neither a stopword ("marta_kowalski").

    Words that a stopword separates do not pair ("code for Marta" gives none): a pair is an exact
    name or term, which loose word matches cannot tell apart from near-misses.
    """
    # Lower-cased before matching (one C call, not one per word): the same words, but for the
    # rare non-ASCII letter whose lower case is ASCII (the Kelvin sign), which then joins a word.
    words = WORD.findall(text.lower())
    return [
        f"{a}_{b}"
        for a, b in zip(words, words[1:], strict=False)
        if len(a) > 1 and len(b) > 1 and a not in STOPWORDS and b not in STOPWORDS
    ]


def split_identifier(word: str) -> list[str]:
    """The parts of a snake_case or CamelCase identifier, lower-cased (`HTTPServer_v2` -> http, server, v, 2)."""
    return [p.lower() for piece in word.split("_") for p in _PART.findall(piece)]


def _word_tokens(word: str, lower: str | None = None) -> tuple[str, ...]:
    """One word's BM25 tokens (lower: the word lower-cased, if known); written out, as it runs
    for every distinct word of a corpus."""
    whole = _fold(word.lower() if lower is None else lower)
    if len(whole) < 2 or whole in STOPWORDS:
        return ()
    # split_identifier's parts, matched in the whole word at once: no part spans an underscore
    parts = _PART.findall(word)
    if len(parts) < 2:
        return (whole,)
    out = [whole]
    for part in parts:
        if len(part) > 1:
            p = part.lower()
            if p not in STOPWORDS:
                out.append(_fold(p))
    return tuple(out)


class TokenMemo(dict[str, tuple[str, ...]]):
    """word -> its BM25 tokens, computed on first sight: a corpus repeats its words a lot."""

    def __missing__(self, word: str) -> tuple[str, ...]:
        toks = self[word] = _word_tokens(word)
        return toks


def code_tokens(text: str, memo: TokenMemo | None = None) -> list[str]:
    """Words for BM25: each identifier whole and, when compound, its parts too; no stopwords.

    memo: shared across calls over one corpus (lookups in C; only new words cost Python).
    """
    memo = TokenMemo() if memo is None else memo
    return list(chain.from_iterable(map(memo.__getitem__, WORD.findall(text))))


def line_terms(lines: Sequence[str], terms: Mapping[str, object]) -> list[set[str]]:
    """Which of the terms (a question's, as the keys of a mapping) each line holds, as code tokens."""
    memo = TokenMemo()
    return [set(code_tokens(line, memo)) & terms.keys() for line in lines]


def path_words(uri: str) -> str:
    """A path as words: `src/_pytest/fixtures.py` -> 'src _pytest fixtures py'."""
    return re.sub(r"[/\\.:\-]+", " ", uri.split("?", 1)[0])


# ------------------------------------------------------------ a corpus's indexes, in bulk

_BATCH_DOCS = 8192  # documents tokenized at a time: their words are Python strings until numbered
_BATCH_CHARS = 2_000_000


def _view(values: array[int], dtype: type) -> np.ndarray:
    """An array's items as a numpy view; it must be dropped before the array grows."""
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


class _PairWords:
    """Lower-cased words (the words of word pairs), numbered on first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.pairs = array("b")  # 1 if the word can be half of a pair (not a stopword, not one letter)

    def number(self, words: list[str]) -> np.ndarray:
        new = list(filterfalse(self.ids.__contains__, dict.fromkeys(words)))
        if new:
            self.ids.update(zip(new, range(len(self.words), len(self.words) + len(new)), strict=True))
            self.words.extend(new)
            self.pairs.extend([len(w) > 1 and w not in STOPWORDS for w in new])
        return np.fromiter(map(self.ids.__getitem__, words), dtype=np.int32, count=len(words))


class _Vocabulary:
    """A corpus's distinct words, numbered on first sight, each with its BM25 tokens (as their
    hashes, the keys BM25 looks terms up by) and its lower-cased form as a pair word: Python
    runs once per distinct word, C for every occurrence."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.tokens = array("q")  # every word's token hashes, word after word
        self.ends = array("q")  # where each word's tokens end in self.tokens
        self.lower = array("i")  # each word's lower-cased form, numbered in self.pair_words
        self.pair_words = _PairWords()
        self._seen = 0  # words numbered so far, known or new: the number positions start from

    def number(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every word of the texts by its number, text after text, and how many words each text has."""
        found = list(map(WORD.findall, texts))
        counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        words = list(chain.from_iterable(found))
        del found
        # One dict operation per word: setdefault gives a known word its number and stores a
        # new word's position (numbered from past every number, so the two cannot be confused);
        # new words are then numbered in order of first sight, and their positions mapped.
        known, base = len(self.ends), self._seen
        ids = np.fromiter(map(self.ids.setdefault, words, count(base)), dtype=np.int64, count=len(words))
        self._seen += len(words)
        first = np.flatnonzero(ids == np.arange(base, base + len(words)))  # where each new word first occurs
        if len(first):
            new = [words[i] for i in first.tolist()]
            self.ids.update(zip(new, range(known, known + len(new)), strict=True))
            self._learn(new)
            fresh = ids >= base
            ids[fresh] = known + np.searchsorted(first + base, ids[fresh])
        return ids.astype(np.int32), counts

    def _learn(self, new: list[str]) -> None:
        # a word that is lower case already stands for itself (str.lower makes a copy anyway)
        lower = [w if w == low else low for w, low in zip(new, map(str.lower, new), strict=True)]
        tokens = list(map(_word_tokens, new, lower))
        self.ends.extend(islice(accumulate(map(len, tokens), initial=len(self.tokens)), 1, None))
        self.tokens.extend(map(hash, chain.from_iterable(tokens)))
        self.lower.frombytes(self.pair_words.number(lower).tobytes())

    def expand(self, ids: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The token hashes of numbered words (ids), and how many tokens each text has (its
        words by counts)."""
        ends = _view(self.ends, np.int64)
        stop = ends[ids]
        start = np.where(ids > 0, ends[ids - 1], 0)
        del ends
        tokens = _view(self.tokens, np.int64)
        out = tokens[ranges(start, stop - start)]
        del tokens
        return out, _sums(stop - start, counts)

    def lower_of(self, ids: np.ndarray) -> np.ndarray:
        lower = _view(self.lower, np.int32)
        out = lower[ids]
        del lower
        return out


def _sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """values summed in consecutive groups of counts[i] (empty groups sum to 0)."""
    edges = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
    bounds = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
    return edges[bounds[1:]] - edges[bounds[:-1]]


def _batches(texts: Sequence[str], docs: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs of texts, each of at most `docs` texts or about _BATCH_CHARS characters."""
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    lo = 0
    while lo < len(texts):
        base = int(ends[lo - 1]) if lo else 0
        hi = int(np.searchsorted(ends, base + _BATCH_CHARS, side="right"))
        hi = min(len(texts), lo + docs, max(hi, lo + 1))
        yield lo, hi
        lo = hi


def index_corpus(
    texts: Sequence[str], paths: Sequence[str], path_of: np.ndarray, *, batch: int = _BATCH_DOCS
) -> tuple[BM25, BM25, BM25]:
    """BM25 over each text's tokens with its path's tokens first (path_of: each text's path, by
    position in paths), over each path's tokens, and over each text's word pairs: the same
    indexes as BM25 over `path tokens + code_tokens(text)`, `code_tokens(path_words(path))` and
    `word_pairs(text)`, term for term. batch: texts tokenized at a time (at most)."""
    vocab = _Vocabulary()
    path_index = Postings(len(paths))
    path_tokens: list[np.ndarray] = []  # each path's tokens, path after path
    path_counts: list[np.ndarray] = []
    for lo, hi in _batches(paths, batch):
        ids, counts = vocab.number([path_words(p) for p in paths[lo:hi]])
        tokens, per_path = vocab.expand(ids, counts)
        path_index.add(tokens, np.repeat(np.arange(lo, hi, dtype=np.int32), per_path), lo, hi)
        path_tokens.append(tokens)
        path_counts.append(per_path)
    ptokens = np.concatenate(path_tokens) if path_tokens else np.zeros(0, dtype=np.int64)
    pcounts = np.concatenate(path_counts) if path_counts else np.zeros(0, dtype=np.int64)
    pstarts = np.cumsum(pcounts) - pcounts
    del path_tokens, path_counts
    words = Postings(len(texts))
    phrases = Postings(len(texts))
    for lo, hi in _batches(texts, batch):
        run = texts[lo:hi]
        docs = np.arange(lo, hi, dtype=np.int32)
        ids, counts = vocab.number(run)
        tokens, per_text = vocab.expand(ids, counts)
        own = path_of[lo:hi]
        words.add(
            np.concatenate((ptokens[ranges(pstarts[own], pcounts[own])], tokens)),
            np.concatenate((np.repeat(docs, pcounts[own]), np.repeat(docs, per_text))),
            lo,
            hi,
        )
        del tokens
        pair_keys, pair_docs = _pairs(vocab, run, docs, ids, counts)
        phrases.add(pair_keys, pair_docs, lo, hi)
    del vocab, ptokens, pcounts, pstarts  # every distinct word of the corpus, before the postings are sorted
    release_memory()
    return words.build(), path_index.build(), phrases.build()


def _pairs(
    vocab: _Vocabulary, batch: Sequence[str], docs: np.ndarray, ids: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The word pairs of a batch of texts as `hash(word_pairs(text)[i])`, with their texts' numbers."""
    lower, counts = _lower_words(vocab, batch, ids, counts)
    owner = np.repeat(docs, counts)
    ok = _view(vocab.pair_words.pairs, np.int8)[lower].astype(bool)
    at = np.flatnonzero(ok[:-1] & ok[1:] & (owner[:-1] == owner[1:]))
    codes = (lower[at].astype(np.int64) << 32) | lower[at + 1]
    unique, inverse = np.unique(codes, return_inverse=True)
    words = vocab.pair_words.words
    firsts = map(words.__getitem__, (unique >> 32).tolist())
    seconds = map(words.__getitem__, (unique & 0xFFFFFFFF).tolist())
    # each distinct pair of the batch spelt once, as word_pairs spells it, for its hash
    keys = np.fromiter(map(hash, map("{}_{}".format, firsts, seconds)), dtype=np.int64, count=len(unique))
    return keys[inverse.reshape(-1)], owner[at]


def _lower_words(
    vocab: _Vocabulary, batch: Sequence[str], ids: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The words of `WORD.findall(text.lower())` for each text, numbered as pair words.

    For ASCII text these are the text's words lower-cased (known by word number); other text is
    matched again lower-cased, where a letter such as the Kelvin sign becomes ASCII and joins a word.
    """
    lower = vocab.lower_of(ids)
    odd = [i for i, ascii in enumerate(map(str.isascii, batch)) if not ascii]
    if not odd:
        return lower, counts
    bounds = np.concatenate(([0], np.cumsum(counts)))
    counts = counts.copy()
    pieces, done = [], 0
    for i in odd:
        pieces.append(lower[bounds[done] : bounds[i]])
        again = WORD.findall(batch[i].lower())
        pieces.append(vocab.pair_words.number(again))
        counts[i] = len(again)
        done = i + 1
    pieces.append(lower[bounds[done] :])
    return np.concatenate(pieces), counts
