"""gather_context's replies: one page of the last pack, sized to the calling client.

A page is a header line (which page, of how many, the pack's size), a run of the pack's text,
and how to ask for the next page. Pages are cut at block boundaries where possible; joined they
give the pack back exactly, so each block comes once, with its number [n] unchanged, and the
manifest (the pack's end, and the resource forage://pack/last/manifest) stays right. A page's
structured content lists the blocks it holds.

Sizes: with a character limit (the client table, mcp_servers/forage/clients.py) the whole
serialized reply, structured content included, is measured, not estimated; with reply_tokens
the text is counted in tokens, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mcp_types import CallToolResult

from agent.errors import AgentError
from agent.pack.packing import pack_file_parts, paginate, ranked_blocks
from agent.session.workspace import LastPack
from agent.state import Document
from agent.tokens import TokenCounter
from mcp_servers import common
from mcp_servers.forage.clients import ReplyLimit

LAST_MANIFEST = "forage://pack/last/manifest"
_BLOCK_HEAD = {
    "markdown": re.compile(r"^## \[(\d+)\] ", re.M),
    "xml": re.compile(r'^<document index="(\d+)"', re.M),
}
_BLOCKS_END = {  # where the run of blocks ends: the question or the manifest follows
    "markdown": re.compile(r"^(?:# Question|# Manifest)$", re.M),
    "xml": re.compile(r"^</documents>$", re.M),
}
_TOKEN_FRAME = 400  # tokens kept for the header and the next-page line (reply_tokens pages)
_MIN_BODY = 2_000  # characters: a page never holds less text than this
_ALLOWANCE = 2_500  # characters kept for what only some replies carry: the calls made, the key notice


def reply_size(result: CallToolResult) -> int:
    """Characters of the reply as it goes on the wire (content and structured content, JSON)."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True))


def _escaped_len(text: str) -> int:
    """Characters a text takes inside a JSON string (newlines and quotes are escaped)."""
    return len(json.dumps(text, ensure_ascii=False)) - 2


def _pages(text: str, fmt: str, limit: ReplyLimit, frame: int) -> list[str]:
    if limit.chars is None:
        return paginate(text, (limit.tokens or 0) - _TOKEN_FRAME, TokenCounter(), fmt)  # type: ignore[arg-type]
    return paginate(text, max(_MIN_BODY, limit.chars - frame), _escaped_len, fmt)  # type: ignore[arg-type]


def _blocks_on(pages: list[str], fmt: str) -> list[list[int]]:
    """The block numbers each page holds (a block cut across pages is on both)."""
    head = _BLOCK_HEAD.get(fmt)
    out: list[list[int]] = []
    current: int | None = None
    for page in pages:
        found = [int(n) for n in head.findall(page)] if head else []
        starts_inside = bool(head and head.match(page))
        here = ([current] if current is not None and not starts_inside else []) + found
        out.append(here)
        current = found[-1] if found else current
    return out


def _split(text: str, fmt: str) -> tuple[int, int, dict[int, str]] | None:
    """Where the run of blocks starts and ends, and each block's text by number (None for json)."""
    head, end_at = _BLOCK_HEAD.get(fmt), _BLOCKS_END.get(fmt)
    if head is None or end_at is None:
        return None
    starts: list[int] = []
    for m in head.finditer(text):  # a header is a block's only when it has the next number
        if int(m.group(1)) == len(starts) + 1:
            starts.append(m.start())
    if not starts:
        return None
    tail = end_at.search(text, starts[-1])
    end = tail.start() if tail else len(text)
    blocks = {n: text[a:b] for n, (a, b) in enumerate(zip(starts, [*starts[1:], end], strict=True), 1)}
    return starts[0], end, blocks


def rank_order(last: LastPack, blocks: Mapping[int, str]) -> list[int]:
    """Block numbers, most relevant first, ranked as packing ranks what it keeps (on the blocks' text)."""
    entries = {b.block: b for b in last.pack.manifest}
    docs = [
        Document(id=str(n), uri=entries[n].uri, text=text, hash=entries[n].hash, span=entries[n].span,
                 meta={"fidelity": entries[n].fidelity})
        for n, text in blocks.items() if n in entries
    ]  # fmt: skip
    return [int(d.id) for d in ranked_blocks(docs, last.question)]


def in_rank_order(text: str, fmt: str, order: list[int]) -> str:
    """The pack's text with its blocks moved into this order, numbers unchanged (json packs as they are)."""
    split = _split(text, fmt)
    if split is None or not order:
        return text
    start, end, blocks = split
    ranked = [n for n in dict.fromkeys(order) if n in blocks]
    ranked += [n for n in blocks if n not in set(ranked)]
    return text[:start] + "".join(blocks[n] for n in ranked) + text[end:]


