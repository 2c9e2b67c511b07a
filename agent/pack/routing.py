"""Routing and the pack step, shared by the graph and the direct pack path.

route: pack everything when it fits the window (minus the reserve), otherwise select with
retrieval; Self-Route starts from a quarter of the room and widens on "cannot answer".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec

from agent.events import EventSink, Notice
from agent.isolation import file_faults
from agent.pack.packing import build_pack, frame_tokens
from agent.safety.screening import safety_report
from agent.settings import Settings
from agent.state import Document, Omitted, Pack
from agent.tokens import TokenCounter

P = ParamSpec("P")


def available_tokens(settings: Settings, model_window: int) -> int:
    """Tokens the pack may use: the window less the reserve (it scales with the window), capped by --budget."""
    window = settings.window or model_window
    avail = max(min(1024, window // 2), window - settings.reserve_for(window))
    return min(avail, settings.budget) if settings.budget else avail


def choose_route(
    mode: str, gathered: int, available: int, *, unbounded: bool = False
) -> tuple[str, int | None]:
    """Pick the route and the token budget for the first pack."""
    if unbounded:
        return "full", None
    if mode == "full":
        return "full", available
    if mode == "select":
        return "select", available
    if mode == "self":
        return "select", min(available, max(4096, available // 4))
    return ("full", available) if gathered <= available else ("select", available)


def route_reason(
    mode: str, route: str, gathered: int, available: int, budget: int | None, *, unbounded: bool = False
) -> str:
    """One line on why choose_route chose what it did (shown in --json and the progress)."""
    if unbounded:
        return "no budget: everything gathered is packed"
    if mode == "full":
        return f"--route full: everything that fits {available:,} tokens, in document order"
    if mode == "select":
        return f"--route select: retrieval picks what fits {available:,} tokens"
    if mode == "self":
        return (
            f"Self-Route: a selection of {budget or 0:,} tokens first; "
            "widened only if the model says it cannot answer from it"
        )
    if route == "full":
        return f"gathered {gathered:,} tokens fit the {available:,} available"
    return f"gathered {gathered:,} tokens exceed the {available:,} available: retrieval selects"


def select_documents(
    documents: list[Document],
    question: str,
    budget: int,
    *,
    settings: Settings,
    counter: TokenCounter,
    fmt: str = "markdown",
) -> tuple[list[Document], str | None]:
    """Retrieval: the chunks most relevant to the question that fit, in document order.

    With the fidelity ladder on, the chunks take most of the room and the next files by rank
    fill the rest as outlines, then a path list (agent/pack/ladder.py). Room those two rungs do not
    use (a small corpus has a short path list and few outlines) goes back to the selection, so
    the pack still fills its budget.
    """
    from agent.pack import ladder  # heavy imports (numpy, the ranking index) only when selecting
    from agent.retrieval import select as retrieval
    from agent.retrieval.excerpts import excerpt_room
    from agent.retrieval.units import UNIT_TOKENS, unit_room
    from tools.runtime import release_memory

    # Leave room for block headers, fences and the question around the selected text.
    room = max(256, int(budget * 0.95) - counter(question) - 64)
    full_room = int(room * ladder.FULL_SHARE) if settings.ladder else room
    # Ranked for the whole room: how the ladder splits it decides what is shown, not the order.
    ranking = retrieval.rank(
        documents, question, room, settings=settings, count_tokens=counter,
        chunk_tokens=retrieval.chunk_target(room),
    )  # fmt: skip
    release_memory()  # what indexing freed (token lists, sort buffers), before packing

    def selected(text_room: int) -> retrieval.Selection:
        if not settings.ladder:
            return retrieval.fill(ranking, text_room, counter)
        return retrieval.fill(
            ranking, text_room, counter, excerpt_room=excerpt_room(text_room), unit_room=unit_room(text_room),
            unit_tokens=UNIT_TOKENS,
        )  # fmt: skip

    def framed(blocks: Sequence[Document]) -> int:
        return sum(d.tokens + frame_tokens(d, fmt, counter) for d in blocks)

    def lower_rungs(selection: retrieval.Selection) -> tuple[list[Document], int]:
        """Outlines and the path list in the room the selection leaves, and what they leave unused."""
        left = room - framed(selection.documents)
        rest = ladder.lower_rungs(documents, selection.documents, selection.ranked_uris, left, counter)
        return rest, left - framed(rest)

    selection = selected(full_room)
    if not settings.ladder or selection.kept_tokens >= selection.gathered_tokens:
        return selection.documents, selection.notice
    rest, spare = lower_rungs(selection)
    if spare > max(32, room // 50):  # the selection takes what the outlines and paths leave
        selection = selected(min(room, full_room + spare))
        if selection.kept_tokens >= selection.gathered_tokens:
            return selection.documents, selection.notice
        rest, _ = lower_rungs(selection)
    return selection.documents + rest, selection.notice


def _warns_of_file_faults(
    pack_fn: Callable[P, tuple[Pack, str | None]],
) -> Callable[P, tuple[Pack, str | None]]:
    """Run a pack builder collecting the files that fail a step; the pack's manifest lists them."""

    @functools.wraps(pack_fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> tuple[Pack, str | None]:
        with file_faults() as warnings:
            pack, notice = pack_fn(*args, **kwargs)
        pack.warnings = warnings
        return pack, notice

    return run


@_warns_of_file_faults
def pack_documents(
    documents: Sequence[Document],
    question: str,
    *,
    settings: Settings,
    counter: TokenCounter,
    route: str,
    budget: int | None,
    fmt: str = "markdown",
    with_question: bool = True,
    on_event: EventSink | None = None,
) -> tuple[Pack, str | None]:
    """Select (when routed so), then pack under the budget. Returns the pack and any notice.

    A file that fails a step (chunking, outlining, excerpting) goes plainer; the manifest's
    warnings say which and why (agent/isolation.py).
    """
    docs = list(documents)
    gathered = sum(d.tokens for d in docs)
    notice = None
    left_out: list[Omitted] = []
    if route == "select" and budget is not None:
        if on_event is not None:
            on_event(
                Notice(
                    text=f"selecting {budget:,} of {gathered:,} tokens: chunking, indexing and ranking "
                    "(embedding chunks seen for the first time takes a while on a CPU; `forage index` does it ahead)"
                )
            )
        selected, notice = select_documents(
            docs, question, budget, settings=settings, counter=counter, fmt=fmt
        )
        left_out = _not_selected(
            docs, [d for d in selected if d.meta.get("fidelity", "full") in ("full", "excerpt")]
        )
        docs = selected
    pack = build_pack(
        docs,
        question if with_question else "",
        query=question,
        count_tokens=counter,
        exact_tokens=counter.exact,
        budget=budget,
        fmt=fmt,
        route="self" if settings.route == "self" else route,
        gathered_tokens=gathered,
    )
    pack.omitted = left_out + pack.omitted
    pack.safety = safety_report(pack_blocks(pack, docs), documents, redact=settings.redact)
    return pack, notice


def pack_blocks(pack: Pack, docs: Sequence[Document]) -> list[Document]:
    """The documents behind a pack's blocks, in block order."""
    by_id = {d.id: d for d in docs}
    return [by_id[b.doc_id] for b in pack.manifest if b.doc_id in by_id]


_OMITTED_FIELDS = set(Omitted.model_fields)


def _not_selected(gathered: Sequence[Document], selected: Sequence[Document]) -> list[Omitted]:
    """What retrieval left out: whole documents, or the share of a document it did not keep."""
    kept: dict[str, int] = {}
    for block in selected:
        kept[block.uri] = kept.get(block.uri, 0) + block.tokens
    total: dict[str, int] = {}
    for doc in gathered:
        total[doc.uri] = total.get(doc.uri, 0) + doc.tokens
    out = []
    for uri, tokens in total.items():
        have = kept.get(uri, 0)
        if have == 0:
            # model_construct: a 100k-file corpus leaves ~100k of these, from our own counts
            # (all fields given: they share one fields set, as agent/gather/documents.py explains)
            out.append(
                Omitted.model_construct(
                    _fields_set=_OMITTED_FIELDS,
                    uri=uri, tokens=tokens, reason="not selected (less relevant to the question)",
                )
            )  # fmt: skip
        elif have < tokens:
            out.append(
                Omitted(
                    uri=uri, tokens=tokens - have, reason=f"partly selected: {have} of {tokens} tokens kept"
                )
            )
    return out
