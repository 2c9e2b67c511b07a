"""The graph's answering nodes: route, pack, answer, and Self-Route's widening.

route picks full or select (and says why); pack builds the context; answer streams the model's
reply, holding back a refusal so it never reaches the user as an answer; widen (Self-Route)
builds a wider pack and sends it only when it actually holds more than the one that failed.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from agent.events import AnswerStart, EventSink, Notice, Packed, Route, Widen, ignore
from agent.graph.control import Stop, in_thread, until
from agent.graph.prompts import answer_messages
from agent.models.base import CUT_MARKER, ChatModel
from agent.models.refusal import RefusalGate, is_refusal, missing_reason
from agent.pack.routing import available_tokens, choose_route, pack_documents, route_reason
from agent.settings import Settings
from agent.state import AgentState, Answer, Citation, Pack, Span, Usage
from agent.tokens import TokenCounter


class AnswerNodes:
    """Route, pack, answer and widen, bound to one run's settings, model and token counter."""

    def __init__(
        self,
        settings: Settings,
        model: ChatModel,
        counter: TokenCounter,
        *,
        on_event: EventSink | None = None,
        on_text: Callable[[str], None] | None = None,
        stop: Stop | None = None,
        on_gathered: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.count = counter
        self.emit: EventSink = on_event or ignore
        self.on_text = on_text
        self.stop = stop or Stop()
        # Awaited when gathering is over, before routing (nothing after it calls a tool): a
        # one-shot run stops its servers there, so they do not sit in memory through ranking.
        self.on_gathered = on_gathered

    def available(self) -> int:
        return available_tokens(self.settings, self.model.window)

    async def route(self, state: AgentState) -> dict[str, Any]:
        if self.on_gathered is not None:
            await self.on_gathered()
        if not state.get("documents"):
            return {}  # the graph ends here (build.after_route): no route to announce
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        unbounded = bool(state.get("unbounded"))
        avail = self.available()
        route, budget = choose_route(self.settings.route, gathered, avail, unbounded=unbounded)
        why = route_reason(self.settings.route, route, gathered, avail, budget, unbounded=unbounded)
        self.emit(Route(route=route, gathered=gathered, budget=budget, why=why))
        label = f"{route}@{budget}" if budget is not None else f"{route}@unbounded"
        return {"route": route, "budget_now": budget or 0, "route_trace": [label], "route_why": [why]}

    def _pack(self, state: AgentState, route: str, budget: int | None) -> tuple[Pack, str | None]:
        return pack_documents(
            list(state.get("documents", {}).values()),
            state["question"],
            settings=self.settings,
            counter=self.count,
            route=route,
            budget=budget,
            fmt=state.get("pack_format", "markdown"),
            with_question=state.get("want_answer", True),
            on_event=self.emit,
        )

    async def pack(self, state: AgentState) -> dict[str, Any]:
        budget = None if state.get("unbounded") else (state.get("budget_now") or self.available())
        pack, notice = await asyncio.to_thread(self._pack, state, state.get("route", "full"), budget)
        self.emit(Packed(pack=pack, notice=notice))
        return {"pack": pack}

    async def answer(self, state: AgentState) -> dict[str, Any]:
        pack = state["pack"]
        assert pack is not None
        messages = answer_messages(pack)
        self.emit(AnswerStart(model=self.model.name))
        gate = RefusalGate(self.on_text) if self.on_text else None
        arrived: list[str] = []
        cut = threading.Event()  # set when stopped: the abandoned model thread streams no more

        def on_text(chunk: str) -> None:
            if cut.is_set():
                return
            arrived.append(chunk)
            if gate is not None:
                gate(chunk)

        try:
            reply = await until(
                self.stop.answer, lambda: in_thread(self.model.generate, messages, None, on_text=on_text)
            )
        except Exception:
            if arrived and self.on_text is not None:  # part of it was shown: never let it pass as whole
                cut.set()
                if gate is not None:
                    gate.finish()
                self.on_text(CUT_MARKER)
            raise
        if reply is None:  # stopped by the user (Ctrl-C): keep what had arrived
            cut.set()
            if gate is not None:
                gate.finish()
            text = "".join(arrived)
            stopped = Answer(
                text=text,
                citations=cited_blocks(text, pack),
                model=self.model.name,
                extractive=self.model.extractive,
                stopped=True,
            )
            return {"answer": stopped, "unanswerable": False}
        if gate is not None:
            gate.finish()
        if reply.notice:
            self.emit(Notice(text=reply.notice))
        refused = reply.unanswerable or is_refusal(reply.text)
        answer = Answer(
            text="" if refused else reply.text,
            citations=[] if refused else cited_blocks(reply.text, pack),
            model=self.model.name,
            extractive=self.model.extractive,
            usage=reply.usage,
            unanswerable=refused,
            missing=(missing_reason(reply.text) or "the model gave no reason") if refused else None,
        )
        return {
            "answer": answer,
            "usage": state.get("usage", Usage()) + reply.usage,
            "unanswerable": refused,
        }

    def after_answer(self, state: AgentState) -> Literal["widen", "end"]:
        # Only a selection can grow: a full pack already held all that fits.
        if self.settings.route != "self" or not state.get("unanswerable") or state.get("route") == "full":
            return "end"
        return "widen"

    async def widen(self, state: AgentState) -> dict[str, Any]:
        """Self-Route: build a wider pack (double the budget, then full); send it only if it differs."""
        avail = self.available()
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        budget = state.get("budget_now") or avail
        old = state.get("pack")
        assert old is not None
        if not _left_out(old):
            why = "not widened: the selection already held every gathered document"
            self.emit(Widen(route=None, budget=None, why=why))
            return {"widened": False, "route_why": [why]}
        # A selection that left its budget mostly unused found nothing more to add at twice the
        # budget: go straight to full.
        exhausted = old.tokens < 0.8 * budget
        steps: list[tuple[str, int]] = []
        if budget < avail and not exhausted and gathered > min(avail, budget * 2):
            steps.append(("select", min(avail, budget * 2)))
        steps.append(("full", avail))
        for route, new_budget in steps:
            pack, notice = await asyncio.to_thread(self._pack, state, route, new_budget)
            if pack.prefix == old.prefix:
                continue  # byte-identical: sending it again would cost a call and say the same
            why = f"widened to {route} at {new_budget:,} tokens: the model said the pack could not answer"
            self.emit(Widen(route=route, budget=new_budget, why=why))
            self.emit(Packed(pack=pack, notice=notice))
            return {
                "widened": True,
                "pack": pack,
                "route": route,
                "budget_now": new_budget,
                "route_trace": [f"{route}@{new_budget}"],
                "route_why": [why],
            }
        why = "not widened: a wider pack would hold the same blocks"
        self.emit(Widen(route=None, budget=None, why=why))
        return {"widened": False, "route_why": [why]}

    def after_widen(self, state: AgentState) -> Literal["answer", "end"]:
        return "answer" if state.get("widened") else "end"


def _left_out(pack: Pack) -> bool:
    """Whether anything gathered is missing from the pack (duplicates do not count)."""
    return any(not o.reason.startswith("duplicate of") for o in pack.omitted)


def cited_blocks(text: str, pack: Any) -> list[Citation]:
    """The manifest entries the answer cites as [n], in order of first mention."""
    by_block = {b.block: b for b in pack.manifest}
    seen: list[int] = []
    for m in re.finditer(r"\[(\d+)\]", text):
        n = int(m.group(1))
        if n in by_block and n not in seen:
            seen.append(n)
    out = []
    for n in seen:
        b = by_block[n]
        span = b.span
        # Extractive answers cite a narrower line range: "[2] path:40-58".
        m = re.search(rf"\[{n}\] [^\n]*?:(\d+)-(\d+)", text)
        if m and span.kind == "lines":
            span = Span(kind="lines", start=int(m.group(1)), end=int(m.group(2)))
        out.append(Citation(block=n, uri=b.uri, span=span))
    return out
