"""One chat around a Session: its messages, its turns (Ctrl-C stops one step) and how answers are shown.

Ctrl-C during a turn stops the current step only: the first press stops the gathering (the
answer comes from what was gathered), a press while answering stops the answer, and a press
when both are already stopping cancels the turn outright (its finished calls are kept).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.markup import escape

from agent.state import Usage
from cli.chat.view import LiveGather, MarkdownStream, format_status
from cli.errors import report
from cli.render import format_refusal

if TYPE_CHECKING:
    from agent.session.result import RunResult
    from agent.session.session import Session
    from agent.session.store import SessionStore, Turn

T = TypeVar("T")


class Chat:
    """One chat in the terminal (or over a pipe) around a Session."""

    def __init__(
        self,
        out: Console,
        err: Console,
        view: LiveGather,
        stream: MarkdownStream,
        *,
        store: SessionStore,
        make_model: Callable[[str], Any],
        close_model: Callable[[Any], None],
        quiet: bool = False,
    ) -> None:
        self.out = out
        self.err = err
        self.view = view
        self.stream = stream
        self.store = store
        self.make_model = make_model
        self.close_model = close_model
        self.quiet = quiet
        self.session: Session = None  # type: ignore[assignment]  # set by attach()
        self.running = True
        self.usage = Usage()
        self.route: str | None = None
        self.pack: Any = None
        self.documents = 0
        self.tokens = 0
        self._transcript_from = 0

    async def attach(self, session: Session) -> None:
        self.session = session
        saved = await session.saved() or {}
        self.usage = saved.get("usage") or Usage()
        self.pack = saved.get("pack")
        self.route = saved.get("route")
        docs = saved.get("documents") or {}
        self.documents, self.tokens = len(docs), sum(d.tokens for d in docs.values())

    # -- messages --------------------------------------------------------------
    def info(self, text: str) -> None:
        self.out.print(escape(text), highlight=False)

    def error(self, text: str) -> None:
        report(text)

    def status(self) -> str:
        return format_status(
            self.session.model.name, self.route, self.pack, self.usage, self.documents, self.tokens
        )

    def transcript(self) -> list[Turn]:
        info = self.store.get(self.session.thread_id)
        return [t for t in (info.turns if info else []) if t.n > self._transcript_from]

    def clear(self) -> None:
        turns = self.transcript()
        if turns:
            self._transcript_from = turns[-1].n
        if self.out.is_terminal:
            self.out.clear()
        self.info("cleared: the transcript starts afresh; what was gathered stays (/sources)")

    def switch_model(self, name: str) -> None:
        old = self.session.model
        model = self.make_model(name)  # raises AgentError with what to do
        self.session.use_model(model)
        if model is not old:
            self.close_model(old)
        self.info(f"model: {model.name}")

    # -- turns -----------------------------------------------------------------
    async def turn(self, work: Awaitable[T]) -> T | None:
        """Run one turn with Ctrl-C bound to stopping its current step; None when cancelled."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work)
        stop = self.session.stop
        cancelled = False

        def on_interrupt() -> None:
            nonlocal cancelled
            if self.view.phase == "gathering" and not stop.gathering.is_set():
                stop.gathering.set()
                self.err.print(
                    "[yellow]⏹ stopping the gathering; answering from what was gathered (Ctrl-C again skips the answer)[/]"
                )
            elif not stop.answer.is_set():
                stop.gathering.set()
                stop.answer.set()
                self.err.print("[yellow]⏹ stopping the answer[/]")
            else:
                cancelled = True
                task.cancel()

        self.view.begin()
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
        try:
            return await task
        except asyncio.CancelledError:
            if not cancelled:
                raise
            self.err.print("[yellow]⏹ cancelled; the calls that had finished are kept[/]")
            return None
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.view.end()

    async def ask(self, question: str) -> None:
        await self.answer(self.session.ask(question))

    async def answer(self, work: Awaitable[RunResult]) -> None:
        """Run a turn that ends in an answer (a question, or a killed one resumed) and show it."""
        self.stream.start()
        try:
            result = await self.turn(work)
        finally:
            text = self.stream.finish()
        if result is not None:
            self.show(result, text)

    def show(self, result: RunResult, text: str) -> None:
        nothing = result.nothing_gathered()
        if nothing:  # no model was asked: one message, and the chat goes on
            self.error(nothing)
            return
        answer = result.answer
        refusal = format_refusal(result)
        if refusal:
            self.err.print(f"[yellow]{escape(refusal)}[/]")
            answer = None
        elif answer is not None and not text.strip() and answer.text:
            # The model did not stream (or streamed elsewhere): show the whole answer now.
            self.stream.start()
            self.stream.feed(answer.text)
            self.stream.finish()
        if answer is not None and answer.stopped:
            self.err.print("[yellow](answer stopped)[/]")
        if answer is not None and not answer.extractive and answer.citations:
            if self.out.is_terminal:
                self.out.print("[bold]Sources:[/]")
                for c in answer.citations:
                    self.out.print(f"  [cyan]{escape(c.render())}[/]", highlight=False)
            else:
                self.out.file.write("Sources:\n" + "".join(c.render() + "\n" for c in answer.citations))
        self.out.file.write("\n")
        self.out.file.flush()
        self.usage = self.usage + result.usage
        if result.pack is not None:
            self.pack = result.pack
            self.route = result.pack.route
        self.documents, self.tokens = result.documents, result.gathered_tokens
        if not self.quiet:
            self.err.print(f"[dim]{escape(self.status())}[/]", highlight=False)
