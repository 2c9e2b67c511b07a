"""What an eval run reports while it works: one frozen dataclass per event (agent events' style)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from agent.events import Notice


@dataclass(frozen=True, kw_only=True, slots=True)
class Planned:
    """How many cases the run will score, and how many finished ones it skips (a resumed run)."""

    total: int
    skipped: int
    kind: Literal["total"] = "total"


@dataclass(frozen=True, kw_only=True, slots=True)
class Generating:
    """A case is being generated (or read back from the run's folder)."""

    suite: str
    size: int
    seed: int
    kind: Literal["case"] = "case"


@dataclass(frozen=True, kw_only=True, slots=True)
class Running:
    """A strategy (or a step before them, in parentheses) starts on a case."""

    suite: str
    size: int
    seed: int
    strategy: str
    kind: Literal["start"] = "start"


@dataclass(frozen=True, kw_only=True, slots=True)
class RowWritten:
    """A scored row was saved (its `error` is set when the case failed)."""

    row: dict[str, Any]
    kind: Literal["row"] = "row"


EvalEvent = Planned | Generating | Running | RowWritten | Notice
EvalSink = Callable[[EvalEvent], None]
