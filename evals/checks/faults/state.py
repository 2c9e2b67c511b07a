"""Damaged local state, on the surface that opens it: set aside with one line, rebuilt, never fatal.

Each case writes real state with forage's own stores (or a first real run), damages the file as
a crash mid-write or a bad disk leaves it, runs the CLI again and checks: exit 0, one warning
line naming what was lost and where the old copy is, no traceback, the old copy still there.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

_PAGE = 4096


def overwrite(path: Path, offset: int = 0, size: int = 100) -> None:
    """Damage a file in place: `size` random bytes at `offset` (0: the SQLite header)."""
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(os.urandom(size))


def damaged_copies(folder: Path, name: str) -> list[Path]:
    """The copies set aside for `name` in folder (not their SQLite side files)."""
    return sorted(
        p for p in folder.glob(f"{name}.damaged-*") if not p.name.endswith(("-wal", "-shm", "-journal"))
    )


def warning(stderr: str, *needles: str) -> str:
    """The warning line that says all of needles, or ''."""
    return next((line for line in stderr.splitlines() if all(n in line for n in needles)), "")


def _set_aside(
    tmp: Path, proc: object, folder: Path, name: str, lost: str, kept_words: str, kept_check: bool = True
) -> Outcome:
    copies = damaged_copies(folder, name)
    said = warning(proc.stderr, lost, ".damaged-")  # type: ignore[attr-defined]
    return h.verdict(
        exit_code=proc.returncode, expected=0, message=said, shown=proc.stderr,  # type: ignore[attr-defined]
        data_kept=kept_words, kept=len(copies) == 1 and kept_check and str(copies[0]) in said,
    )  # fmt: skip


@fault("damaged sessions database", "chat")
def damaged_sessions(tmp: Path) -> Outcome:
    from agent.session.store import SessionStore

    db = tmp / "data" / "sessions.sqlite"
    store = SessionStore(db)
    for i in range(3):
        store.touch(f"s{i}", ["/src"])
        store.ask(f"s{i}", "what is the retry delay?")
    with sqlite3.connect(db) as conn:  # pages after the sessions' own (the checkpoints, in real use)
        conn.execute("CREATE TABLE filler (x BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(2000),) for _ in range(40)])
    conn.close()
    overwrite(db, db.stat().st_size - 6 * _PAGE, _PAGE)
    root = h.code_folder(tmp)
    proc = h.run_cli(
        "chat", str(root), "--model", "extractive", "-q", tmp=tmp, input="What is the retry delay?\n"
    )
    copies = damaged_copies(db.parent, db.name)
    kept = bool(copies) and _count(copies[0]) == 3 and "session saved" in proc.stderr
    return _set_aside(
        tmp, proc, db.parent, db.name, "3 saved chat sessions could not be read",
        "the 3 sessions, in sessions.sqlite.damaged-*; the chat went on in a new file", kept,
    )  # fmt: skip


def _count(path: Path) -> int | None:
    from agent.damaged import count_rows

    return count_rows(path, "SELECT count(*) FROM forage_sessions")


def _index_twice(tmp: Path, damage: str, aside: str, lost: str, kept_words: str, after: str) -> Outcome:
    """`forage index` a folder, damage one store, index again: set aside, and `after` said by the run."""
    root = h.code_folder(tmp)
    data = tmp / "data"
    first = h.run_cli("index", str(root), tmp=tmp)
    if first.returncode != 0:
        raise RuntimeError(f"the first forage index failed: {first.stderr[-500:]}")
    overwrite(data / damage)
    proc = h.run_cli("index", str(root), tmp=tmp)
    return _set_aside(tmp, proc, data, aside, lost, kept_words, after in proc.stdout + proc.stderr)


@fault("damaged embeddings cache", "index")
def damaged_embeddings(tmp: Path) -> Outcome:
    return _index_twice(
        tmp, "embeddings.sqlite", "embeddings.sqlite", "cached embedding vectors could not be read",
        "the old cache, in embeddings.sqlite.damaged-*; the index was kept", "indexed 1 documents",
    )  # fmt: skip


@fault("damaged Chroma index", "index")
def damaged_index(tmp: Path) -> Outcome:
    return _index_twice(
        tmp, "index/chroma.sqlite3", "index", "indexed chunk vectors could not be read",
        "the old index folder, as index.damaged-*; rebuilt from the embeddings cache", "1 added",
    )  # fmt: skip


@fault("damaged screened-verdict cache", "pack")
def damaged_verdicts(tmp: Path) -> Outcome:
    root = h.code_folder(tmp)
    first = h.run_cli("pack", str(root), "-q", "retry delay?", "--stdout", tmp=tmp)
    (store,) = (tmp / "data" / "screened").glob("secrets-clean-*.bin")
    with store.open("ab") as f:
        f.write(b"\x01\x02\x03")  # a crash mid-append
    proc = h.run_cli("pack", str(root), "-q", "retry delay?", "--stdout", tmp=tmp)
    same = proc.stdout == first.stdout and "RETRY_DELAY_SECONDS" in proc.stdout
    return _set_aside(
        tmp, proc, store.parent, store.name, "screened-file verdicts could not be read",
        "the old verdicts, in secrets-clean-*.bin.damaged-*; the same pack", same,
    )  # fmt: skip
