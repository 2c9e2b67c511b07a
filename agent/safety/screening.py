"""Screening gathered text before it can leave the machine, and the safety report of a pack.

Every document is screened once, when it is gathered (agent path and direct pack path alike),
so the pack, the search index, the planner's view of past calls, --json output and the
model's context cache all hold the screened text:
- invisible characters are dropped (tools.html.invisible.strip_invisible); text a page or PDF hid
  from its reader was already dropped by its reader and arrives in ``meta["hidden"]``;
- secrets become [REDACTED:kind] (tools.screening.secrets), unless redaction is off (--no-redact);
- untrusted text (web, PDF, third-party tools) that addresses the assistant is flagged.
What was done is kept in ``meta["safety"]`` and summed up per pack by `safety_report`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from agent.safety.envelope import has_lookalike
from agent.state import Document, Redaction, SafetyFlag, SafetyReport, Span
from tools.html.invisible import HiddenText, strip_invisible
from tools.screening.injection import find_injections

# Invisible characters that hide or reorder text wherever they are: tag characters spell
# messages a model reads, bidi controls reorder code (Trojan Source).
_SMUGGLING = re.compile("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]")

MAX_REPORTED = 200  # entries per report: past that, the counts still say how many


def screen_text(
    text: str, *, uri: str, trusted: bool, redact: bool, path: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Screen one text; return it and what was done ({"redactions", "flags", "invisible"})."""
    done: dict[str, Any] = {}
    # Every invisible character is outside ASCII: most source files are done in one C pass.
    if not text.isascii():
        invisible = HiddenText()
        raw, text = text, strip_invisible(text, invisible)
        # In the user's own files zero-width spaces and joiners are typography (dropped, not
        # flagged); tag characters and bidi controls are flagged wherever they are.
        if invisible.count and (not trusted or _SMUGGLING.search(raw)):
            done["invisible"] = invisible.as_meta()
    if redact:
        from tools.screening.secrets import redact as redact_secrets  # detect-secrets: imported when used

        text, found = redact_secrets(text, path or uri)
        if found:
            done["redactions"] = [{"kind": s.kind, "line": s.line} for s in found]
    if not trusted:
        flags = [{"kind": f.kind, "line": f.line, "sample": f.sample} for f in find_injections(text)]
        if has_lookalike(text):  # defused when packed (agent/safety/envelope.py); the user should know
            line = next(i for i, ln in enumerate(text.split("\n"), 1) if has_lookalike(ln))
            flags.append(
                {"kind": "forged_delimiter", "line": line, "sample": text.split("\n")[line - 1][:160]}
            )
        if flags:
            done["flags"] = flags
    return text, done


def screen_entry(entry: dict[str, Any], *, trusted: bool, redact: bool) -> tuple[str, dict[str, Any]]:
    """Screen a tool's document entry; return the text and its meta with ``safety`` (and ``hidden``)."""
    meta = dict(entry.get("meta") or {})
    text, done = screen_text(
        str(entry.get("text") or ""),
        uri=str(entry["uri"]),
        trusted=trusted,
        redact=redact,
        path=meta.get("path"),
    )
    return text, with_safety(meta, done)


def with_safety(meta: dict[str, Any], done: dict[str, Any]) -> dict[str, Any]:
    """Meta with a screening result folded in (invisible characters count as hidden text)."""
    invisible = done.pop("invisible", None)
    if invisible:
        meta["hidden"] = merge_hidden(meta.get("hidden"), invisible)
    hidden = meta.get("hidden")
    if hidden:
        # Hidden text that speaks to the assistant says why it was hidden: show it.
        sample_text = "\n".join(s.get("text", "") for s in hidden.get("samples") or [])
        hidden_flags = find_injections(sample_text)
        if hidden_flags:
            done["hidden_flags"] = [{"kind": f.kind, "sample": f.sample} for f in hidden_flags]
    if done:  # on top of what earlier pieces of the same document recorded (merge_pieces)
        meta["safety"] = {**(meta.get("safety") or {}), **done}
    return meta


