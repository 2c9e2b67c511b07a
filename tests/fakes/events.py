"""One sample of every agent event, in a run's order, for the tests that pin how each surface shows them."""

from __future__ import annotations

from typing import Any

from agent.state import Action, BlockEntry, CallResult, Document, Omitted, Pack, Redaction, SafetyReport, Span


def _pack(*, left_out: bool, redacted: bool) -> Pack:
    entry = BlockEntry(block=1, doc_id="d", uri="a.py", span=Span(), hash="h", tokens=1200, trusted=True)
    return Pack(
        prefix="p",
        question_text="q",
        manifest=[entry, entry],
        tokens=2400,
        budget=8000,
        omitted=[Omitted(uri="b.py", tokens=9, reason="budget")] if left_out else [],
        safety=SafetyReport(redactions=[Redaction(uri="a.py", where="a.py:3", kind="aws_key")])
        if redacted
        else None,
    )


_DOC = Document(id="d", uri="/x/a.py", text="t", hash="h", tokens=321)
_READ = Action(
    step=1, tool="read_file", server="files", args={"path": "/x/[a].py"}, status="ok", summary="",
    documents=["d"], tokens_added=321, duration_s=0.25,
)  # fmt: skip
_FAILED = Action(
    step=1, tool="search", server="files", args={"n": 3}, status="error", summary="", duration_s=1.5
)

EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("servers_starting", {"names": ["files", "web"]}),
    ("call_start", {"key": "k1", "tool": "read_file", "args": {"path": "/x/[a].py", "start_line": 5}}),
    ("call_start", {"key": "k2", "tool": "search", "args": {"n": 3, "flag": True}}),
    ("call_progress", {"tool": "read_many", "progress": 3, "total": 10, "message": "reading"}),
    ("call_progress", {"tool": "read_many", "progress": 1, "total": None, "message": ""}),
    (
        "call_done",
        {
            "key": "k1",
            "result": CallResult(
                tool="read_file", server="files", status="ok", text="", documents=[_DOC], duration_s=0.25
            ),
        },
    ),  # fmt: skip
    (
        "call_done",
        {
            "key": "k9",
            "result": CallResult(
                tool="search", server="files", status="error", text="bad [thing]\nmore", duration_s=1.5
            ),
        },
    ),  # fmt: skip
    ("call_end", {"action": _READ, "message": ""}),
    ("call_end", {"action": _FAILED, "message": "bad [thing]"}),
    ("plan", {"step": 1, "calls": ["read_file"]}),
    ("notice", {"text": "line one [b]\nline two"}),
    ("source_failed", {"text": "/missing: no such file [x]"}),
    ("route", {"route": "full", "gathered": 1234, "budget": None, "why": "it fits [all]"}),
    ("route", {"route": "select", "gathered": 50000, "budget": 8000}),
    ("packed", {"pack": _pack(left_out=True, redacted=True), "notice": "trimmed [n]"}),
    ("packed", {"pack": _pack(left_out=False, redacted=False), "notice": None}),
    ("widen", {"route": "select", "budget": 16000, "why": "widened"}),
    ("widen", {"route": None, "budget": None, "why": "not widened: same blocks"}),
    ("answer_start", {"model": "extractive"}),
]
