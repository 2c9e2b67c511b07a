"""`forage chat SOURCES...`: follow-up questions over the same sources, saved after every step.

The MCP servers start once and what was gathered is reused by each follow-up; with Gemini the
packed prefix stays in an explicit context cache, so follow-ups cost less. The session lives in
data_dir/sessions.sqlite: `forage chat --session ID` continues it, and finishes first a
question that a killed process left unfinished.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError

EXIT_OK, EXIT_USER, EXIT_INTERRUPTED = 0, 1, 130


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
    session: Annotated[
        str | None,
        typer.Option("--session", "-s", help="Continue this session (its id is printed at the start)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="auto | extractive | a Gemini model name.")
    ] = None,
    window: Annotated[int | None, typer.Option("--window", help="Model input window in tokens.")] = None,
    route: Annotated[str | None, typer.Option("--route", help="auto | full | select | self")] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option("--allow-host", help="Allow a private/loopback host (repeatable).")
    ] = None,
    crawl: Annotated[bool, typer.Option("--crawl", help="Follow same-site links from URL sources.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Chat about sources: ask follow-ups; the session is saved after every step and resumable.

    Questions are read one per line from standard input (Ctrl-D or "exit" ends the chat).
    Example: forage chat ./repo   then later:   forage chat --session 3f2a9c81d0e4
    """
    from agent.models import make_model
    from agent.session import Session, sqlite_checkpointer
    from agent.settings import load_settings
    from cli.render import Progress, close_model, format_refusal, format_summary, format_usage

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    flags = {
        "model": model,
        "window": window,
        "route": route,
        "allow_hosts": allow_host,
        "crawl": crawl or None,
    }
    try:
        settings = load_settings({k: v for k, v in flags.items() if v})
        llm, notice = make_model(settings, caching=True)  # follow-ups reuse the cached prefix
    except AgentError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USER) from None
    if notice and not quiet:
        err.print(f"[yellow]{notice}[/]")

    def on_text(chunk: str) -> None:
        sys.stdout.write(chunk)
        sys.stdout.flush()

    def show(result: Any) -> None:
        if result.answer is None:
            return
        refusal = format_refusal(result)
        if refusal:
            err.print(f"[yellow]{escape(refusal)}[/]")
            return
        if not result.answer.text.endswith("\n"):
            sys.stdout.write("\n")
        if not result.answer.extractive and result.answer.citations:
            sys.stdout.write("Sources:\n" + "".join(c.render() + "\n" for c in result.answer.citations))
        sys.stdout.write("\n")
        sys.stdout.flush()
        if not quiet:
            err.print(f"[dim]{format_summary(result)} · {format_usage(result)}[/]")

    async def main() -> str:
        async with sqlite_checkpointer(settings.data_dir / "sessions.sqlite") as saver:
            specs = list(sources or [])
            if session:
                saved = await _saved_sources(saver, session)
                if saved is None and not specs:
                    raise AgentError(
                        f"no session {session!r} in {settings.data_dir / 'sessions.sqlite'}; "
                        "start one with forage chat SOURCES... (--session NAME names a new one)"
                    )
                specs = specs or saved or []
            if not specs:
                raise AgentError("name the sources to chat about, or --session ID to continue a session")
            progress = Progress(err, quiet=quiet)
            async with Session(
                specs,
                settings,
                llm,
                on_event=progress,
                on_text=on_text,
                checkpointer=saver,
                thread_id=session,
            ) as chat_session:
                err.print(
                    f"[bold]session {chat_session.thread_id}[/] · {len(specs)} source(s) · one question per line, Ctrl-D to end"
                )
                pending = await chat_session.interrupted()
                if pending:
                    err.print(f"[yellow]resuming the unfinished question:[/] {escape(pending)}")
                    show(await chat_session.resume())
                while True:
                    if sys.stdin.isatty():
                        err.print("[bold cyan]?[/] ", end="")
                    line = await asyncio.to_thread(sys.stdin.readline)
                    if not line:
                        break
                    question = line.strip()
                    if question in ("exit", "quit"):
                        break
                    if question:
                        show(await chat_session.ask(question))
                return chat_session.thread_id

    try:
        thread_id = asyncio.run(main())
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted. The session was saved after its last step.[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except AgentError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USER) from None
    finally:
        close_model(llm, err)
    err.print(f"session saved: continue with [bold]forage chat --session {thread_id}[/]")
    raise typer.Exit(EXIT_OK)
