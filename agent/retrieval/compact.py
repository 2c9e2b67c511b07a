"""Compaction: more evidence in the same tokens, the code itself untouched.

A block shown in full under a small budget spends part of its tokens on what does not carry the
question: whole-line comments away from the lines that hold the question's terms, runs of blank
lines, and long runs of data (a list of 300 keywords, a table of literals). Compaction leaves
those out of a code block. It keeps every line of code, every docstring, documentation comments
(`#:`, `///`), and the comments between the first and the last line holding a question term
(the matched span), and says what it left out: the block's `compacted` note reaches the manifest
and the block's header, so neither a reader nor a model counts lines across the gaps.

Strings are tracked across lines (Python's triple quotes; C-family block comments and backtick
strings), so nothing inside a string is taken for a comment. A run of data lines keeps its first
and last lines and one line that says how many were left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from agent.gather.documents import content_hash
from agent.isolation import isolated
from agent.retrieval.lexicon import line_terms
from agent.state import Document

# The whole-line comment of each language compaction reads; others are left as they are.
_HASH = "#"
_SLASHES = "//"
COMMENT = {
    ".py": _HASH, ".pyi": _HASH,
    **dict.fromkeys(
        (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".c", ".h", ".cc", ".cpp", ".hpp",
         ".cs", ".go", ".rs", ".kt", ".swift", ".scala", ".php", ".dart"),
        _SLASHES,
    ),
}  # fmt: skip
DATA_RUN = 12  # a run of at least this many data lines is shortened
DATA_KEEP_HEAD, DATA_KEEP_TAIL = 3, 2  # lines kept at each end of a shortened run
_MAX_DATA_WORD = 48  # a line inside a string is data when it is one short word (a keyword list)

# Line states: where a line starts.
CODE, TRIPLE_DQ, TRIPLE_SQ, BLOCK, BACKTICK = range(5)
_OPENS = {'"""': TRIPLE_DQ, "'''": TRIPLE_SQ, "/*": BLOCK, "`": BACKTICK}
_CLOSES = {TRIPLE_DQ: '"""', TRIPLE_SQ: "'''", BLOCK: "*/", BACKTICK: "`"}
_PY_TOKENS = re.compile(r"\"\"\"|'''|#|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_C_TOKENS = re.compile(r"/\*|//|`|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_STRING = re.compile(r"[rbuRBUfF]{0,2}(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_LITERAL_WORD = re.compile(r"-?\d[\w.]*|\b(?:None|True|False|null|true|false|nil)\b")
_PUNCTUATION_ONLY = re.compile(r"[\s,:;()\[\]{}+-]*")


@dataclass(frozen=True)
class Compacted:
    """A block's text after compaction, and what was left out of it."""

    text: str
    comments: int = 0  # whole-line comments left out
    blanks: int = 0  # blank lines left out (runs of blank lines become one)
    data: int = 0  # lines of long data runs left out

    @property
    def note(self) -> str:
        """What was left out, in words ('' when nothing was)."""
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.comments, "comment lines"), (self.data, "data lines"), (self.blanks, "blank lines"),
            )
            if n
        ]  # fmt: skip
        return "left out " + ", ".join(parts) if parts else ""


def comment_marker(uri: str) -> str | None:
    """The whole-line comment of the uri's language, if compaction reads that language."""
    return COMMENT.get(PurePosixPath(uri.split("#", 1)[0]).suffix.lower())


@dataclass(frozen=True)
class LineFacts:
    """What compaction needs to know of each line of a document, whatever the question."""

    states: tuple[int, ...]  # the state the line starts in: CODE, or inside a string or block comment
    comment: tuple[bool, ...]  # a whole-line comment (not a documentation comment)
    data: tuple[bool, ...]  # only data: literals, or one short word inside a string


@lru_cache(maxsize=256)  # the documents of the last few packs; each fact is one small tuple per line
def line_facts(text: str, marker: str) -> LineFacts:
    """Each line's state, and whether it is a comment or data, read once per document."""
    tokens = _PY_TOKENS if marker == _HASH else _C_TOKENS
    lines = text.split("\n")
    states = []
    state = CODE
    for line in lines:
        states.append(state)
        state = _scan(line, state, tokens)
    return LineFacts(
        states=tuple(states),
        comment=tuple(s == CODE and _is_comment(line, marker) for line, s in zip(lines, states, strict=True)),
        data=tuple(_is_data(line, s) for line, s in zip(lines, states, strict=True)),
    )


def _scan(line: str, state: int, tokens: re.Pattern[str]) -> int:
    """The state after one line that starts in `state`."""
    pos = 0
    while True:
        if state != CODE:
            end = line.find(_CLOSES[state], pos)
            if end < 0:
                return state
            pos, state = end + len(_CLOSES[state]), CODE
        m = tokens.search(line, pos)
        if m is None:
            return CODE
        token = m.group()
        if token in ("#", "//"):
            return CODE  # the rest of the line is a comment
        if token in _OPENS:
            state = _OPENS[token]
        pos = m.end()


def _is_comment(line: str, marker: str) -> bool:
    """A whole-line comment, but not a documentation comment (Sphinx's `#:`, `///`, `//!`) nor a shebang."""
    text = line.lstrip()
    return text.startswith(marker) and not text.startswith(("#:", "#!", "///", "//!"))