_ORDER: list[tuple[Any, list[int]]] = []  # the last pack ranked, and its order: pages 2, 3... rank no more


def _ordered(last: LastPack, text: str) -> str:
    """The text of a pack of several pages with its most relevant blocks first."""
    if _ORDER and _ORDER[0][0] is last.pack:
        order = _ORDER[0][1]
    else:
        split = _split(text, last.fmt)
        order = rank_order(last, split[2]) if split else []
        _ORDER[:] = [(last.pack, order)]
    return in_rank_order(text, last.fmt, order)


def cut(last: LastPack, limit: ReplyLimit) -> list[str]:
    """The pack's text cut into pages, every reply of which fits the limit (the same cut for every call).

    A pack of several pages has its blocks most relevant first, numbers unchanged.
    """
    text = "".join(pack_file_parts(last.pack, last.fmt))
    if len(_pages(text, last.fmt, limit, _ALLOWANCE)) > 1:
        text = _ordered(last, text)
    frame = _ALLOWANCE + 1_500  # characters for all but the pack's text; measured and tightened below
    for _ in range(6):
        pages = _pages(text, last.fmt, limit, frame)
        if limit.chars is None:
            return pages
        blocks = _blocks_on(pages, last.fmt)
        worst = max(
            reply_size(_reply(last, pages, i, blocks[i - 1], [], limit, None))
            for i in range(1, len(pages) + 1)
        )
        if worst + _ALLOWANCE <= limit.chars or limit.chars - frame <= _MIN_BODY:
            return pages
        frame += worst + _ALLOWANCE - limit.chars + 200  # a page's frame was bigger than allowed for
    return pages


def page_reply(
    last: LastPack, page: int, limit: ReplyLimit, calls: list[dict[str, Any]], notice: str | None = None
) -> CallToolResult:
    """One page of a pack, under the client's limit, saying how to ask for the next page."""
    pages = cut(last, limit)
    if page > len(pages):
        return common.error_result(
            AgentError(f"page {page} does not exist: this pack has {len(pages)} page(s); ask for page 1")
        )
    blocks = _blocks_on(pages, last.fmt)[page - 1]
    reply = _reply(last, pages, page, blocks, calls, limit, notice)
    if limit.chars is not None and reply_size(reply) > limit.chars:  # a long list of calls: count them only
        reply = _reply(last, pages, page, blocks, [{"calls": len(calls)}], limit, notice)
    return reply


def _reply(
    last: LastPack, pages: list[str], page: int, blocks: list[int], calls: list[dict[str, Any]],
    limit: ReplyLimit, notice: str | None,
) -> CallToolResult:  # fmt: skip
    pack = last.pack
    budget = f", budget {pack.budget:,}" if pack.budget else ""
    head = (
        f"[forage context: page {page} of {len(pages)}; the pack has {pack.tokens:,} tokens in "
        f"{len(pack.manifest)} block(s){budget}; cite blocks as [n]]\n"
    )
    tail = []
    nxt = None
    if page < len(pages):
        nxt = {"page": page + 1}
        tail.append(
            f"[More: call gather_context again with the same question and sources and page={page + 1} "
            f"(of {len(pages)}).]"
        )
    if last.failures:
        failed = "; ".join(f.splitlines()[0] for f in last.failures)
        tail.append(
            f"[Not gathered: {failed[:1200]}{' …' if len(failed) > 1200 else ''}]"
        )  # inside the margin
    body = (
        (notice + "\n" if notice else "") + head + pages[page - 1] + ("\n" + "\n".join(tail) if tail else "")
    )
    shown = set(blocks) if len(pages) > 1 else {b.block for b in pack.manifest}
    manifest = (
        [{"block": b.block, "uri": b.uri, "span": b.span.model_dump(exclude_none=True), "tokens": b.tokens}
         for b in pack.manifest if b.block in shown]
        if len(shown) <= 200 else None
    )  # fmt: skip
    if limit.text_only:
        return common.result(body)
    return common.result(
        body, page=page, pages=len(pages), tokens=pack.tokens, budget=pack.budget, blocks=len(pack.manifest),
        blocks_here=blocks, route=pack.route, omitted=len(pack.omitted), failures=last.failures[:50],
        calls=calls, next=nxt, manifest=manifest, manifest_resource=LAST_MANIFEST, client=limit.client,
        reply_limit={"chars": limit.chars} if limit.chars else {"tokens": limit.tokens},
        **({"notice": notice} if notice else {}),
    )  # fmt: skip
