"""Damaged local state: set a broken file or folder aside, say once what was lost, start empty.

Every store in the data dir (the chat sessions, the embeddings cache, the Chroma index, the
screened-verdict cache) opens through `check_sqlite` or calls `set_aside` itself. A damaged store
is renamed with a `.damaged-YYYYMMDD-HHMMSS` suffix beside the original, never deleted, and one
warning names what was lost and where the old copy is; the caller then starts an empty one.
The warning goes to the `forage.state` logger: the CLI shows it as a warning line, the MCP
servers log it on stderr.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

from agent.errors import AgentError

log = logging.getLogger("forage.state")
P = ParamSpec("P")
R = TypeVar("R")

_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's companions move with their database
_DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def is_damage(exc: BaseException) -> bool:
    """Whether a SQLite error means the file itself is broken (not busy, locked or read-only)."""
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES


def _free_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists() or any(target.with_name(target.name + s).exists() for s in _SIDE_FILES):
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        n += 1
    return target


def set_aside(path: Path, lost: str) -> Path:
    """Rename the damaged `path` (file or folder) out of the way and warn once; return the new path.

    lost: what the user loses, as a clause ("3 saved chat sessions could not be read").
    """
    target = _free_name(path)
    kind = "folder" if path.is_dir() else "file"
    try:
        path.rename(target)
    except OSError as exc:
        raise AgentError(
            f"{lost}, and forage could not move {path} aside ({exc.strerror}); move or delete it, then run again."
        ) from exc
    for side in _SIDE_FILES:
        companion = path.with_name(path.name + side)
        if companion.exists():
            companion.rename(target.with_name(target.name + side))
    log.warning("%s; the old %s is at %s", lost, kind, target)
    return target


def count_rows(path: Path, sql: str) -> int | None:
    """Run a counting query on a database that may be broken; None when it cannot be read."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return int(db.execute(sql).fetchone()[0])
    except (sqlite3.Error, TypeError):
        return None


def _probe(path: Path, thorough: bool) -> None:
    """Read the file's schema (and, if thorough, check every page); raise the SQLite error if broken."""
    with closing(sqlite3.connect(path, timeout=30)) as db:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if thorough:
            verdict = db.execute("PRAGMA quick_check").fetchone()
            if verdict and verdict[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict[0]}")


@dataclass(frozen=True)
class Kept:
    """What a store keeps, in the user's words, and how to count it in a file that may be broken."""

    items: str  # plural noun: "saved chat sessions"
    count_sql: str = ""  # one row, one integer (SQLite stores)
    after: str = ""  # what happens next, for caches: "they will be computed again"

    def lost(self, count: int | None) -> str:
        """The loss as a clause: "3 saved chat sessions could not be read (…)"."""
        said = f"{count:,} {self.items}" if count is not None else f"the {self.items}"
        return f"{said} could not be read" + (f" ({self.after})" if self.after else "")


def check_sqlite(path: Path, kept: Kept, *, thorough: bool = False, aside: Path | None = None) -> bool:
    """Set `path` (or the folder `aside` that holds it) aside if it is not a readable SQLite database.

    Return True if it was. thorough adds `PRAGMA quick_check` (every page: for small, precious
    files such as the sessions).
    """
    if not path.is_file():
        return False
    try:
        _probe(path, thorough)
    except sqlite3.DatabaseError as exc:
        # A failed quick_check raises a plain DatabaseError (no code): that is damage too.
        if not is_damage(exc) and getattr(exc, "sqlite_errorcode", None) is not None:
            raise
        set_aside(aside or path, kept.lost(count_rows(path, kept.count_sql)))
        return True
    return False


@runtime_checkable
class Mendable(Protocol):
    """A store on one SQLite file that can start over empty."""

    path: Path

    def close(self) -> None: ...

    def reopen(self) -> None: ...


def mends_damage(kept: Kept) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a store's method: if SQLite finds the file damaged mid-run, set it aside, reopen empty, retry once."""

    def wrap(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                store = args[0]
                assert isinstance(store, Mendable)
                store.close()  # before the rename, so SQLite's side files move with it
                set_aside(store.path, kept.lost(count_rows(store.path, kept.count_sql)))
                store.reopen()
                return method(*args, **kwargs)

        return run

    return wrap
