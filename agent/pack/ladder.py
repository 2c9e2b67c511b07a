"""The fidelity ladder: every gathered file at the best fidelity that fits, decided by rank.

Under a budget smaller than the material, the best-ranked chunks go in full, the next files as
one whole function or class each (agent/retrieval/units.py), the files after them as excerpts;
the next files in rank order go in as outlines (signatures and first docstring lines, as Repomix `--compress` and
aider's repo map show code); every other file is named in a path list grouped by folder. So even
a 4k pack shows where things live. Each block says its fidelity in the manifest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Literal

from agent.gather.documents import content_hash, doc_id
from agent.isolation import isolated
from agent.retrieval.symbols import outline
from agent.state import Document, Span

Fidelity = Literal["full", "excerpt", "outline", "paths"]
FULL_SHARE = 0.85  # of the room: the selected text (chunks in full, then excerpts of the next files)
OUTLINE_SHARE = 0.08  # outlines of the next ring; the rest (and what outlines leave) names paths
PATHS_URI = "forage://other-files"
_MIN_OUTLINE_TOKENS = 12
BLOCK_FRAME = 24  # a block's header and fences in the pack, at most


def fidelity(doc: Document) -> Fidelity:
    return doc.meta.get("fidelity", "full")  # type: ignore[no-any-return]


def outline_document(
    doc: Document, count_tokens: Callable[[str], int], room: int | None = None
) -> Document | None:
    """The outline of one gathered document as a block of its own (None when it has no structure).

    room: cut the outline to its first lines that fit, saying how many definitions it leaves out.
    """
    text = isolated("outlining", doc.uri, "listed by path instead", "", outline, doc)
    if not text:
        return None
    header = "(outline: signatures and first docstring lines; line numbers of the source)\n"
    text = header + text
    if room is not None and count_tokens(text) > room:
        lines = text.splitlines(keepends=True)
        keep, used = [], 8  # the note on what was cut
        for line in lines:
            used += count_tokens(line)
            if used > room:
                break
            keep.append(line)
        if len(keep) < 2:
            return None
        text = "".join(keep) + f"(… {len(lines) - len(keep)} more definitions)\n"
    return Document.model_construct(
        id=doc.id + "#outline", uri=doc.uri, text=text, hash=content_hash(text), span=doc.span.model_copy(),
        title=doc.title, source=doc.source, trusted=doc.trusted, tokens=count_tokens(text),
        fetched_at=doc.fetched_at, meta={"fidelity": "outline", "outline_of": doc.id},
    )  # fmt: skip


def path_list_text(uris: Sequence[str], left: int = 0) -> str:
    """Paths grouped by folder, one folder a line: `src/app/: a.py b.py`."""
    folders: dict[str, list[str]] = defaultdict(list)
    for uri in sorted(set(uris)):
        head, _, name = uri.rpartition("/")
        folders[head + "/" if head else "./"].append(name)
    lines = [f"{folder}: {' '.join(names)}" for folder, names in sorted(folders.items())]
    if left:
        lines.append(f"(and {left:,} more files)")
    return "(other gathered files, not shown above)\n" + "\n".join(lines) + "\n"


def path_list_document(
    ranked_uris: Sequence[str], room: int, count_tokens: Callable[[str], int]
) -> Document | None:
    """A path list of the given files (best ranked first kept) within `room` tokens."""
    if not ranked_uris or room <= 0:
        return None
    keep = list(ranked_uris)
    text = path_list_text(keep)
    # Shrink by halving, then settle: a 100k-file list fits in a few counts, not one per file.
    while keep and count_tokens(text) > room:
        keep = keep[: max(0, min(len(keep) - 1, int(len(keep) * room / max(1, count_tokens(text)) * 0.95)))]
        text = path_list_text(keep, len(ranked_uris) - len(keep))
    if not keep:
        return None
    span = Span(kind="whole")
    return Document.model_construct(
        id=doc_id(PATHS_URI, span), uri=PATHS_URI, text=text, hash=content_hash(text), span=span,
        title="other files", source="file", trusted=True, tokens=count_tokens(text), fetched_at=None,
        meta={"fidelity": "paths", "files": len(keep)},
    )  # fmt: skip


def ranked_files(ranked_uris: Sequence[str], documents: Sequence[Document]) -> list[str]:
    """Every gathered URI once: those retrieval ranked first, in rank order, then the rest by path."""
    seen = dict.fromkeys(ranked_uris)
    gathered = {d.uri for d in documents}
    return [u for u in seen if u in gathered] + sorted(gathered - seen.keys())


def lower_rungs(
    documents: Sequence[Document],
    full: Sequence[Document],
    ranked_uris: Sequence[str],
    room: int,
    count_tokens: Callable[[str], int],
    *,
    outline_share: float | None = None,
) -> list[Document]:
    """Outlines for the next files by rank, then a path list of the rest, within `room` tokens.

    outline_share: of the room, for outlines (default: their share of what the chunks leave).
    """
    if outline_share is None:
        outline_share = OUTLINE_SHARE / (1 - FULL_SHARE)
    shown = {d.uri for d in full}
    order = [u for u in ranked_files(ranked_uris, documents) if u not in shown]
    by_uri: dict[str, list[Document]] = defaultdict(list)
    for d in documents:
        by_uri[d.uri].append(d)
    outlines: list[Document] = []
    used = 0
    outline_room = int(room * outline_share)
    outlined: set[str] = set()
    misses = 0
    for uri in order:
        if outline_room - used < _MIN_OUTLINE_TOKENS or misses >= 20:
            break
        left = outline_room - used - 12 * len(by_uri[uri])  # each block's header
        blocks = [o for o in (outline_document(d, count_tokens, left) for d in by_uri[uri]) if o is not None]
        cost = sum(o.tokens + 12 for o in blocks)
        if not blocks or used + cost > outline_room:
            misses += 1
            continue
        outlines.extend(blocks)
        outlined.add(uri)
        used += cost
    rest = [u for u in order if u not in outlined]
    paths = path_list_document(rest, room - used - BLOCK_FRAME, count_tokens)
    return outlines + ([paths] if paths else [])
