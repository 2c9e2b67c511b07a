"""The agent's state and the small typed records it holds."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

SpanKind = Literal["lines", "pages", "section", "whole"]


class Span(BaseModel):
    """Where a block sits in its source: lines, pages, or a named section."""

    kind: SpanKind = "whole"
    start: int | None = None
    end: int | None = None
    label: str | None = None  # section heading for web pages

    def render(self) -> str:
        if self.kind == "lines" and self.start is not None:
            return f":{self.start}-{self.end}" if self.end and self.end != self.start else f":{self.start}"
        if self.kind == "pages" and self.start is not None:
            return f" p.{self.start}" if self.end in (None, self.start) else f" pp.{self.start}-{self.end}"
        if self.kind == "section" and self.label:
            return f" § {self.label}"
        return ""


class Document(BaseModel):
    """One piece of gathered material, keyed by URI and content hash."""

    id: str  # stable: derived from uri + span, not random
    uri: str
    text: str
    hash: str  # sha256 of text
    span: Span = Field(default_factory=Span)
    title: str | None = None
    source: Literal["file", "web", "pdf", "mcp"] = "file"
    trusted: bool = True  # False for web pages and third-party servers: packed in an untrusted envelope
    tokens: int = 0
    fetched_at: str | None = None  # ISO time; manifest only, never in the packed prefix
    meta: dict[str, Any] = Field(default_factory=dict)


class Action(BaseModel):
    """One tool call the agent made, as the history shows it."""

    step: int
    tool: str
    server: str
    args: dict[str, Any]
    status: Literal["ok", "error", "timeout", "cancelled", "refused"]  # refused: by the guard, never run
    summary: str  # short text the model sees instead of the full observation
    documents: list[str] = Field(default_factory=list)  # ids of documents this call added
    tokens_added: int = 0
    duration_s: float = 0.0
    hints: dict[str, Any] | None = None  # machine-readable follow-ups (continuation args, PDFs found)
    call_index: int = 0  # position of the call in its step's model turn (ModelTurn.calls)


class CallResult(BaseModel):
    """What one finished tool call returned, saved in the state the moment the call ends.

    Documents are already converted (ids, hashes, token counts); `structured` holds the rest
    of the structured content (continuations, skipped PDFs, crawled pages).
    """

    tool: str
    server: str
    status: Literal["ok", "error", "timeout", "cancelled", "refused"]  # refused: by the guard, never run
    text: str
    documents: list[Document] = Field(default_factory=list)
    structured: dict[str, Any] = Field(default_factory=dict)
    duration_s: float = 0.0


class ToolCall(BaseModel):
    """A call the model asked for."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ModelTurn(BaseModel):
    """What the model said when it planned one step: its calls and, verbatim, its own content.

    `provider` holds the provider's content parts exactly as received (Gemini 3's thought
    signatures ride on them), with the model name that produced them; it is replayed unchanged
    in later planning requests, after a resume too, since it lives in the checkpointed state.
    """

    step: int
    text: str = ""
    calls: list[ToolCall] = Field(default_factory=list)
    provider: dict[str, Any] | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0  # includes thinking tokens (billed as output)
    thinking_tokens: int = 0
    cost_usd: float | None = None
    # False when a reply came from a model with no known price: the cost is then a lower bound.
    cost_known: bool = True

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else (self.cost_usd or 0) + (other.cost_usd or 0)
        )
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            thinking_tokens=self.thinking_tokens + other.thinking_tokens,
            cost_usd=cost,
            cost_known=self.cost_known and other.cost_known,
        )


class BlockEntry(BaseModel):
    """One line of the pack manifest."""

    block: int
    doc_id: str
    uri: str
    span: Span
    hash: str
    tokens: int
    trusted: bool
    fetched_at: str | None = None
    redactions: int = 0  # secrets replaced by [REDACTED:kind] in this block
    flags: list[str] = Field(
        default_factory=list
    )  # safety flags (agent/safety/screening.py), e.g. "hidden_text"
    fidelity: Literal["full", "excerpt", "outline", "paths"] = (
        "full"  # the ladder rung: text, lines, outline or paths
    )
    compacted: str | None = None  # what compaction left out of the block's text (agent/retrieval/compact.py)


