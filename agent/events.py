"""Agent events in plain words: one line each, for progress notifications (forage mcp)."""

from __future__ import annotations

import json
from typing import Any


class Cancelled(Exception):
    """Raised from an event sink to stop work running in a thread (the caller cancelled)."""


def _args(args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in args.items())
    return shown if len(shown) <= 120 else shown[:117] + "…"


def describe_event(kind: str, data: dict[str, Any]) -> str | None:
    """What an event says, or None for events not worth a progress line."""
    if kind == "servers_starting":
        return f"starting MCP servers: {', '.join(data['names'])}"
    if kind == "call_start":
        return f"calling {data['tool']}({_args(data.get('args') or {})})"
    if kind == "call_progress":
        total = data.get("total")
        count = f" ({data['progress']:g} of {total:g})" if total else ""
        return f"{data['tool']}: {data.get('message') or 'working'}{count}"
    if kind == "call_end":
        action = data["action"]
        what = (
            f"{len(action.documents)} document(s), {action.tokens_added:,} tokens"
            if action.documents
            else action.status
        )
        return f"{action.tool} done: {what} in {action.duration_s:.1f}s"
    if kind in ("notice", "source_failed"):
        return str(data["text"]).splitlines()[0][:300]
    if kind == "route":
        budget = f"{data['budget']:,}" if data.get("budget") else "no limit"
        return f"packing: route {data['route']}, {data['gathered']:,} tokens gathered, budget {budget}"
    if kind == "embedding":
        return f"embedding chunks: {data['done']:,} of {data['total']:,}"
    if kind == "packed":
        pack = data["pack"]
        return f"packed {pack.tokens:,} tokens in {len(pack.manifest)} block(s)"
    if kind == "widen":
        if data.get("route") is None:
            return f"the pack could not answer; {data.get('why', '')}".rstrip("; ")
        return f"the pack could not answer; widening to {data['route']} at {data['budget']:,} tokens"
    if kind == "answer_start":
        return f"answering with {data['model']}"
    return None
