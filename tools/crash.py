"""Unexpected errors, for a user: one line saying what failed, and the full traceback in a bounded log.

One table (FAMILIES) names the common families of errors in the user's terms; anything it does
not list is "an unexpected error". The CLI (cli/errors.py) and the MCP servers
(mcp_servers/common.py) both report through `crash_report`, so an error reads the same everywhere.
Writing the log never raises: a read-only or full data dir falls back to the temp dir, and where
that fails too the message says the log could not be written.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXIT_CRASH = 70  # EX_SOFTWARE (sysexits.h): an internal error, not the user's
KEEP_LOGS = 20  # the newest crash logs kept in a logs dir
LOG_CAP = 256 * 1024  # bytes of traceback kept per log: the start and the end, where the cause is
REPORT = "Please report it to the forage maintainers with that file (it holds the traceback, no API key)."
_seq = itertools.count()


def _from_gemini_sdk(exc: BaseException) -> bool:
    """The error was raised while google-genai read an API reply (its frames are in the traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return any(f"google{os.sep}genai" in f.filename for f in frames)


# What failed, in the user's terms: (class name as module.qualname along the MRO, test or None, words).
# Names, not imports: this table must not load httpx, sqlite3 or google-genai to describe an error.
FAMILIES: list[tuple[str, Callable[[BaseException], bool] | None, str]] = [
    ("pydantic_core._pydantic_core.ValidationError", _from_gemini_sdk,
     "the Gemini API sent a reply forage could not read"),
    ("json.decoder.JSONDecodeError", _from_gemini_sdk, "the Gemini API sent a reply forage could not read"),
    ("google.genai.errors.UnknownApiResponseError", None, "the Gemini API sent a reply forage could not read"),
    ("pydantic_core._pydantic_core.ValidationError", None, "forage could not read a reply or a saved file"),
    ("sqlite3.DatabaseError", None, "a local database under the data dir could not be read or written"),
    ("httpx.TimeoutException", None, "a network request timed out"),
    ("httpx2.TimeoutException", None, "a network request timed out"),  # google-genai's fork of httpx
    ("httpx.TransportError", None, "a network connection failed"),
    ("httpx2.TransportError", None, "a network connection failed"),
    ("MemoryError", None, "forage ran out of memory"),
    ("RecursionError", None, "a document was nested too deeply to read"),
]  # fmt: skip
# OSError by errno: the machine refused, not forage.
OS_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission was denied",
    errno.EPERM: "permission was denied",
    errno.EMFILE: "too many files are open",
    errno.EDQUOT: "the disk quota is exceeded",
}


def describe(exc: BaseException) -> str:
    """What failed, in the user's terms, with the error's own short text."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - an error whose own text fails is still reported, by its name
        text = ""
    # pydantic's "[type=..., input_value=...]" tail repeats the input: the first words say what failed
    detail = re.sub(r"\s*\[type=.*", "", " ".join(text.split()))[:200] or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno in OS_ERRORS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{OS_ERRORS[exc.errno]}{where}: {detail}"
    names = [f"{c.__module__}.{c.__qualname__}".removeprefix("builtins.") for c in type(exc).__mro__]
    for name, test, words in FAMILIES:
        if name in names and (test is None or test(exc)):
            return f"{words} ({type(exc).__name__}: {detail})"
    return f"an unexpected error ({type(exc).__name__}: {detail})"


def _capped(text: str, cap: int) -> str:
    """text within cap bytes: its start and its end (the innermost frames), the middle cut."""
    data = text.encode("utf-8", "replace")
    if len(data) <= cap:
        return text
    half = cap // 2
    cut = len(data) - 2 * half
    return (
        data[:half].decode("utf-8", "ignore")
        + f"\n[... {cut:,} bytes cut ...]\n"
        + data[-half:].decode("utf-8", "ignore")
    )


def _prune(logs: Path, keep: int) -> None:
    """Keep the newest `keep` crash logs; an old one that cannot be removed is left."""
    old = sorted(logs.glob("crash-*.log"), key=lambda p: p.name)[:-keep] if keep > 0 else []
    for path in old:
        try:
            path.unlink()
        except OSError:
            continue  # another process pruned it, or it is not ours to remove: the bound is best effort


def _write(logs: Path, text: str, keep: int) -> Path:
    logs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = logs / f"crash-{stamp}-{os.getpid()}-{next(_seq):03}.log"
    path.write_text(text, encoding="utf-8")
    _prune(logs, keep)
    return path


@dataclass(frozen=True)
class Saved:
    """Where the traceback went (None: nowhere), and why not where it was meant to go."""

    path: Path | None
    problem: str | None = None


def save_traceback(
    exc: BaseException, logs: Path, *, context: str = "", keep: int = KEEP_LOGS, cap: int = LOG_CAP
) -> Saved:
    """Write exc's traceback to a new log in logs (else the temp dir); never raise."""
    text = _capped(
        f"forage crash log, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n"
        + (f"while: {context}\n" if context else "")
        + "".join(traceback.format_exception(exc)),
        cap,
    )
    problem = None
    for where in (logs, Path(tempfile.gettempdir()) / "forage-logs"):
        try:
            return Saved(_write(where, text, keep), problem)
        except OSError as err:  # read-only or full: say so, and try the next place
            problem = problem or f"the log could not be written to {where} ({err.strerror or err})"
    return Saved(None, problem)


def crash_report(exc: BaseException, logs: Path, *, context: str = "") -> list[str]:
    """The lines a user gets for an unexpected error: what failed, where the traceback is, how to report."""
    saved = save_traceback(exc, logs, context=context)
    lines = [describe(exc)]
    if saved.problem:
        lines.append(saved.problem + ".")
    if saved.path is not None:
        lines.append(f"The full traceback is in {saved.path}")
        lines.append(REPORT)
    else:
        lines.append("Run again with --debug (or FORAGE_DEBUG=1) to see the traceback, and report it.")
    return lines
