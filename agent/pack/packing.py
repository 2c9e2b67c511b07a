"""Pack builder: order, dedupe, fit the budget, render tagged blocks, list a manifest.

The prefix (every source block) is byte-stable: the same documents give the same bytes,
whatever the question, so providers can cache it. Nothing in it varies between runs: no
timestamps, no random ids. The question comes last.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
from collections.abc import Callable, Sequence

from agent.safety import envelope
from agent.safety.screening import block_safety, format_report
from agent.state import BlockEntry, Document, Omitted, Pack, Span

Format = str  # "markdown" | "xml" | "json"

_LANGS = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".tsx": "tsx", ".jsx": "jsx",
    ".rs": "rust", ".go": "go", ".java": "java", ".c": "c", ".h": "c", ".cpp": "cpp", ".hpp": "cpp",
    ".rb": "ruby", ".php": "php", ".sh": "bash", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml",
    ".json": "json", ".md": "markdown", ".html": "html", ".css": "css", ".sql": "sql", ".kt": "kotlin",
    ".swift": "swift", ".cs": "csharp", ".ini": "ini", ".cfg": "ini", ".txt": "text", ".rst": "rst",
}  # fmt: skip


def sort_key(doc: Document) -> tuple[str, int, str]:
    """Deterministic document order: by URI, then position inside the source."""
    return (doc.uri, doc.span.start or 0, doc.id)


def dedupe(documents: Sequence[Document]) -> tuple[list[Document], list[Omitted]]:
    """Drop documents whose content hash was already seen (first in order wins)."""
    seen: dict[str, str] = {}
    kept: list[Document] = []
    dropped: list[Omitted] = []
    for doc in sorted(documents, key=sort_key):
        if not doc.text.strip():
            continue
        first = seen.get(doc.hash)
        if first is not None:
            dropped.append(Omitted(uri=doc.uri, tokens=doc.tokens, reason=f"duplicate of {first}"))
            continue
        seen[doc.hash] = doc.uri
        kept.append(doc)
    return kept, dropped


def span_label(span: Span) -> str:
    if span.kind == "lines" and span.start is not None:
        return f"lines {span.start}-{span.end or span.start}"
    if span.kind == "pages" and span.start is not None:
        return f"page {span.start}" if span.end in (None, span.start) else f"pages {span.start}-{span.end}"
    if span.kind == "section" and span.label:
        return f"section {span.label}"
    return "whole"


def _fence(text: str) -> str:
    if "```" not in text:  # the common case, checked in C before the regex
        return "```"
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


def _envelope_tag(doc: Document) -> str:
    # Keyed by a secret of this process (agent/safety/envelope.py): content cannot compute its tag.
    return envelope.envelope_tag(doc.text)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _block_parts(n: int, doc: Document, fmt: Format) -> tuple[str, str, str]:
    """A block as (frame before the text, the text, frame after it): joined once, by the caller."""
    text = doc.text if doc.trusted else envelope.neutralise(doc.text)
    if fmt == "xml":
        label = span_label(doc.span)
        body = text.replace("</document>", "<\\/document>") if "</document>" in text else text
        trust = "trusted" if doc.trusted else "untrusted"
        rung = doc.meta.get("fidelity", "full")
        extra = f' fidelity="{rung}"' if rung != "full" else ""
        if doc.meta.get("compacted"):
            extra += f' compacted="{_attr(doc.meta["compacted"])}"'
        head = f'<document index="{n}" uri="{_attr(doc.uri)}" span="{_attr(label)}" trust="{trust}"{extra}>\n'
        if not doc.trusted:
            tag = _envelope_tag(doc)
            return f"{head}<{tag}>\n{envelope.NOTE}\n", body, f"\n</{tag}>\n</document>\n"
        return head, body, "\n</document>\n"
    if doc.source == "pdf":
        lang = "text"
    elif doc.source == "web":
        lang = "markdown"
    else:
        lang = _LANGS.get(os.path.splitext(doc.uri.split("#", 1)[0])[1].lower(), "")
    fence = _fence(text)
    rung = doc.meta.get("fidelity", "full")
    if rung in ("outline", "paths"):
        lang = "text"
    title = f"{doc.uri}{doc.span.render()}" + (f" ({rung})" if rung in ("outline", "excerpt") else "")
    if doc.meta.get("compacted"):
        title += f" (compacted: {doc.meta['compacted']})"
    head = f"## [{n}] {title}\n{fence}{lang}\n"
    tail = f"\n{fence}\n"
    if not doc.trusted:
        tag = _envelope_tag(doc)
        head = f"## [{n}] {title}\n<{tag}>\n{envelope.NOTE}\n{fence}{lang}\n"
        tail = f"\n{fence}\n</{tag}>\n"
    return head, text, tail + "\n"


def render_prefix(blocks: Sequence[Document], fmt: Format) -> str:
    if fmt == "json":
        items = [
            {"block": i, "uri": d.uri, "span": span_label(d.span), "trusted": d.trusted, "text": d.text}
            | ({"fidelity": d.meta["fidelity"]} if d.meta.get("fidelity", "full") != "full" else {})
            | ({"compacted": d.meta["compacted"]} if d.meta.get("compacted") else {})
            for i, d in enumerate(blocks, 1)
        ]
        return json.dumps({"documents": items}, ensure_ascii=False, indent=1) + "\n"
    parts: list[str] = ["<documents>\n" if fmt == "xml" else "# Sources\n\n"]
    for i, d in enumerate(blocks, 1):
        parts.extend(_block_parts(i, d, fmt))
    if fmt == "xml":
        parts.append("</documents>\n")
    return "".join(parts)


def render_question(question: str, fmt: Format) -> str:
    if not question:
        return ""
    ask = (
        f"Based on the documents above, answer this question: {question}\n"
        "Cite the blocks you use as [n]. If the documents do not contain the answer, say so."
    )
    if fmt == "xml":
        return f"<question>\n{ask}\n</question>\n"
    if fmt == "json":
        return json.dumps({"question": ask}, ensure_ascii=False) + "\n"
    return f"# Question\n\n{ask}\n"


def _block_tokens(doc: Document, fmt: Format, count_tokens: Callable[[str], int]) -> int:
    """Tokens of a rendered block: the document's own count plus its frame (header, fences)."""
    return (doc.tokens or count_tokens(doc.text)) + frame_tokens(doc, fmt, count_tokens)


