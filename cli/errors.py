"""Errors become messages and exit codes here, by one table; commands only say which errors to expect.

Exit codes: 0 ok · 1 user error (bad source, bad config, nothing gathered) · 2 usage ·
3 partial (some sources failed, the rest were used) · 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

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
def reported() -> Iterator[None]:
    """Print an error EXIT_CODES lists and go on: one failed chat question does not end the chat."""
    try:
        yield
    except tuple(EXIT_CODES) as exc:
        report(str(exc))


def warn(message: str) -> None:
    """Print message as a warning on stderr: something failed that the command can do without."""
    err.print(f"[yellow]warning:[/] {escape(message)}")
