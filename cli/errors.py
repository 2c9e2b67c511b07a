"""Errors become messages and exit codes here, by one table; commands only say which errors to expect.

Exit codes: 0 ok · 1 user error (bad source, bad config, nothing gathered) · 2 usage ·
3 partial (some sources failed, the rest were used) · 70 internal error (an error no table
lists: one line, the traceback in a log under the data dir's logs/) · 130 interrupted.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError
from tools.crash import EXIT_CRASH, crash_report

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEBUG_ENV = "FORAGE_DEBUG"

# The errors every command turns into a message, and the exit code each one means. A command
# adds its own (evals' EvalError, a flag parsed as a ValueError) through map_errors(extra).
EXIT_CODES: Mapping[type[Exception], int] = {AgentError: EXIT_USER}

err = Console(stderr=True, highlight=False, soft_wrap=True)


def report(message: str) -> None:
    """Print message as an error on stderr."""
    err.print(f"[red]error:[/] {escape(message)}")


def fail(message: str, code: int = EXIT_USER) -> typer.Exit:
    """Print message as an error on stderr; return the Exit (with code) for the caller to raise."""
    report(message)
    return typer.Exit(code)


def exit_code(exc: BaseException, table: Mapping[type[Exception], int] = EXIT_CODES) -> int | None:
    """The exit code the table gives this error (its most specific class listed), or None."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return None


@contextmanager
def map_errors(
    extra: Mapping[type[Exception], int] | None = None, *, interrupted: str | None = None
) -> Iterator[None]:
    """Turn the errors in EXIT_CODES (and extra) into a red message and their exit code.

    interrupted: what to say on Ctrl-C (exit 130); without it, Ctrl-C goes up to main().
    """
    table = {**EXIT_CODES, **(extra or {})}
    try:
        yield
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        err.print(f"[yellow]{escape(interrupted)}[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except tuple(table) as exc:
        code = exit_code(exc, table)
        assert code is not None  # caught because the table lists one of its classes
        raise fail(str(exc), code) from exc


@contextmanager
def reported(context: str = "") -> Iterator[None]:
    """Print an error and go on: one failed chat question does not end the chat.

    An error EXIT_CODES lists is its message; any other is one line and a log (report_crash),
    or, with --debug, its traceback.
    """
    try:
        yield
    except tuple(EXIT_CODES) as exc:
        report(str(exc))
    except (typer.Exit, typer.Abort):  # how a command ends on purpose (both are RuntimeErrors)
        raise
    except Exception as exc:  # noqa: BLE001 - the chat outlives one question's bug; the log keeps it
        if debugging():
            err.print_exception()
        else:
            report_crash(exc, context)


def warn(message: str) -> None:
    """Print message as a warning on stderr: something failed that the command can do without."""
    err.print(f"[yellow]warning:[/] {escape(message)}")


def set_debug(on: bool) -> None:
    """--debug: tracebacks as they are. Set as FORAGE_DEBUG so Settings, and the servers forage starts, see it."""
    if on:
        os.environ[DEBUG_ENV] = "1"


def debugging() -> bool:
    """Whether --debug or FORAGE_DEBUG asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def logs_dir() -> Path:
    """Where crash logs go: beside the servers' logs (agent/paths.py), by default when the settings cannot load."""
    from agent.paths import default_cache_dir, places
    from agent.settings import load_settings

    try:
        return places(load_settings()).logs
    except Exception:  # noqa: BLE001 - reporting a crash must not crash: any failure here means the default
        return default_cache_dir() / "logs"


# A machine that will not store forage's files: not a bug to report, one line and what to do.
_FULL, _READ_ONLY = "is full", "is read-only"
_STORAGE_ERRNOS = {errno.ENOSPC: _FULL, errno.EDQUOT: _FULL, errno.EFBIG: _FULL, errno.EROFS: _READ_ONLY}
_STORAGE_SQLITE = {"SQLITE_FULL": _FULL, "SQLITE_READONLY": _READ_ONLY}


def _forage_folders() -> list[Path]:
    """The folders forage writes: its data folder, then its cache folder (agent/paths.py)."""
    from agent.paths import places
    from agent.settings import load_settings

    try:
        found = places(load_settings())
    except AgentError:  # a broken config: the folder of the logs is the one known
        return [logs_dir().parent]
    return list(dict.fromkeys([found.data, found.cache]))


def storage_problem(exc: BaseException) -> str | None:
    """A full or read-only disk (or data dir) behind exc, said in one line with what to do; else None."""
    folders = _forage_folders()
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # the error, or what it was raised from
        seen.add(id(cause))
        how, where = None, f"the data dir {folders[0]}"
        if isinstance(cause, OSError):
            how = _STORAGE_ERRNOS.get(cause.errno or 0)
            name = Path(str(cause.filename)) if cause.filename else None
            home = next((f for f in folders if name is not None and name.is_relative_to(f)), None)
            if how is None and cause.errno in (errno.EACCES, errno.EPERM) and home is not None:
                how = "is not writable"
            if home is not None:
                where = f"the {'data dir' if home == folders[0] else 'cache folder'} {home}"
            elif name is not None:
                where = f"the disk of {name}"
        else:
            name = str(getattr(cause, "sqlite_errorname", ""))
            how = next((v for k, v in _STORAGE_SQLITE.items() if name.startswith(k)), None)
        if how is not None:
            return (
                f"forage could not save its files: {where} {how}. "
                + ("Free some space there" if how == _FULL else "Make it writable")
                + ", or point FORAGE_DATA_DIR at another folder."
            )
        cause = cause.__cause__ or cause.__context__
    return None


def report_crash(exc: BaseException, context: str = "") -> None:
    """Print an unexpected error as one line, where its traceback was saved, and how to report it."""
    first, *rest = crash_report(exc, logs_dir(), context=context)
    report(first)
    for line in rest:
        err.print(f"  {escape(line)}")


def crash(exc: BaseException, context: str = "") -> typer.Exit:
    """Report an unexpected error (report_crash); return the Exit (70) for the caller to raise."""
    report_crash(exc, context)
    return typer.Exit(EXIT_CRASH)


class _WarningLines(logging.Handler):
    """A logging handler that prints each record as one warning line."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


def show_agent_warnings() -> None:
    """Print the agent's notes as warning lines: damaged local state set aside (agent/damaged.py)
    and files that failed a step outside a pack (agent/isolation.py)."""
    for name in ("forage.state", "forage.files"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _WarningLines) for h in logger.handlers):
            logger.addHandler(_WarningLines())
            logger.propagate = False  # one line, not a second copy through the root logger