def frame_tokens(doc: Document, fmt: Format, count_tokens: Callable[[str], int]) -> int:
    """Tokens a block's frame (header, fences, envelope) adds to its text in the pack."""
    # Sized from the header alone (fences and envelope have fixed sizes) so the text is not
    # scanned again; the real count of the finished pack settles any difference.
    frame = f"## [0000] {doc.uri}{doc.span.render()} ```markdown ``` "
    if fmt == "xml":
        frame += f'<document index="0000" span="{span_label(doc.span)}" trust="untrusted"></document>'
    if not doc.trusted:
        frame += f"<untrusted-0000000000000000> {envelope.NOTE} </untrusted-0000000000000000>"
    return count_tokens(frame)


def _fill(
    docs: Sequence[Document], ranked: Sequence[Document], cost: dict[str, int], budget: int
) -> list[Document]:
    """Take ranked documents while they fit (skipping ones too big), return them in document order."""
    chosen: set[str] = set()
    used = 0
    for doc in ranked:
        if used + cost[doc.id] <= budget:
            chosen.add(doc.id)
            used += cost[doc.id]
    return [d for d in docs if d.id in chosen]


_RUNG = {"full": 0, "excerpt": 1, "outline": 2, "paths": 3}


def ranked_blocks(docs: Sequence[Document], query: str) -> list[Document]:
    """Blocks in the order they are kept when not all fit: text, outlines, then path lists, each best first.

    So what must go goes in the ladder's order (path lists first, text last); within a rung,
    retrieval's ranking (agent/retrieval/select.py) decides.
    """
    from agent.retrieval.select import rank_documents  # numpy and the ranking index: over budget only

    ranked = rank_documents(docs, query)
    return sorted(ranked, key=lambda d: _RUNG.get(d.meta.get("fidelity", "full"), 0))


