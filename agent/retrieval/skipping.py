"""Which documents are not worth embedding: generated, vendored, minified and data files.

They stay in the corpus (readable, ranked by words, symbols and paths); only their dense
vectors are left out, which is most of the time `forage index` spends on a repository that
carries lockfiles, fixtures written by a tool, or a vendored library. The signals are general
ones, read from the path and the first lines of the text, never from a project's own names:

  vendored   a folder named as vendored code is (vendor/, third_party/, node_modules/, ...)
  lockfile   a dependency lockfile (*.lock, package-lock.json, go.sum, ...)
  generated  a header that says so ("auto-generated", "@generated", "DO NOT EDIT", ...)
  minified   *.min.js / *.min.css, or text that is mostly very long lines
  data       SVG, or a large JSON / CSV / XML / YAML-free data file

`embed_all` (`forage index --embed-all`, setting `embed_all`) turns this off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from agent.retrieval.chunking import Chunk
from agent.state import Document

REASONS = ("vendored", "lockfile", "generated", "minified", "data")
VENDOR_DIRS = frozenset(
    {"vendor", "vendored", "_vendor", "third_party", "third-party", "thirdparty", "node_modules",
     "bower_components", "site-packages", ".venv", "venv"}
)  # fmt: skip
LOCKFILES = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "go.sum", "packages.lock.json"}
)
DATA_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".geojson", ".csv", ".tsv", ".xml"})
DATA_CHARS = 32_000  # a data file this big is a table, not something a question's words describe
LONG_LINE = 500  # characters: a line this long is minified code or encoded data, not prose or code
_HEADER_LINES = 5
_GENERATED = re.compile(
    r"auto-?generated|@generated|\bgenerated (?:by|from|with|automatically)\b|do not edit|don't edit"
    r"|should not be edited",
    re.IGNORECASE,
)


def skip_reason(doc: Document) -> str | None:
    """Why this document is not worth embedding (one of REASONS), or None to embed it."""
    if doc.source == "pdf" or doc.span.kind == "pages":
        return None  # pages of a PDF are what the user asked about
    path = _path(doc.uri)
    name = path.name.lower()
    if any(part.lower() in VENDOR_DIRS for part in path.parts[:-1]):
        return "vendored"
    if name in LOCKFILES or name.endswith(".lock"):
        return "lockfile"
    head = "\n".join(doc.text[:2000].splitlines()[:_HEADER_LINES])
    if _GENERATED.search(head):
        return "generated"
    if name.endswith(".svg") or (path.suffix.lower() in DATA_SUFFIXES and len(doc.text) > DATA_CHARS):
        return "data"
    if name.endswith((".min.js", ".min.css", ".min.mjs")) or _mostly_long_lines(doc.text):
        return "minified"
    return None


def _path(uri: str) -> PurePosixPath:
    parsed = urlparse(uri)
    return PurePosixPath(unquote(parsed.path) if parsed.scheme else uri)


def _mostly_long_lines(text: str) -> bool:
    """Say whether most of the text sits in lines over LONG_LINE characters (minified or encoded)."""
    if len(text) < 4 * LONG_LINE:
        return False
    long = sum(len(line) for line in text.splitlines() if len(line) > LONG_LINE)
    return long > len(text) / 2


@dataclass
class Skipped:
    """What was left out of embedding, by reason: documents, chunks and their uris."""

    chunks: dict[str, int] = field(default_factory=dict)
    uris: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.chunks.values())

    def summary(self) -> str:
        """One line: "not embedded: 812 chunks (generated 700 in 240 files, lockfile 112 in 3 files)"."""
        if not self.total:
            return ""
        parts = [
            f"{reason} {self.chunks[reason]:,} in {len(self.uris[reason]):,} file(s)"
            for reason in REASONS
            if self.chunks.get(reason)
        ]
        return f"not embedded: {self.total:,} chunks ({', '.join(parts)}); --embed-all embeds them too"


def embeddable(
    chunks: Sequence[Chunk], documents: Sequence[Document], *, embed_all: bool = False
) -> tuple[list[Chunk], Skipped]:
    """The chunks worth embedding, and what was left out (nothing with embed_all)."""
    skipped = Skipped()
    if embed_all:
        return list(chunks), skipped
    reasons = {d.id: skip_reason(d) for d in documents}
    keep: list[Chunk] = []
    for c in chunks:
        reason = reasons.get(c.doc_id)
        if reason is None:
            keep.append(c)
            continue
        skipped.chunks[reason] = skipped.chunks.get(reason, 0) + 1
        uris = skipped.uris.setdefault(reason, [])
        if not uris or uris[-1] != c.uri:
            uris.append(c.uri)
    return keep, skipped
