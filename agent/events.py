"""What a run reports while it works: one small frozen dataclass per event, and its plain line.

Every event carries a `kind` literal that names it, as pydantic-ai's messages do; consumers match
on the types. `describe_event` is the one plain description (forage mcp's progress notifications,
and the CLI lines that say the same thing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, assert_never

from agent.state import Action, CallResult, Pack


class Cancelled(Exception):
    """Raised from an event sink to stop work running in a thread (the caller cancelled)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ServersStarting:
    """The MCP servers a run needs are starting."""

    names: tuple[str, ...]
    kind: Literal["servers_starting"] = "servers_starting"


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """The planner chose its calls for a step."""

    step: int
    calls: tuple[str, ...]
    kind: Literal["plan"] = "plan"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallStart:
    """A tool call began; `key` pairs it with its CallDone (empty outside the graph)."""

    tool: str
    args: dict[str, Any]
    key: str = ""
    kind: Literal["call_start"] = "call_start"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallProgress:
    """A running tool call reported how far it is."""

    tool: str
    progress: float
    total: float | None = None
    message: str = ""
    kind: Literal["call_progress"] = "call_progress"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallDone:
    """A tool call returned, before its documents are kept (the chat's live view shows it at once)."""

    key: str
    result: CallResult
    kind: Literal["call_done"] = "call_done"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallEnd:
    """A tool call's outcome was recorded; `message` is the server's words when it did not succeed."""

    action: Action
    message: str = ""
    kind: Literal["call_end"] = "call_end"


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """Something the user should know (a limit reached, a slow step ahead)."""

    text: str
    kind: Literal["notice"] = "notice"


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceFailed:
    """A source or its server could not be read."""

    text: str
    kind: Literal["source_failed"] = "source_failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """Gathering is over: the route and budget the pack is built with, and why."""

    route: str
    gathered: int
    budget: int | None
    why: str = ""
    kind: Literal["route"] = "route"


@dataclass(frozen=True, kw_only=True, slots=True)
class Embedding:
    """Chunks seen for the first time are being embedded (forage mcp's index tool)."""

    done: int
    total: int
    kind: Literal["embedding"] = "embedding"


@dataclass(frozen=True, kw_only=True, slots=True)
class Packed:
    """A pack was built; `notice` says what selection left out, if anything."""

    pack: Pack
    notice: str | None = None
    kind: Literal["packed"] = "packed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Widen:
    """The model said the pack could not answer: widened to `route` at `budget`, or not (None)."""

    route: str | None
    budget: int | None
    why: str
    kind: Literal["widen"] = "widen"


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerStart:
    """The model starts answering from the pack."""

    model: str
    kind: Literal["answer_start"] = "answer_start"


Event = (
    ServersStarting | Plan | CallStart | CallProgress | CallDone | CallEnd | Notice | SourceFailed
    | Route | Embedding | Packed | Widen | AnswerStart
)  # fmt: skip
EventSink = Callable[[Event], None]


def ignore(event: object) -> None:
    """Drop an event: the sink of a run that nobody watches (agent, eval or benchmark events)."""


def format_budget(budget: int | None) -> str:
    """A token budget as the progress lines say it."""
    return f"{budget:,}" if budget else "no limit"


def _args(args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in args.items())
    return shown if len(shown) <= 120 else shown[:117] + "…"


def describe_event(event: Event) -> str | None:
    """What an event says in one plain line, or None for events not worth a progress line."""
    match event:
        case ServersStarting(names=names):
            return f"starting MCP servers: {', '.join(names)}"
        case CallStart(tool=tool, args=args):
            return f"calling {tool}({_args(args)})"
        case CallProgress(tool=tool, progress=progress, total=total, message=message):
            count = f" ({progress:g} of {total:g})" if total else ""
            return f"{tool}: {message or 'working'}{count}"
        case CallEnd(action=action):
            what = (
                f"{len(action.documents)} document(s), {action.tokens_added:,} tokens"
                if action.documents
                else action.status
            )
            return f"{action.tool} done: {what} in {action.duration_s:.1f}s"
        case Notice(text=text) | SourceFailed(text=text):
            return text.splitlines()[0][:300]
        case Route(route=route, gathered=gathered, budget=budget):
            return f"packing: route {route}, {gathered:,} tokens gathered, budget {format_budget(budget)}"
        case Embedding(done=done, total=total):
            return f"embedding chunks: {done:,} of {total:,}"
        case Packed(pack=pack):
            return f"packed {pack.tokens:,} tokens in {len(pack.manifest)} block(s)"
        case Widen(route=None, why=why):
            return f"the pack could not answer; {why}".rstrip("; ")
        case Widen(route=route, budget=budget):
            return f"the pack could not answer; widening to {route} at {budget:,} tokens"
        case AnswerStart(model=model):
            return f"answering with {model}"
        case CallDone() | Plan():
            return None  # CallEnd says it once the outcome is kept; Plan's calls follow as CallStart
        case _:
            assert_never(event)
