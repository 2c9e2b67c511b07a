"""Checkpoints of chat sessions: a SQLite saver whose serializer revives only our own records."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


def checkpoint_serde() -> Any:
    """A checkpoint serializer that revives only our own state records, nothing else."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agent import state

    allowed = [
        state.Document, state.Span, state.Action, state.ToolCall, state.CallResult, state.Usage,
        state.Pack, state.BlockEntry, state.Omitted, state.Answer, state.Citation, state.ModelTurn,
        state.SafetyReport, state.Redaction, state.SafetyFlag,
    ]  # fmt: skip
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


@contextlib.asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[Any]:
    """A SQLite checkpointer for chat sessions (sessions.sqlite in the data folder)."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    # aiosqlite waits forever on a file it cannot write (a read-only disk): fail first, with the
    # OSError that names the file (the CLI says it in one line).
    path.open("ab").close()
    async with aiosqlite.connect(str(path)) as conn:
        yield AsyncSqliteSaver(conn, serde=checkpoint_serde())