def merge_hidden(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two ``meta["hidden"]`` reports as one."""
    if not a or not b:
        return a or b
    kinds = dict(a.get("kinds") or {})
    for k, v in (b.get("kinds") or {}).items():
        kinds[k] = kinds.get(k, 0) + v
    merged = {
        **a,
        "count": a.get("count", 0) + b.get("count", 0),
        "chars": a.get("chars", 0) + b.get("chars", 0),
        "kinds": kinds,
        "samples": (list(a.get("samples") or []) + list(b.get("samples") or []))[:5],
    }
    return merged


def merge_pieces(earlier: Document, piece: Document) -> dict[str, Any]:
    """Meta for a document read in two replies: the second piece's lines follow the first's."""
    offset = earlier.text.count("\n")
    meta = {**earlier.meta, **piece.meta}
    a, b = earlier.meta.get("safety") or {}, piece.meta.get("safety") or {}
    if a or b:
        safety: dict[str, Any] = {}
        for key in ("redactions", "flags"):
            moved = [{**e, "line": e["line"] + offset} for e in b.get(key, [])]
            if a.get(key) or moved:
                safety[key] = list(a.get(key, [])) + moved
        hidden_flags = list(a.get("hidden_flags", [])) + list(b.get("hidden_flags", []))
        if hidden_flags:
            safety["hidden_flags"] = hidden_flags
        meta["safety"] = safety
    hidden = merge_hidden(earlier.meta.get("hidden"), piece.meta.get("hidden"))
    if hidden:
        meta["hidden"] = hidden
    return meta


def where(uri: str, span: Span, line: int | None = None) -> str:
    """A place a user can open: "app.py:3", "paper.pdf p.2", "https://x/ § Setup"."""
    if span.kind == "lines" and line is not None:
        return f"{uri}:{(span.start or 1) + line - 1}"
    return uri + span.render()


def block_safety(doc: Document) -> dict[str, Any]:
    """The manifest's view of one block: secrets redacted in its text and its flag kinds."""
    safety = doc.meta.get("safety") or {}
    flags = sorted({f["kind"] for f in safety.get("flags", [])})
    if doc.meta.get("hidden"):
        flags.insert(0, "hidden_text")
    # Counted in the block's own text: a chunk holds only some of its document's redactions.
    redactions = doc.text.count("[REDACTED:") if safety.get("redactions") else 0
    return {"redactions": redactions, "flags": flags}


def safety_report(blocks: Sequence[Document], gathered: Iterable[Document], *, redact: bool) -> SafetyReport:
    """What screening did to the documents behind a pack's blocks, one entry per place.

    Line numbers count from the gathered document (a retrieval chunk points to it by id).
    """
    by_id = {d.id: d for d in gathered}
    report = SafetyReport(redact=redact)
    seen: set[tuple[str, str, str]] = set()
    for block in _originals(blocks):
        doc = by_id.get(str(block.meta.get("chunk_of") or block.id), block)
        safety = doc.meta.get("safety") or {}
        span = doc.span
        for r in safety.get("redactions", []):
            place = where(doc.uri, span, r.get("line"))
            if (place, r["kind"], "r") not in seen and len(report.redactions) < MAX_REPORTED:
                seen.add((place, r["kind"], "r"))
                report.redactions.append(Redaction(uri=doc.uri, where=place, kind=r["kind"]))
        hidden = doc.meta.get("hidden")
        page = str(doc.meta.get("final_url") or doc.uri) + (
            f"#p{doc.span.start}" if doc.span.kind == "pages" else ""
        )
        if hidden and (page, "hidden", "h") not in seen:  # a page's report rides on each section
            seen.add((page, "hidden", "h"))
            kinds = ", ".join(f"{k} {v}" for k, v in sorted((hidden.get("kinds") or {}).items()))
            samples = "; ".join(s.get("text", "") for s in (hidden.get("samples") or [])[:2])
            detail = f"{hidden.get('count', 0)} piece(s) dropped ({kinds})" + (
                f": {samples}" if samples else ""
            )
            report.flags.append(
                SafetyFlag(
                    uri=doc.uri,
                    where=where(doc.uri, span),
                    kind="hidden_text",
                    detail=detail[:400],
                    hidden=True,
                )
            )
            for f in safety.get("hidden_flags", []):
                report.flags.append(
                    SafetyFlag(
                        uri=doc.uri,
                        where=where(doc.uri, span),
                        kind=f["kind"],
                        detail=f["sample"],
                        hidden=True,
                    )
                )
        for f in safety.get("flags", []):
            place = where(doc.uri, span, f.get("line"))
            if (place, f["kind"], "f") not in seen and len(report.flags) < MAX_REPORTED:
                seen.add((place, f["kind"], "f"))
                report.flags.append(SafetyFlag(uri=doc.uri, where=place, kind=f["kind"], detail=f["sample"]))
    return report


def _originals(blocks: Iterable[Document]) -> list[Document]:
    """One document per gathered source document: chunks share their document's meta."""
    out: list[Document] = []
    seen: set[str] = set()
    for doc in blocks:
        key = str(doc.meta.get("chunk_of") or doc.id)
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out


def format_report(report: SafetyReport | None) -> list[str]:
    """Plain lines for the CLI and the manifest (empty when there is nothing to say)."""
    if report is None:
        return []
    lines: list[str] = []
    if report.redactions:
        shown = ", ".join(f"{r.where} ({r.kind})" for r in report.redactions[:8])
        more = f" and {len(report.redactions) - 8} more" if len(report.redactions) > 8 else ""
        lines.append(f"redacted {len(report.redactions)} secret(s): {shown}{more}")
    hidden = [f for f in report.flags if f.kind == "hidden_text"]
    if hidden:
        lines.append(
            f"dropped hidden text in {len(hidden)} source(s): "
            + "; ".join(f"{f.where}: {f.detail}" for f in hidden[:3])
        )
    addressed = [f for f in report.flags if f.kind != "hidden_text"]
    if addressed:
        lines.append(
            f"{len(addressed)} passage(s) address the assistant (kept as data, flagged): "
            + "; ".join(
                f"{f.where} [{f.kind}{', hidden' if f.hidden else ''}] {f.detail[:100]}"
                for f in addressed[:3]
            )
        )
    return lines
