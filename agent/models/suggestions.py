"""Suggested calls in a plan request: written by the graph's prompt, read back by the offline planner."""

from __future__ import annotations

import json
from typing import Any

from agent.state import ToolCall

SUGGESTED_MARK = "Suggested calls (JSON):"


def suggestion_lines(calls: list[dict[str, Any]]) -> list[str]:
    """The lines that end a plan request: the mark, then the calls as one line of JSON."""
    return ["", SUGGESTED_MARK, json.dumps(calls, ensure_ascii=False)]


def suggested_calls(text: str) -> list[ToolCall]:
    """Read the suggested calls back from a plan request."""
    idx = text.find(SUGGESTED_MARK)
    if idx < 0:
        return []
    raw = text[idx + len(SUGGESTED_MARK) :].strip().splitlines()[0]
    return [ToolCall.model_validate(c) for c in json.loads(raw)]