class Omitted(BaseModel):
    uri: str
    tokens: int
    reason: str


class Pack(BaseModel):
    """The packed context: a byte-stable prefix of source blocks, then the question."""

    prefix: str
    question_text: str
    manifest: list[BlockEntry]
    omitted: list[Omitted] = Field(default_factory=list)
    tokens: int = 0
    budget: int | None = None
    route: Literal["full", "select", "self"] = "full"
    gathered_tokens: int = 0
    safety: SafetyReport | None = None  # what was redacted, hidden or flagged in these blocks
    warnings: list[str] = Field(
        default_factory=list
    )  # files that failed a step and went plainer (agent/isolation.py)

    @property
    def text(self) -> str:
        return self.prefix + self.question_text


class Redaction(BaseModel):
    """A secret replaced by [REDACTED:kind] before packing."""

    uri: str
    where: str  # "app.py:3", "paper.pdf p.2"
    kind: str


class SafetyFlag(BaseModel):
    """Text hidden from a reader (dropped) or addressed to the assistant (kept, flagged)."""

    uri: str
    where: str
    kind: str  # hidden_text | overrides_instructions | assigns_a_role | addresses_the_assistant | ...
    detail: str  # the words (a short sample), or what was hidden and how
    hidden: bool = False  # True: the text was dropped from the pack


class SafetyReport(BaseModel):
    """What the safety checks did to the blocks of one pack."""

    redact: bool = True  # False under --no-redact
    redactions: list[Redaction] = Field(default_factory=list)
    flags: list[SafetyFlag] = Field(default_factory=list)


class Citation(BaseModel):
    block: int
    uri: str
    span: Span

    def render(self) -> str:
        return f"[{self.block}] {self.uri}{self.span.render()}"


class Answer(BaseModel):
    text: str  # empty when the model said the pack cannot answer (see `missing`)
    citations: list[Citation] = Field(default_factory=list)
    model: str
    extractive: bool = False
    usage: Usage = Field(default_factory=Usage)
    unanswerable: bool = False
    missing: str | None = None  # the model's own line on what the sources lack
    stopped: bool = False  # cut short by the user (Ctrl-C): `text` is what had arrived


def merge_results(old: dict[str, CallResult], new: dict[str, CallResult]) -> dict[str, CallResult]:
    """Reducer for the results of one step's calls, which finish (and are saved) one by one."""
    return {**old, **new}


class AgentState(TypedDict, total=False):
    """LangGraph state. Documents are keyed by id; history only grows."""

    question: str
    sources: list[str]
    plan_request: str  # the first user message of planning (question, sources, suggested calls)
    first_calls: dict[str, str]  # call key -> the source spec it gathers
    want_answer: bool
    unbounded: bool  # pack everything, no budget (forage pack without --budget)
    pack_format: str
    route: str
    budget_now: int
    route_trace: Annotated[list[str], operator.add]
    route_why: Annotated[list[str], operator.add]  # one line per route_trace entry: why that route
    unanswerable: bool
    widened: bool  # Self-Route: the last widen built a different pack (else the refusal stands)
    documents: dict[str, Document]
    history: Annotated[list[Action], operator.add]
    compacted: Annotated[dict[str, str], operator.or_]  # action id -> the short form the planner sees
    turns: Annotated[list[ModelTurn], operator.add]  # the model's planning turns, verbatim
    pending: list[ToolCall]  # the calls of this round: the planner's, or the next pages of its source reads
    paging: list[int]  # in a round of pages: the index of the planner's call each page continues
    results: Annotated[dict[str, CallResult], merge_results]  # this step's finished calls, by index
    gather_only: bool  # a turn that only gathers (the chat's /add): no pack, no answer
    step: int  # counts across the whole session
    turn_start: int  # the step at which the current question started
    done: bool
    failures: list[str]  # one line per source that could not be gathered
    pack: Pack | None
    answer: Answer | None
    usage: Usage
