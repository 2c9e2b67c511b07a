"""History compaction: keep what the planner sees of past calls inside a share of the window.

When the observations (tool results as the planner sees them) pass `compact_at` of the window,
the oldest are replaced by a reference to the corpus documents they added plus a one-line
summary. Only observations change: the model's own turns (and Gemini's thought signatures on
them) are replayed untouched, the full Actions stay in the history, and every document stays
in the corpus, so nothing gathered is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from agent.state import Action


def action_id(action: Action) -> str:
    """A stable key for one call of the history: its step and its place in that step's turn."""
    return f"{action.step}:{action.call_index}"


def compact_observation(action: Action) -> str:
    """The short form of an observation: what the call was, and where its material now lives."""
    parts = [f"{action.tool} -> {action.status} (compacted: older result shortened to save room)."]
    if action.documents:
        shown = ", ".join(action.documents[:6]) + (" …" if len(action.documents) > 6 else "")
        parts.append(
            f"It added {len(action.documents)} document(s), {action.tokens_added} tokens, "
            f"all kept in the corpus for the answer: {shown}."
        )
    nxt = (action.hints or {}).get("next")
    if nxt:
        parts.append(f"More is available: call {action.tool} with {json.dumps(nxt)}.")
    return " ".join(parts)


def observation_size(
    history: Sequence[Action], compacted: Mapping[str, str], count: Callable[[str], int]
) -> int:
    """Tokens the planner sees of past calls, compacted ones counted in their short form."""
    return sum(count(compacted.get(action_id(a), a.summary)) for a in history)


def plan_compaction(
    history: Sequence[Action],
    compacted: Mapping[str, str],
    *,
    limit: int,
    count: Callable[[str], int],
    keep_step: int,
) -> dict[str, str]:
    """The observations to compact (id -> short form) so the history fits `limit` again.

    Nothing happens under the limit. Over it, the oldest observations are compacted until the
    history is down to half the limit (so compaction does not run again at every step); the
    calls of `keep_step`, the step just observed, are kept whole for the planner's next move.
    """
    total = observation_size(history, compacted, count)
    if total <= limit:
        return {}
    target = limit // 2
    new: dict[str, str] = {}
    for action in history:
        if total <= target:
            break
        key = action_id(action)
        if action.step >= keep_step or key in compacted:
            continue
        short = compact_observation(action)
        saved = count(action.summary) - count(short)
        if saved <= 0:
            continue
        new[key] = short
        total -= saved
    return new
