"""The chat's session index and transcripts: one small SQLite table pair beside the checkpoints.

Checkpoints (LangGraph) hold each session's full state; this index holds what listing and
showing sessions need without loading that state: sources, questions and answers, times.
Reads and writes are a few rows, so plain sqlite3 is used and `forage sessions` stays fast.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agent.damaged import Kept, check_sqlite, mends_damage

# The sessions file also holds the LangGraph checkpoints; a damaged one is set aside whole.
SESSIONS = Kept("saved chat sessions", "SELECT count(*) FROM forage_sessions")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS forage_sessions (
    id TEXT PRIMARY KEY,
    sources TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS forage_turns (
    session_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,
    citations TEXT NOT NULL DEFAULT '[]',
    model TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'asked',
    at REAL NOT NULL,
    PRIMARY KEY (session_id, n)
);
"""


@dataclass
class Turn:
    """One question of a session and what came back."""

    n: int
    question: str
    answer: str | None
    citations: list[str]
    model: str
    status: str  # asked (unfinished) | answered | stopped
    at: float


@dataclass
class SessionInfo:
    id: str
    sources: list[str]
    created: float
    updated: float
    questions: int = 0
    last_question: str | None = None
    turns: list[Turn] = field(default_factory=list)


class SessionStore:
    """The index of chat sessions in the data folder's sessions.sqlite (agent/paths.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        check_sqlite(path, SESSIONS, thorough=True)  # before the chat's checkpointer opens it too

    def close(self) -> None:
        """Nothing to close: each call opens and closes its own connection."""

    def reopen(self) -> None:
        """Nothing to reopen: the next call creates the file afresh."""

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    @mends_damage(SESSIONS)
    def touch(self, session_id: str, sources: list[str]) -> None:
        """Record that a session is in use, with its current sources."""
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO forage_sessions (id, sources, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET sources = excluded.sources, updated = excluded.updated",
                (session_id, json.dumps(sources), now, now),
            )

    @mends_damage(SESSIONS)
    def ask(self, session_id: str, question: str) -> int:
        """Record a question as asked (unfinished until `finish`); return its number."""
        with self._db() as db:
            (n,) = db.execute(
                "SELECT COALESCE(MAX(n), 0) + 1 FROM forage_turns WHERE session_id = ?", (session_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO forage_turns (session_id, n, question, at) VALUES (?, ?, ?, ?)",
                (session_id, n, question, time.time()),
            )
            db.execute("UPDATE forage_sessions SET updated = ? WHERE id = ?", (time.time(), session_id))
        return int(n)

    @mends_damage(SESSIONS)
    def finish(
        self,
        session_id: str,
        n: int,
        *,
        answer: str | None,
        citations: list[str],
        model: str,
        status: str,
    ) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE forage_turns SET answer = ?, citations = ?, model = ?, status = ?, at = ? "
                "WHERE session_id = ? AND n = ?",
                (answer, json.dumps(citations), model, status, time.time(), session_id, n),
            )

    @mends_damage(SESSIONS)
    def unfinished(self, session_id: str) -> int | None:
        """The number of the last question if it was never finished (a killed run)."""
        with self._db() as db:
            row = db.execute(
                "SELECT n, status FROM forage_turns WHERE session_id = ? ORDER BY n DESC LIMIT 1",
                (session_id,),
            ).fetchone()
        return int(row[0]) if row and row[1] == "asked" else None

    @mends_damage(SESSIONS)
    def get(self, session_id: str) -> SessionInfo | None:
        with self._db() as db:
            row = db.execute(
                "SELECT id, sources, created, updated FROM forage_sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None
            turns = [
                Turn(n, q, a, json.loads(c), m, s, at)
                for n, q, a, c, m, s, at in db.execute(
                    "SELECT n, question, answer, citations, model, status, at FROM forage_turns "
                    "WHERE session_id = ? ORDER BY n",
                    (session_id,),
                )
            ]
        last = turns[-1].question if turns else None
        return SessionInfo(row[0], json.loads(row[1]), row[2], row[3], len(turns), last, turns)

    @mends_damage(SESSIONS)
    def all(self) -> list[SessionInfo]:
        """Every session, the most recently used first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT s.id, s.sources, s.created, s.updated, "
                "(SELECT COUNT(*) FROM forage_turns t WHERE t.session_id = s.id), "
                "(SELECT question FROM forage_turns t WHERE t.session_id = s.id ORDER BY n DESC LIMIT 1) "
                "FROM forage_sessions s ORDER BY s.updated DESC"
            ).fetchall()
        return [SessionInfo(i, json.loads(src), c, u, q, last) for i, src, c, u, q, last in rows]

    def last(self) -> str | None:
        """The id of the most recently used session."""
        found = self.all()
        return found[0].id if found else None

    @mends_damage(SESSIONS)
    def remove(self, session_id: str) -> bool:
        with self._db() as db:
            gone = db.execute("DELETE FROM forage_sessions WHERE id = ?", (session_id,)).rowcount
            db.execute("DELETE FROM forage_turns WHERE session_id = ?", (session_id,))
        return bool(gone)
