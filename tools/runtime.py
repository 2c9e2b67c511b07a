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


MMAP_THRESHOLD = 256 * 1024  # bytes: glibc's starting value, kept fixed
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def tune_malloc() -> None:
    """Keep blocks of MMAP_THRESHOLD bytes or more in their own mappings (glibc).

    glibc raises its threshold each time such a block is freed (up to 32 MB), so a server's
    next reply buffers come from the heap and leave holes in it that trimming cannot hand
    back: the files server held ~20 MB more at the end of reading 100k files. Servers call
    this; it costs a mapping per big block, so nothing that allocates them by the thousand should.
    """
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is not None:  # musl, macOS: their allocators keep their own policy
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


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
