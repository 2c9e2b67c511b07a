"""Damaged local state is set aside with one line naming the loss, and the store starts empty."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest

from agent.damaged import Kept, check_sqlite, count_rows, is_damage, set_aside
from agent.session.store import SessionStore

PAGE = 4096


def _sessions(path: Path, n: int, filler: int = 0) -> None:
    store = SessionStore(path)
    for i in range(n):
        store.touch(f"s{i}", ["/src"])
        store.ask(f"s{i}", "why?")
    with sqlite3.connect(path) as db:  # a second table, after the sessions' pages
        db.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
        db.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(2000),) for _ in range(filler)])


def _overwrite(path: Path, offset: int, size: int = PAGE) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(os.urandom(size))


def _damaged(folder: Path, name: str) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.name.startswith(f"{name}.damaged-") and "-wal" not in p.name
    )


def test_overwritten_header_sets_the_sessions_aside_and_starts_empty(tmp_path: Path, caplog) -> None:
    db = tmp_path / "sessions.sqlite"
    _sessions(db, 3)
    _overwrite(db, 0, 100)
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        store = SessionStore(db)
    assert store.all() == []
    (old,) = _damaged(tmp_path, "sessions.sqlite")
    assert [r.getMessage() for r in caplog.records] == [
        f"the saved chat sessions could not be read; the old file is at {old}"
    ]
    store.touch("new", ["/src"])
    assert [s.id for s in store.all()] == ["new"]


def test_a_damaged_page_elsewhere_is_found_and_the_sessions_are_counted(tmp_path: Path, caplog) -> None:
    db = tmp_path / "sessions.sqlite"
    _sessions(db, 3, filler=40)
    _overwrite(db, db.stat().st_size - 6 * PAGE)  # a page of the filler table: the sessions still count
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        SessionStore(db)
    (old,) = _damaged(tmp_path, "sessions.sqlite")
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("3 saved chat sessions could not be read; the old file is at")
    )
    assert count_rows(old, "SELECT count(*) FROM forage_sessions") == 3  # kept, never deleted


def test_a_sound_file_is_left_alone(tmp_path: Path, caplog) -> None:
    db = tmp_path / "sessions.sqlite"
    _sessions(db, 2, filler=5)
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        assert len(SessionStore(db).all()) == 2
    assert not caplog.records
    assert not _damaged(tmp_path, "sessions.sqlite")


def test_damage_found_mid_run_sets_aside_and_retries_on_a_fresh_file(tmp_path: Path, caplog) -> None:
    db = tmp_path / "sessions.sqlite"
    store = SessionStore(db)  # opened while sound
    _sessions(db, 2)
    _overwrite(db, 0, 100)
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        assert store.all() == []
    assert len(_damaged(tmp_path, "sessions.sqlite")) == 1
    assert len(caplog.records) == 1


def test_busy_or_missing_is_not_damage(tmp_path: Path) -> None:
    assert not check_sqlite(tmp_path / "absent.sqlite", Kept("things", "SELECT 1"))
    assert not is_damage(sqlite3.OperationalError("database is locked"))


def test_set_aside_moves_a_folder_and_never_overwrites_an_earlier_copy(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    for _ in range(2):
        folder.mkdir()
        (folder / "chroma.sqlite3").write_bytes(b"x")
        set_aside(folder, "the index could not be read")
    assert not folder.exists()
    assert len(_damaged(tmp_path, "index")) == 2


def test_kept_words_the_loss() -> None:
    kept = Kept("cached vectors", "SELECT 1", after="they will be computed again")
    assert kept.lost(1204) == "1,204 cached vectors could not be read (they will be computed again)"
    assert kept.lost(None) == "the cached vectors could not be read (they will be computed again)"


@pytest.mark.parametrize("size", [0, 50])
def test_an_empty_or_tiny_file_is_handled(tmp_path: Path, size: int) -> None:
    db = tmp_path / "sessions.sqlite"
    db.write_bytes(os.urandom(size))
    assert SessionStore(db).all() == []
