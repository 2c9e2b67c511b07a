"""The chat's slash commands: each one a small handler, listed by /help. Nothing here is sent to the model."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from agent.gather.sources import source_of
from agent.graph.compaction import action_id
from agent.pack.packing import span_label
from agent.state import Action, Document, Pack
from cli.chat.view import format_target
from cli.errors import reported

if TYPE_CHECKING:
    from agent.session.store import Turn
    from cli.chat.room import Chat

Handler = Callable[["Chat", str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    handler: Handler


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, help: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, help, fn)
        return fn

    return register


async def run_command(chat: Chat, line: str) -> None:
    """Run one /command line; an unknown command says so (it never reaches the model)."""
    name, _, arg = line.strip().partition(" ")
    found = COMMANDS.get(name.lower()) or (COMMANDS["/exit"] if name.lower() == "/quit" else None)
    if found is None:
        chat.error(f"unknown command {name}; /help lists the commands")
        return
    with reported():
        await found.handler(chat, arg.strip())


# -- formatting (pure) ---------------------------------------------------------------
def sources_table(specs: list[str], sources: list[Any], documents: dict[str, Document]) -> Table:
    """Tokens and documents per source; material no current source claims is listed too."""
    per: dict[str | None, list[Document]] = {s: [] for s in specs}
    for doc in documents.values():
        per.setdefault(source_of(doc, sources), []).append(doc)
    kinds = {s.spec: s.kind for s in sources}
    table = Table(title="Sources", title_justify="left")
    for col, justify in (("source", "left"), ("kind", "left"), ("documents", "right"), ("tokens", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for spec, docs in per.items():
        label = spec if spec is not None else "(other: opened by the planner)"
        table.add_row(
            escape(label), kinds.get(spec or "", ""), str(len(docs)), f"{sum(d.tokens for d in docs):,}"
        )
    total = sum(d.tokens for d in documents.values())
    table.add_row("[bold]total[/]", "", str(len(documents)), f"[bold]{total:,}[/]")
    return table


def context_table(pack: Pack) -> Table:
    """The blocks of the last pack, from its manifest."""
    budget = f" of a {pack.budget:,}-token budget" if pack.budget else ""
    table = Table(
        title=f"Last pack: {pack.tokens:,} tokens{budget}, route {pack.route}, {len(pack.manifest)} block(s)",
        title_justify="left",
    )
    for col, justify in (("block", "right"), ("source", "left"), ("span", "left"), ("tokens", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    table.add_column("trusted")
    for b in pack.manifest:
        table.add_row(
            str(b.block), escape(b.uri), span_label(b.span), f"{b.tokens:,}", "yes" if b.trusted else "no"
        )
    if pack.omitted:
        left = sum(o.tokens for o in pack.omitted)
        table.caption = f"left out {len(pack.omitted)} item(s), {left:,} tokens (not selected or over budget)"
    return table


def history_table(history: list[Action], compacted: dict[str, str]) -> Table:
    """The action history: what each call read, what it added, how long it took, what was compacted."""
    shortened = sum(action_id(a) in compacted for a in history)
    note = (
        f", {shortened} compacted (the planner sees a short form; their documents stay)" if shortened else ""
    )
    table = Table(title=f"Action history: {len(history)} call(s){note}", title_justify="left")
    for col, justify in (
        ("step", "right"),
        ("tool", "left"),
        ("target", "left"),
        ("status", "left"),
        ("docs", "right"),
        ("tokens", "right"),
        ("time", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for a in history:
        status = a.status + (" (compacted)" if action_id(a) in compacted else "")
        table.add_row(
            str(a.step),
            a.tool,
            escape(format_target(a.args)),
            status,
            str(len(a.documents)),
            f"{a.tokens_added:,}",
            f"{a.duration_s:.2f}s",
        )
    return table


def transcript_markdown(session_id: str, specs: list[str], turns: list[Turn]) -> str:
    """The chat as a markdown file: every question, its answer and the blocks it cited."""
    lines = [f"# forage chat {session_id}", "", "Sources: " + ", ".join(f"`{s}`" for s in specs), ""]
    for t in turns:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(t.at))
        lines += [f"## {t.question}", "", f"*{t.model or 'model'} · {when}*", ""]
        if t.answer is None:
            lines += ["*(not answered: the run was interrupted)*", ""]
            continue
        lines += [t.answer.rstrip(), ""]
        if t.status == "stopped":
            lines += ["*(answer stopped by the user)*", ""]
        if t.citations:
            lines += ["Sources:", ""] + [f"- {c}" for c in t.citations] + [""]
    return "\n".join(lines)


# -- the commands ----------------------------------------------------------------------
@command("/help", "/help", "list the commands")
async def _help(chat: Chat, arg: str) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    for c in COMMANDS.values():
        table.add_row(f"[bold]{escape(c.usage)}[/]", c.help)
    chat.out.print(table)
    chat.out.print(
        "[dim]Anything else is a question. Up/down arrows and Ctrl-R search earlier questions; "
        "Ctrl-C stops the current step, Ctrl-D leaves.[/]"
    )


@command("/add", "/add SOURCE", "add a folder, file, PDF or URL and gather it now (only it)")
async def _add(chat: Chat, arg: str) -> None:
    if not arg:
        chat.error("usage: /add SOURCE (a folder, file, PDF or http(s) URL)")
        return
    result = await chat.turn(chat.session.add_source(arg))
    if result is not None:
        chat.info(
            f"added {arg}: {len(result.history)} call(s), {sum(a.tokens_added for a in result.history):,} tokens"
        )


@command("/drop", "/drop SOURCE", "stop using a source; its documents leave the corpus")
async def _drop(chat: Chat, arg: str) -> None:
    if not arg:
        chat.error("usage: /drop SOURCE (/sources lists them)")
        return
    removed = await chat.session.drop_source(arg)
    chat.info(f"dropped {arg}: {removed} document(s) removed from the corpus")


@command("/sources", "/sources", "the sources, with documents and tokens gathered from each")
async def _sources(chat: Chat, arg: str) -> None:
    saved = await chat.session.saved() or {}
    chat.out.print(sources_table(chat.session.specs, chat.session.sources, saved.get("documents") or {}))


@command("/context", "/context", "what the last pack held (its manifest)")
async def _context(chat: Chat, arg: str) -> None:
    saved = await chat.session.saved() or {}
    pack = saved.get("pack")
    if pack is None:
        chat.info("nothing has been packed yet: ask a question first")
        return
    chat.out.print(context_table(pack))


@command("/history", "/history", "the action history: every tool call, what it added, its time")
async def _history(chat: Chat, arg: str) -> None:
    saved = await chat.session.saved() or {}
    history = list(saved.get("history") or [])
    if not history:
        chat.info("no actions yet: ask a question first")
        return
    chat.out.print(history_table(history, saved.get("compacted") or {}))


@command("/budget", "/budget N|off", "the token budget for packs (off: the model's window)")
async def _budget(chat: Chat, arg: str) -> None:
    settings = chat.session.settings
    if not arg:
        chat.info(
            f"budget: {settings.budget:,} tokens" if settings.budget else "budget: off (the model's window)"
        )
        return
    try:
        settings.budget = (
            None if arg.lower() in ("off", "none") else int(arg.replace(",", "").replace("_", ""))
        )
    except (ValueError, ValidationError):
        chat.error(f"/budget needs a positive number of tokens or 'off', not {arg!r}")
        return
    chat.info(f"budget set to {settings.budget:,} tokens" if settings.budget else "budget off")


@command("/model", "/model NAME", "answer with another model (extractive, or a Gemini model name)")
async def _model(chat: Chat, arg: str) -> None:
    if not arg:
        chat.info(f"model: {chat.session.model.name}")
        return
    chat.switch_model(arg)


@command("/route", "/route MODE", "auto | full | select | self (Self-Route)")
async def _route(chat: Chat, arg: str) -> None:
    settings = chat.session.settings
    if not arg:
        chat.info(f"route: {settings.route}")
        return
    try:
        settings.route = arg.lower()  # type: ignore[assignment]
    except ValidationError:
        chat.error(f"/route {arg}: use auto, full, select or self")
        return
    chat.info(f"route set to {settings.route}")


@command("/save", "/save FILE", "write the transcript as markdown, with citations")
async def _save(chat: Chat, arg: str) -> None:
    if not arg:
        chat.error("usage: /save FILE (for example /save notes.md)")
        return
    target = Path(arg).expanduser()
    text = transcript_markdown(chat.session.thread_id, chat.session.specs, chat.transcript())
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        chat.error(f"cannot write {target}: {exc.strerror}; choose another file")
        return
    chat.info(f"saved the transcript to {target}")


@command("/clear", "/clear", "clear the screen and start the transcript afresh (what was gathered stays)")
async def _clear(chat: Chat, arg: str) -> None:
    chat.clear()


@command("/exit", "/exit", "leave the chat (Ctrl-D too); the session stays saved")
async def _exit(chat: Chat, arg: str) -> None:
    chat.running = False