def _is_data(line: str, state: int) -> bool:
    """A line that is only data: one short word inside a string, or only literals outside one."""
    text = line.strip()
    if not text:
        return False
    if state in (TRIPLE_DQ, TRIPLE_SQ, BACKTICK):
        return len(text) <= _MAX_DATA_WORD and not any(c.isspace() for c in text)
    if state != CODE:
        return False
    rest, strings = _STRING.subn(" ", text)
    rest, literals = _LITERAL_WORD.subn(" ", rest)
    return bool(strings + literals) and _PUNCTUATION_ONLY.fullmatch(rest) is not None


def compact(
    lines: Sequence[str], facts: LineFacts, first: int, marker: str, asked: Sequence[bool]
) -> Compacted:
    """Lines of code without comments and data away from the question's terms, nor runs of blank lines.

    facts: of the whole document, whose lines from `first` on these are.
    asked: which lines hold a question term. The matched span runs from the first such line to
    the last; comments inside it stay (a comment block reaching into it stays whole), and so
    does any data line holding a term.
    """
    n = len(lines)
    states = facts.states[first : first + n]
    comment = facts.comment[first : first + n]
    is_data = [d and not a for d, a in zip(facts.data[first : first + n], asked, strict=True)]
    matched = [i for i in range(n) if asked[i]]
    span = range(matched[0], matched[-1] + 1) if matched else range(0)
    keep = [True] * n
    comments = blanks = data = 0
    for lo, hi in _runs(comment):  # comment blocks outside the matched span go; one reaching into it stays
        if not (span and lo <= span[-1] and hi > span[0]):
            keep[lo:hi] = [False] * (hi - lo)
            comments += hi - lo
    # A run of data stays inside a string or outside one: its note line is written for one or the other.
    in_string = [state != CODE for state in states]
    long_runs = {}
    for lo, hi in _runs(is_data):
        start = lo
        for k in range(lo + 1, hi + 1):
            if k == hi or in_string[k] != in_string[start]:
                if k - start >= DATA_RUN:
                    long_runs[start] = k
                start = k
    out: list[str] = []
    previous_blank = False
    i = 0
    while i < n:
        if i in long_runs:  # a long run of data: its ends, and one line saying how much was left out
            j = long_runs[i]
            left_out = j - i - DATA_KEEP_HEAD - DATA_KEEP_TAIL
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            note = f"… {left_out} more lines like these (left out by forage)"
            out += [
                *lines[i : i + DATA_KEEP_HEAD],
                indent + (note if states[i] != CODE else f"{marker} {note}"),
            ]
            out += lines[j - DATA_KEEP_TAIL : j]
            data += left_out
            previous_blank = False
            i = j
            continue
        blank = keep[i] and not lines[i].strip() and states[i] == CODE
        if blank and previous_blank:
            blanks += 1
        elif keep[i]:
            out.append(lines[i])
            previous_blank = blank
        i += 1
    if not (comments or blanks or data):
        return Compacted("\n".join(lines))
    return Compacted("\n".join(out), comments=comments, blanks=blanks, data=data)


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """The [start, end) runs of consecutive true flags."""
    out = []
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i))
            start = None
    return out


def compact_span(
    text: str,
    first_line: int,
    lines: Sequence[str],
    uri: str,
    weights: Mapping[str, float],
    asked: Sequence[bool] | None = None,
) -> Compacted:
    """Compaction of `lines`, which are the document `text`'s lines from first_line (0-based) on.

    asked: which lines hold one of the question's terms (weights), if the caller knows already.
    A file compaction fails on is shown as written, and the pack's warnings say so.
    """
    as_written = Compacted("\n".join(lines))
    return isolated(
        "compacting",
        uri,
        "shown as written",
        as_written,
        _compact_span,
        text,
        first_line,
        lines,
        uri,
        weights,
        asked,
    )


def _compact_span(
    text: str,
    first_line: int,
    lines: Sequence[str],
    uri: str,
    weights: Mapping[str, float],
    asked: Sequence[bool] | None,
) -> Compacted:
    marker = comment_marker(uri)
    if marker is None:
        return Compacted("\n".join(lines))
    facts = line_facts(text, marker)
    if first_line + len(lines) > len(facts.states):  # not the document's lines after all: leave them be
        return Compacted("\n".join(lines))
    if asked is None:
        asked = [bool(terms) for terms in line_terms(lines, weights)]
    return compact(lines, facts, first_line, marker, asked)


def compact_block(
    block: Document,
    doc: Document,
    weights: Mapping[str, float],
    count_tokens: Callable[[str], int],
    asked: Sequence[bool] | None = None,
) -> Document:
    """A full block of doc's exact text, compacted; the block itself when nothing is left out.

    asked: which of the block's lines hold a question term, if the caller knows already.
    """
    first = block.meta.get("chars", [0])[0]
    lines = block.text.split("\n")
    done = compact_span(doc.text, doc.text.count("\n", 0, first), lines, block.uri, weights, asked)
    if not done.note:
        return block
    return block.model_copy(
        update={
            "text": done.text,
            "hash": content_hash(done.text),
            "tokens": count_tokens(done.text),
            "meta": {**block.meta, "compacted": done.note},
        }
    )
