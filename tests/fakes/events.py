"""One sample of every agent event, in a run's order, for the tests that pin how each surface shows them."""

from __future__ import annotations

from agent.events import (
    AnswerStart,
    CallDone,
    CallEnd,
    CallProgress,
    CallStart,
    Embedding,
    Event,
    Notice,
    Packed,
    Plan,
    Route,
    ServersStarting,
    SourceFailed,
    Widen,
)
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

EVENTS: list[Event] = [
    ServersStarting(names=("files", "web")),
    CallStart(key="k1", tool="read_file", args={"path": "/x/[a].py", "start_line": 5}),
    CallStart(key="k2", tool="search", args={"n": 3, "flag": True}),
    CallProgress(tool="read_many", progress=3, total=10, message="reading"),
    CallProgress(tool="read_many", progress=1, total=None, message=""),
    CallDone(
        key="k1",
        result=CallResult(
            tool="read_file", server="files", status="ok", text="", documents=[_DOC], duration_s=0.25
        ),
    ),
    CallDone(
        key="k9",
        result=CallResult(
            tool="search", server="files", status="error", text="bad [thing]\nmore", duration_s=1.5
        ),
    ),
    CallEnd(action=_READ, message=""),
    CallEnd(action=_FAILED, message="bad [thing]"),
    Plan(step=1, calls=("read_file",)),
    Notice(text="line one [b]\nline two"),
    SourceFailed(text="/missing: no such file [x]"),
    Route(route="full", gathered=1234, budget=None, why="it fits [all]"),
    Route(route="select", gathered=50000, budget=8000),
    Embedding(done=1200, total=5000),
    Packed(pack=_pack(left_out=True, redacted=True), notice="trimmed [n]"),
    Packed(pack=_pack(left_out=False, redacted=False), notice=None),
    Widen(route="select", budget=16000, why="widened"),
    Widen(route=None, budget=None, why="not widened: same blocks"),
    AnswerStart(model="extractive"),
]
