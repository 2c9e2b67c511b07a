"""`forage sessions list|show ID|rm ID`: the saved chat sessions under the data dir."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.errors import fail

app = typer.Typer(help="List, show and remove saved chat sessions.", no_args_is_help=True)
out = Console(highlight=False)

IdArg = Annotated[
    str, typer.Argument(help="A session id (forage sessions list shows them).", show_default=False)
]


def _store():  # noqa: ANN202 - imported lazily to keep `forage --help` fast
    from agent.paths import places
    from agent.session.store import SessionStore
    from agent.settings import load_settings

    settings = load_settings({})
    return SessionStore(places(settings).sessions_db)


def _short(spec: str) -> str:
    """A source as a list can show it: a folder or file by its name, a URL by host and path."""
    if "://" in spec:
        return spec.split("://", 1)[1].rstrip("/")
    return Path(spec).name or spec


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _missing(session_id: str) -> typer.Exit:
    return fail(f"no session {session_id!r}; forage sessions list shows them")


@app.command("list")
def list_sessions() -> None:
    """Every saved session, the most recently used first: id, sources, questions, last use.

    Piped, it prints one tab-separated line per session instead of a table.
    """
    found = _store().all()
    if not found:
        out.print("no saved sessions; start one with forage chat SOURCES...")
        return
    if not out.is_terminal:  # piped: one tab-separated line per session, for scripts
        for s in found:
            row = (s.id, ", ".join(s.sources), str(s.questions), _when(s.updated), s.last_question or "")
            out.file.write("\t".join(row) + "\n")
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("sources", overflow="fold")
    table.add_column("questions", justify="right")
    table.add_column("last used", no_wrap=True)
    table.add_column("last question", overflow="fold")
    for s in found:
        names = [_short(x) for x in s.sources]
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        last = (s.last_question or "")[:60]
        table.add_row(s.id, escape(shown), str(s.questions), _when(s.updated), escape(last))
    out.print(table)
    out.print("[dim]continue one with forage chat --resume ID[/]")


@app.command("show")
def show(session_id: IdArg) -> None:
    """One session: its sources and every question with its answer and citations."""
    info = _store().get(session_id)
    if info is None:
        raise _missing(session_id)
    out.print(f"[bold]session {info.id}[/] · started {_when(info.created)} · last used {_when(info.updated)}")
    out.print("sources: " + ", ".join(escape(s) for s in info.sources))
    for t in info.turns:
        out.print(f"\n[bold cyan]{t.n}. {escape(t.question)}[/]  [dim]{t.model} · {_when(t.at)}[/]")
        if t.answer is None:
            out.print("[yellow](unfinished: forage chat --resume continues it)[/]")
            continue
        out.print(escape(t.answer.rstrip()))
        if t.status == "stopped":
            out.print("[yellow](answer stopped)[/]")
        for c in t.citations:
            out.print(f"  [dim]{escape(c)}[/]")


@app.command("rm")
def rm(session_id: IdArg) -> None:
    """Remove a session: its index entry and all its checkpoints."""
    from agent.session.checkpoints import sqlite_checkpointer

    store = _store()
    if store.get(session_id) is None:
        raise _missing(session_id)

    async def delete() -> None:
        async with sqlite_checkpointer(store.path) as saver:
            await saver.adelete_thread(session_id)

    asyncio.run(delete())
    store.remove(session_id)
    out.print(f"removed session {session_id}")
