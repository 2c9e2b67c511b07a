"""tools.files.disk_readers: files read ahead by threads once reads are slow, handed over in order."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tools.errors import TooLarge, ToolError
from tools.files import disk_readers as ra
from tools.files.walk import UNMEASURED, Entry, walk
from tools.roots import Roots


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for n in range(700):
        (tmp_path / f"m{n:04d}.py").write_text(f"VALUE = {n}\n")
    (tmp_path / "m0300.py").write_text("x" * (ra.KEEP_BYTES + 1))  # read by the caller
    (tmp_path / "m0400.py").write_text("y" * 200_000)  # over the limit below
    (tmp_path / "m0500.pdf").write_bytes(b"%PDF-1.4\n")  # never opened here
    os.mkfifo(tmp_path / "m0650.fifo")  # not a regular file: refused, not waited on
    return tmp_path


def _entries(folder: Path) -> list[Entry]:
    files = walk(Roots.of([str(folder)]), folder, sizes=False).files  # the walk skips the FIFO
    return [*files[:600], Entry(str(folder / "m0650.fifo"), "m0650.fifo", UNMEASURED), *files[600:]]


def _readers() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("forage-read") and t.is_alive()}


@pytest.mark.parametrize("slow_read", [1e9, 0.0], ids=["in-the-caller", "threads"])
def test_every_file_comes_back_in_order_with_its_bytes_or_why_not(folder: Path, slow_read: float) -> None:
    entries = _entries(folder)
    got, readers = [], set()
    for outcome in ra.read_ahead(entries, 100_000, slow_read=slow_read):
        got.append(outcome)
        readers |= _readers()
    assert len(got) == len(entries)
    by_name = {e.display: g for e, g in zip(entries, got, strict=True)}
    assert by_name["m0001.py"] == b"VALUE = 1\n" and by_name["m0699.py"] == b"VALUE = 699\n"
    assert by_name["m0300.py"] is None  # bigger than KEEP_BYTES: the caller reads it
    assert isinstance(by_name["m0400.py"], TooLarge)
    assert by_name["m0500.pdf"] is None
    fifo = by_name["m0650.fifo"]
    assert isinstance(fifo, ToolError) and "not a regular file" in str(fifo)
    assert bool(readers) == (slow_read == 0.0)  # threads only once two blocks were slow


def test_closing_early_stops_the_readers(folder: Path) -> None:
    entries = _entries(folder)
    it = ra.read_ahead(entries, 100_000, slow_read=0.0)
    first = [next(it) for _ in range(300)]  # past the two probe blocks: the threads run
    assert first[5] == b"VALUE = 5\n"
    assert _readers()
    it.close()
    for t in threading.enumerate():
        if t.name.startswith("forage-read"):
            t.join(timeout=5)
    assert not _readers()
