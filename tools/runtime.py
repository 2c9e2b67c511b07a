"""Process-wide settings for forage's own processes (the CLI and the MCP servers).

The cyclic garbage collector's default young-generation threshold (700 new containers) makes
it scan the heap over and over while a big folder is read, chunked and indexed: on 100,000
small files that was ~7 s of a 28 s `forage ask` (measured with the collector off: 20 s).
Nearly all that work finds nothing, since documents, chunks and postings are acyclic and
freed by reference counting. A larger threshold keeps the collector, just less eager.

At exit, the interpreter's last full collection scanned the same heap once more (2.5 s of
that run, after the answer was out); freezing the heap first leaves exit to reference counts.

What a big folder's gathering or ranking frees stays with the C allocator, in the middle of
its heap, until it is handed back (`malloc_trim`): on 100,000 files that was ~60 MB of a
one-shot `forage ask` held through ranking for nothing.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from typing import Any

YOUNG_THRESHOLD = 20_000  # new containers between young collections (CPython default: 700)


def tune_gc() -> None:
    """Collect cycles less eagerly; call once, at the start of a forage process."""
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), older, oldest)


def skip_exit_collection() -> None:
    """Spare the interpreter's last full collection at exit: call as the process is done."""
    gc.freeze()


@functools.cache
def _libc() -> Any:
    # The symbols already loaded into this process, libc's among them: find_library("c") would
    # run `ldconfig -p` in a subprocess, forked from a process at its memory peak.
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def release_memory() -> bool:
    """Hand the C heap's free pages back to the system (glibc); False where that is not possible."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is None:  # musl, macOS: their allocators return memory by themselves, or not at all
        return False
    trim(0)
    return True
