"""What one gathering call leaves behind: its Action, the PDFs it hands on, the next page of a source."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agent.state import Action, Document, ToolCall
from tools.tool_names import ToolName

# Tools that read a whole source page by page (a folder, an office document, a repository):
# following their pages to the end is reading, not planning.
PAGED_TOOLS = frozenset({ToolName.READ_MANY, ToolName.READ_REPO})


def call_key(call: ToolCall) -> str:
    """A call's identity: its tool and its arguments."""
    return call.name + json.dumps(call.args, sort_keys=True, default=str)


def make_action(
    *,
    step: int,
    tool: str,
    server: str,
    args: dict[str, Any],
    status: str,
    added: Sequence[Document],
    duration_s: float,
    summary: str = "",
    tokens: int | None = None,
    hints: dict[str, Any] | None = None,
    call_index: int = 0,
) -> Action:
    """The history's record of one call; tokens: what it added that is new (default: all it read)."""
    return Action(
        step=step, tool=tool, server=server, args=args, status=status,  # type: ignore[arg-type]
        summary=summary, documents=[d.id for d in added],
        tokens_added=sum(d.tokens for d in added) if tokens is None else tokens,
        duration_s=round(duration_s, 3), hints=hints or None, call_index=call_index,
    )  # fmt: skip


def skipped_pdfs(skipped: Iterable[Any] | None) -> list[str]:
    """The PDFs a files read skipped (`skipped` entries with reason "pdf"): read_pdf reads them."""
    return [s["path"] for s in skipped or [] if isinstance(s, dict) and s.get("reason") == "pdf"]


def next_page(call: ToolCall, structured: dict[str, Any]) -> ToolCall | None:
    """The call that reads the next page of a source read, or None when it is read to its end."""
    nxt = structured.get("next")
    if call.name not in PAGED_TOOLS or not isinstance(nxt, dict):
        return None
    return ToolCall(name=call.name, args=dict(nxt))