def build_pack(
    documents: Sequence[Document],
    question: str,
    *,
    count_tokens: Callable[[str], int],
    budget: int | None = None,
    fmt: Format = "markdown",
    route: str = "full",
    gathered_tokens: int | None = None,
    query: str | None = None,
    exact_tokens: Callable[[str], int] | None = None,
) -> Pack:
    """Pack documents under a hard token budget; say what was left out and why.

    count_tokens sizes blocks (fast, called per block); exact_tokens (default: count_tokens)
    counts the finished pack once, and a refill under the budget is sized with the ratio that
    count revealed, so the budget holds against the model's real count without a recount.
    """
    query = question if query is None else query
    exact = exact_tokens or count_tokens
    docs, omitted = dedupe(documents)
    qtext = render_question(question, fmt)
    cost = {d.id: _block_tokens(d, fmt, count_tokens) for d in docs}
    fixed = count_tokens(render_prefix([], fmt)) + count_tokens(qtext)
    chosen = docs
    ranked: list[Document] = []
    if budget is not None and fixed + sum(cost.values()) > budget:
        ranked = ranked_blocks(docs, query)
        chosen = _fill(docs, ranked, cost, budget - fixed)
    prefix = render_prefix(chosen, fmt)
    qtokens = count_tokens(qtext)
    # One real count per pack (a request when the model counts remotely); the model's cache
    # check reuses it. Refills are sized with the ratio that count revealed, not recounted.
    total = exact(prefix) + qtokens
    if budget is not None and total > budget:
        estimated = fixed + sum(cost[d.id] for d in chosen) - qtokens
        ratio = (total - qtokens) / max(1, estimated)
        scaled = {k: math.ceil(v * ratio) for k, v in cost.items()}
        frame = math.ceil((fixed - qtokens) * ratio)
        ranked = ranked or ranked_blocks(docs, query)
        chosen = _fill(docs, ranked, scaled, int((budget - qtokens - frame) * 0.98))
        prefix = render_prefix(chosen, fmt)
        total = frame + sum(scaled[d.id] for d in chosen) + qtokens
    kept = {d.id for d in chosen}
    for doc in docs:
        if doc.id not in kept:
            omitted.append(
                Omitted(uri=doc.uri + doc.span.render(), tokens=cost[doc.id], reason="over budget")
            )
    manifest = [
        BlockEntry(
            block=i, doc_id=d.id, uri=d.uri, span=d.span, hash=d.hash, tokens=cost[d.id],
            trusted=d.trusted, fetched_at=d.fetched_at, fidelity=d.meta.get("fidelity", "full"),
            compacted=d.meta.get("compacted"), **block_safety(d),
        )
        for i, d in enumerate(chosen, 1)
    ]  # fmt: skip
    return Pack(
        prefix=prefix,
        question_text=qtext,
        manifest=manifest,
        omitted=omitted,
        tokens=total,
        budget=budget,
        route=route,  # type: ignore[arg-type]
        gathered_tokens=gathered_tokens if gathered_tokens is not None else sum(d.tokens for d in documents),
    )


def render_manifest(pack: Pack) -> str:
    """A markdown table of the blocks (deterministic: no fetch times) and what was left out."""
    lines = [
        "# Manifest",
        "",
        "| block | uri | span | fidelity | sha256 | tokens |",
        "|---|---|---|---|---|---|",
    ]
    for b in pack.manifest:
        lines.append(
            f"| {b.block} | {b.uri} | {span_label(b.span)} | {b.fidelity}"
            f"{f' (compacted: {b.compacted})' if b.compacted else ''} | {b.hash[:16]} | {b.tokens} |"
        )
    lines.append("")
    lines.append(
        f"Total: {pack.tokens} tokens" + (f" of a {pack.budget}-token budget" if pack.budget else "")
    )
    if pack.omitted:
        lines += ["", "## Left out", ""]
        lines += [f"- {o.uri} ({o.tokens} tokens): {o.reason}" for o in pack.omitted]
    if pack.warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {w}" for w in pack.warnings]
    lines += render_safety(pack)
    return "\n".join(lines) + "\n"


def render_safety(pack: Pack) -> list[str]:
    """The manifest's safety section: secrets redacted (where), hidden text dropped, flags."""
    report = pack.safety
    if report is None or not (report.redactions or report.flags or not report.redact):
        return []
    lines = ["", "## Safety", ""]
    if not report.redact:
        lines.append("- redaction was OFF (--no-redact): secrets in the sources are packed as they are")
    lines += [f"- {line}" for line in format_report(report)]
    lines += [f"- redacted {r.kind} at {r.where}" for r in report.redactions[:50]]
    lines += [
        f"- {'hidden, dropped' if f.hidden else 'flagged'} {f.kind} at {f.where}: {f.detail[:200]}"
        for f in report.flags[:50]
    ]
    return lines


