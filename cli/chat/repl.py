"""The chat loop: read a line (prompt_toolkit on a terminal, plain lines from a pipe) and handle it."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

from cli.chat.slash import COMMANDS, run_command
from cli.errors import reported

if TYPE_CHECKING:
    from cli.chat.room import Chat


async def handle(chat: Chat, line: str) -> None:
    """One line: a /command, exit, or a question (an error is shown and the chat goes on)."""
    text = line.strip()
    if not text:
        return
    if text.startswith("/"):
        await run_command(chat, text)
    elif text in ("exit", "quit"):
        chat.running = False
    else:
        with reported():
            await chat.ask(text)


async def read_lines(chat: Chat) -> None:
    """Piped use: one line per question or command, until end of input."""
    while chat.running:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        await handle(chat, line)


async def prompt_loop(chat: Chat, history_path: Any) -> None:
    """Terminal use: line editing, history across sessions (arrows, Ctrl-R), command completion."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import NestedCompleter, PathCompleter
    from prompt_toolkit.formatted_text import HTML
    from prompt_toolkit.history import FileHistory

    history_path.parent.mkdir(parents=True, exist_ok=True)
    paths = PathCompleter(expanduser=True)
    completer = NestedCompleter({name: (paths if name == "/add" else None) for name in COMMANDS})
    prompt: PromptSession[str] = PromptSession(
        history=FileHistory(str(history_path)),
        completer=completer,
        complete_while_typing=False,
        bottom_toolbar=lambda: HTML("<b>{}</b>").format(chat.status()),
    )
    while chat.running:
        try:
            line = await prompt.prompt_async(HTML("<ansicyan><b>forage ❯</b></ansicyan> "))
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line, like a shell
        except EOFError:
            break  # Ctrl-D
        await handle(chat, line)
