"""Files read ahead of their reader by a few threads once the disk is slow: it serves many at once.

read_many reads a folder in path order, one file after another. When the files are in the page
cache that costs ~10 µs each; when they are not (a repository first opened since a reboot, or
pages the kernel reclaimed) each read waits on the disk, and 100,000 small files took 23-65 s
one at a time against 8-16 s with eight readers (measured on this project's CI machines).
The system calls release the GIL, so the readers wait in parallel while the caller decodes.

From the page cache, though, eight readers cost more than they save (GIL handovers). So files
are read in the caller's thread, in blocks of PROBE, until a block takes longer than SLOW per
file twice in a row, the sign of reads waiting on the disk; the rest is then read ahead by
the threads.

Bounds: at most WINDOW batches of BATCH files are in flight or waiting, and only files of up to
KEEP_BYTES are handed over as bytes (at most ~16 MB held); a bigger file only has its reading
begun in the kernel, and the caller reads it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from tools.errors import ToolError
from tools.files.office import NOTEBOOK_EXTENSIONS, OFFICE_EXTENSIONS
from tools.files.safe_read import read_small
from tools.files.walk import Entry

READERS = 8
BATCH = 16  # files per task: one task per file cost more in handovers than the reads
WINDOW = 2 * READERS  # tasks in flight or done and waiting
KEEP_BYTES = 64 * 1024
PROBE = 128  # files read in the caller's thread, then judged
SLOW = 100e-6  # seconds per file: page-cache reads take ~10 µs, reads that wait on the disk ~200+

_READ_BY_CALLER = frozenset({".pdf"} | OFFICE_EXTENSIONS | NOTEBOOK_EXTENSIONS)  # skipped, or parsed whole
Outcome = bytes | ToolError | None  # the file's bytes, why it could not be read, or: read it yourself


def read_ahead(entries: Sequence[Entry], limit: int, *, slow_read: float = SLOW) -> Iterator[Outcome]:
    """For each entry, in order: its bytes (read_bytes's checks applied, up to `limit`), the
    ToolError reading it raised, or None where the caller reads it (big files, PDFs, office
    documents). Close the iterator when done early: the readers stop after their current batch.
    slow_read: seconds per file past which a block counts as slow (0: threads after two blocks)."""
    done = slow = 0
    while done < len(entries):  # in the caller's thread, while the reads are fast
        block = entries[done : done + PROBE]
        spent = 0.0
        for entry in block:  # each handed over once read: a page that ends mid-block reads none for nothing
            started = time.perf_counter()
            outcome = _one(entry, limit)
            spent += time.perf_counter() - started
            yield outcome
        done += len(block)
        # Two slow blocks in a row: one alone may be this process losing the CPU for a while.
        slow = slow + 1 if spent > slow_read * len(block) else 0
        if slow == 2 and len(entries) - done >= 2 * BATCH:
            break
    if done < len(entries):
        yield from _threaded(entries[done:], limit)


def _threaded(entries: Sequence[Entry], limit: int) -> Iterator[Outcome]:
    pool = ThreadPoolExecutor(READERS, thread_name_prefix="forage-read")
    starts = iter(range(0, len(entries), BATCH))
    window: deque[Future[list[Outcome]]] = deque()
    try:
        for start in starts:
            window.append(pool.submit(_batch, entries[start : start + BATCH], limit))
            if len(window) == WINDOW:
                break
        while window:
            done = window.popleft().result()
            start = next(starts, None)
            if start is not None:
                window.append(pool.submit(_batch, entries[start : start + BATCH], limit))
            yield from done
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _batch(entries: Sequence[Entry], limit: int) -> list[Outcome]:
    return [_one(entry, limit) for entry in entries]


def _one(entry: Entry, limit: int) -> Outcome:
    if os.path.splitext(entry.where)[1].lower() in _READ_BY_CALLER:
        return None
    try:
        return read_small(entry.where, entry.display, limit, KEEP_BYTES)
    except ToolError as exc:  # handed over in order; the caller says why the file was skipped
        return exc
