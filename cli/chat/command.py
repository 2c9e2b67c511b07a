"""`forage chat SOURCES...`: a terminal chat over the sources, saved after every step and every call.

On a terminal: line editing and history (prompt_toolkit), a live view of each action, answers
rendered as markdown, slash commands (/help). From a pipe: one question (or /command) per line,
plain text, no colours or spinners. The MCP servers start once and what was gathered is reused
by each follow-up; with Gemini the packed prefix stays in an explicit context cache. The session
lives in the data folder's sessions.sqlite (agent/paths.py): `forage chat --resume [ID]` continues it, and first finishes
a question that a killed process left unfinished (running only the calls that had not finished).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError
from cli.errors import EXIT_OK, err, map_errors, warn


def _looks_like_source(arg: str) -> bool:
    from pathlib import Path

    return "://" in arg or Path(arg).expanduser().exists()


async def _saved_sources(checkpointer: Any, thread_id: str) -> list[str] | None:
    saved = await checkpointer.aget_tuple({"configurable": {"thread_id": thread_id}})
    if saved is None:
        return None
    return list(saved.checkpoint.get("channel_values", {}).get("sources") or [])


def chat(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Folders, files, PDFs or URLs (not needed to continue a session).", show_default=False
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            "-r",
            help="Continue the last session, or the one named: forage chat --resume ID "
            "(forage sessions list shows them).",
        ),
    ] = False,
    session_id: Annotated[
        str | None,
        typer.Option(
            "--session", "-s", help="Continue this session (same as --resume ID); a new ID names a new one."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="auto | extractive | a Gemini model name.")
    ] = None,
    window: Annotated[int | None, typer.Option("--window", help="Model input window in tokens.")] = None,
    budget: Annotated[int | None, typer.Option("--budget", help="Hard token budget for each pack.")] = None,
    route: Annotated[str | None, typer.Option("--route", help="auto | full | select | self")] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option("--allow-host", help="Allow a private/loopback host (repeatable).")
    ] = None,
    crawl: Annotated[bool, typer.Option("--crawl", help="Follow same-site links from URL sources.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Chat about sources: ask follow-ups, /help for commands; every step is saved and resumable.

    Example: forage chat ./repo https://docs.site/ paper.pdf   then later:   forage chat --resume
    """
    from agent.models import make_model
    from agent.models.base import close_model
    from agent.paths import places
    from agent.session.checkpoints import sqlite_checkpointer
    from agent.session.session import Session
    from agent.session.store import SessionStore
    from agent.settings import load_settings
    from cli.chat.repl import prompt_loop, read_lines
    from cli.chat.room import Chat
    from cli.chat.view import LiveGather, MarkdownStream

    out = Console(highlight=False, soft_wrap=False)
    flags = {
        "model": model,
        "window": window,
        "budget": budget,
        "route": route,
        "allow_hosts": allow_host,
        "crawl": crawl or None,
    }
    with map_errors():
        settings = load_settings({k: v for k, v in flags.items() if v})
        llm, notice = make_model(settings, caching=True)  # follow-ups reuse the cached prefix
    if notice and not quiet:
        err.print(f"[yellow]{notice}[/]")
    db = places(settings).sessions_db
    store = SessionStore(db)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    models = [llm]

    def new_model(name: str) -> Any:
        m, note = make_model(settings.model_copy(update={"model": name}), caching=True)
        if note:
            err.print(f"[yellow]{note}[/]")
        models.append(m)
        return m

    def release(m: Any) -> None:
        close_model(m, warn)
        if m in models:
            models.remove(m)

    view = LiveGather(err, quiet=quiet)
    stream = MarkdownStream(out)
    room = Chat(out, err, view, stream, store=store, make_model=new_model, close_model=release, quiet=quiet)

    async def main() -> str:
        async with sqlite_checkpointer(db) as saver:
            specs = list(sources or [])
            thread_id = session_id
            if resume and thread_id is None:
                # `--resume ID`: the first argument names a saved session rather than a source.
                if specs and store.get(specs[0]) is not None:
                    thread_id = specs.pop(0)
                elif specs and not _looks_like_source(specs[0]):
                    raise AgentError(f"no session {specs[0]!r} in {db}; forage sessions list shows them")
                else:
                    thread_id = store.last()
                if thread_id is None:
                    raise AgentError(f"no saved session in {db}; start one with forage chat SOURCES...")
            if thread_id is not None:
                saved = await _saved_sources(saver, thread_id)
                if saved is None and not specs:
                    raise AgentError(
                        f"no session {thread_id!r} in {db}; forage sessions list shows them, "
                        "or start one with forage chat SOURCES... (--session NAME names a new one)"
                    )
                specs = list(dict.fromkeys((saved or []) + specs))
            if not specs:
                raise AgentError("name the sources to chat about, or --resume [ID] to continue a session")
            async with Session(
                specs,
                settings,
                llm,
                on_event=view,
                on_text=stream.feed,
                checkpointer=saver,
                thread_id=thread_id,
                store=store,
            ) as session:
                await room.attach(session)
                hint = "/help for commands, Ctrl-D to leave" if interactive else "one question per line"
                err.print(
                    f"[bold]session {session.thread_id}[/] · {len(session.specs)} source(s) · {llm.name} · {hint}"
                )
                pending = await session.interrupted()
                if pending:
                    err.print(f"[yellow]resuming the unfinished question:[/] {escape(pending)}")
                    await room.answer(session.resume())
                if interactive:
                    await prompt_loop(room, places(settings).chat_history)
                else:
                    await read_lines(room)
                return session.thread_id

    try:
        with map_errors(interrupted="Interrupted. The session was saved after its last step."):
            thread_id = asyncio.run(main())
    finally:
        for m in list(models):  # the models in use at the end (/model closed the ones it left)
            close_model(m, warn)
    err.print(f"session saved: continue with [bold]forage chat --resume {thread_id}[/]")
    raise typer.Exit(EXIT_OK)
