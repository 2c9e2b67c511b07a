"""Per-file isolation: an error on one file makes that file plainer or leaves it out, never fails the pack.

Chunking, outlining, symbol indexing, excerpting and screening run file by file through
`isolated`. When one file raises, it gets the plainer result the caller names (no outline, no
chunks, no excerpt, left out), and a one-line note says what failed on which file. Notes go to
the pack being built (`file_faults` around it; the pack's manifest lists them as warnings), or,
outside a pack, to the `forage.files` logger as one warning line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("forage.files")
_NOTES: ContextVar[list[str] | None] = ContextVar("forage_file_faults", default=None)


@contextmanager
def file_faults() -> Iterator[list[str]]:
    """Collect the notes of the files that failed while this block runs (a pack being built)."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note_file_fault(note: str) -> None:
    """Record one file's failure: in the pack being built, else as a warning line."""
    notes = _NOTES.get()
    if notes is None:
        log.warning("%s", note)
    elif note not in notes:  # the ladder may outline a file twice while it sizes the rungs
        notes.append(note)


def isolated(
    stage: str, uri: str, instead: str, fallback: T, work: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run `work(*args, **kwargs)` on one file; if it raises, note it and return `fallback`.

    stage: what was being done ("outlining"); instead: what the file gets ("listed by path").
    """
    try:
        return work(*args, **kwargs)
    except Exception as exc:  # one odd file must never fail the pack: it goes plainer and says why
        log.debug("%s failed on %s", stage, uri, exc_info=True)
        detail = str(exc).splitlines()[0][:120] if str(exc).strip() else ""
        note_file_fault(
            f"{uri}: {stage} failed ({type(exc).__name__}{': ' + detail if detail else ''}); {instead}"
        )
        return fallback