def _compacted_attr(block: BlockEntry) -> str:
    return f' compacted="{_attr(block.compacted)}"' if block.compacted else ""


def pack_file_parts(pack: Pack, fmt: str) -> list[str]:
    """The pieces a whole pack is written as (forage pack, forage mcp): blocks, question, manifest.

    Pieces, not one string: a pack of a big repository is tens of MB, and joining it again
    would double peak memory.
    """
    if fmt == "json":
        data = json.loads(pack.prefix)
        data["manifest"] = [b.model_dump(exclude_none=True, exclude={"fetched_at"}) for b in pack.manifest]
        data["omitted"] = [o.model_dump() for o in pack.omitted]
        if pack.safety is not None:
            data["safety"] = pack.safety.model_dump()
        if pack.warnings:
            data["warnings"] = pack.warnings
        data["tokens"] = pack.tokens
        return [json.dumps(data, ensure_ascii=False, indent=1), "\n"]
    if fmt == "xml":
        rows = "".join(
            f'  <block index="{b.block}" uri="{_attr(b.uri)}" span="{b.span.kind}:{b.span.start}-{b.span.end}" '
            f'fidelity="{b.fidelity}"{_compacted_attr(b)} sha256="{b.hash}" tokens="{b.tokens}"/>\n'
            for b in pack.manifest
        )
        omitted = "".join(
            f'  <omitted uri="{_attr(o.uri)}" tokens="{o.tokens}" reason="{_attr(o.reason)}"/>\n'
            for o in pack.omitted
        ) + "".join(f"  <warning>{_attr(w)}</warning>\n" for w in pack.warnings)
        safety = (
            "".join(
                f'  <redacted where="{_attr(r.where)}" kind="{r.kind}"/>\n' for r in pack.safety.redactions
            )
            + "".join(
                f'  <flag where="{_attr(f.where)}" kind="{f.kind}" hidden="{str(f.hidden).lower()}">'
                f"{_attr(f.detail)}</flag>\n"
                for f in pack.safety.flags
            )
            if pack.safety is not None
            else ""
        )
        return [
            pack.prefix,
            pack.question_text,
            f'<manifest tokens="{pack.tokens}">\n{rows}{omitted}{safety}</manifest>\n',
        ]
    return [pack.prefix, pack.question_text, "\n", render_manifest(pack)]


# Where a page of a pack may end: before a block, the question or the manifest.
_PAGE_BREAKS = {
    "markdown": re.compile(r"^(?:## \[\d+\] |# Question$|# Manifest$)", re.M),
    "xml": re.compile(r'^(?:<document index="|<question>$|<manifest )', re.M),
    "json": re.compile(r"^ \{$", re.M),
}


def paginate(text: str, page_tokens: int, count_tokens: Callable[[str], int], fmt: Format) -> list[str]:
    """Cut a rendered pack into pages of at most page_tokens, at block boundaries where possible.

    The pages joined give the text back exactly. A block longer than a page is cut at a line end.
    """
    if count_tokens(text) <= page_tokens:
        return [text]
    chars_per_token = len(text) / max(1, count_tokens(text))
    limit = max(400, int(page_tokens * chars_per_token * 0.95))
    breaks = [m.start() for m in _PAGE_BREAKS.get(fmt, _PAGE_BREAKS["markdown"]).finditer(text)]
    pages: list[str] = []
    start = 0
    while start < len(text):
        window = limit
        while True:
            end = _page_end(text, breaks, start, window)
            if end - start <= 400 or count_tokens(text[start:end]) <= page_tokens:
                break
            window = int(window * 0.85)  # denser text than the average: try a shorter page
        pages.append(text[start:end])
        start = end
    return pages


def _page_end(text: str, breaks: list[int], start: int, window: int) -> int:
    end = min(len(text), start + window)
    if end == len(text):
        return end
    i = bisect.bisect_right(breaks, end) - 1
    if i >= 0 and breaks[i] > start + window // 2:
        return breaks[i]
    newline = text.rfind("\n", start + window // 2, end)
    return newline + 1 if newline > start else end
