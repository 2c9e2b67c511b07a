"""The graph's nodes: plan, act, observe, route, select, pack, answer.

Nodes decide; the toolbox runs calls and the model generates. Nothing here prints: progress
goes out through the `on_event` callback that cli/ renders.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from agent.documents import to_document
from agent.models.base import ChatModel, Message
from agent.prompts import ANSWER_SYSTEM, PLAN_SYSTEM, summarize_observation
from agent.routing import choose_route, pack_documents
from agent.settings import Settings
from agent.state import Action, AgentState, Answer, Citation, Span, ToolCall, Usage
from agent.tokens import TokenCounter
from agent.toolbox import CallOutcome, Toolbox

EventSink = Callable[..., None]


def call_key(call: ToolCall) -> str:
    return call.name + json.dumps(call.args, sort_keys=True, default=str)


class Nodes:
    """Node functions bound to one run's settings, model, toolbox and event sink."""

    def __init__(
        self,
        settings: Settings,
        model: ChatModel,
        toolbox: Toolbox,
        *,
        on_event: EventSink | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.toolbox = toolbox
        self.count = TokenCounter(model.count_tokens)
        self.emit: EventSink = on_event or (lambda *a, **k: None)
        self.on_text = on_text
        self._outcomes: dict[str, CallOutcome] = {}  # act -> observe hand-off, not checkpointed

    # -- gathering -----------------------------------------------------------------
    def plan_messages(self, state: AgentState) -> list[Message]:
        msgs = [
            Message(role="system", content=PLAN_SYSTEM),
            Message(role="user", content=state["plan_request"]),
        ]
        by_step: dict[int, list[Action]] = {}
        for action in state.get("history", []):
            if action.status == "cancelled":
                continue  # interrupted (a killed run, resumed): left out so it is planned again
            by_step.setdefault(action.step, []).append(action)
        for step in sorted(by_step):
            actions = by_step[step]
            calls = [ToolCall(name=a.tool, args=a.args, id=f"s{step}-{i}") for i, a in enumerate(actions)]
            msgs.append(Message(role="assistant", tool_calls=calls))
            for call, action in zip(calls, actions, strict=True):
                msgs.append(
                    Message(
                        role="tool",
                        name=action.tool,
                        tool_call_id=call.id,
                        content=action.summary,
                        data=action.hints,
                    )
                )
        return msgs

    async def plan(self, state: AgentState) -> dict[str, Any]:
        tools = self.toolbox.tools()
        reply = await asyncio.to_thread(self.model.generate, self.plan_messages(state), tools)
        usage = state.get("usage", Usage()) + reply.usage
        calls = reply.tool_calls
        self.emit("plan", step=state.get("step", 0), calls=[c.name for c in calls])
        return {"pending": calls, "done": not calls, "usage": usage}

    async def act(self, state: AgentState) -> dict[str, Any]:
        pending = state.get("pending", [])

        async def one(call: ToolCall) -> tuple[str, CallOutcome]:
            self.emit("call_start", tool=call.name, args=call.args)
            return call_key(call), await self.toolbox.call(call.name, call.args)

        results = await asyncio.gather(*(one(c) for c in pending))
        self._outcomes = dict(results)
        return {}

    async def observe(self, state: AgentState) -> dict[str, Any]:
        step = state.get("step", 0)
        docs = dict(state.get("documents", {}))
        failures = list(state.get("failures", []))
        first_calls = state.get("first_calls", {})
        now = datetime.now(UTC).isoformat(timespec="seconds")
        actions: list[Action] = []
        for call in state.get("pending", []):
            key = call_key(call)
            outcome = self._outcomes.pop(key, None)
            if outcome is None:
                outcome = CallOutcome("?", "cancelled", "the call was not run (interrupted)", None, 0.0)
            added: list[str] = []
            tokens = 0
            structured = outcome.structured or {}
            if outcome.status == "ok":
                for entry in structured.get("documents") or []:
                    if not isinstance(entry, dict) or "uri" not in entry:
                        continue
                    doc = to_document(entry, outcome.server, self.count, now)
                    earlier = docs.get(doc.id)
                    if earlier is not None and doc.meta.get("partial") and earlier.hash != doc.hash:
                        # A page longer than one reply arrives in pieces with the same span.
                        doc = to_document(
                            {**entry, "text": earlier.text + doc.text}, outcome.server, self.count, now
                        )
                    if doc.id not in docs or docs[doc.id].hash != doc.hash:
                        tokens += doc.tokens
                    docs[doc.id] = doc
                    added.append(doc.id)
            spec = first_calls.get(key)
            if spec is not None and outcome.status != "ok":
                failures.append(f"{spec}: {outcome.text}")
            elif spec is not None and not added and not structured.get("skipped"):
                failures.append(f"{spec}: nothing readable was found there")
            hints: dict[str, Any] = {}
            if structured.get("next"):
                hints["next"] = structured["next"]
            pdfs = [
                s["path"]
                for s in structured.get("skipped") or []
                if isinstance(s, dict) and s.get("reason") == "pdf"
            ]
            if pdfs:
                hints["pdfs"] = pdfs
                # Folders may hold PDFs: start the pdf server now so planning sees read_pdf.
                for name, error in (await self.toolbox.start({"pdf"})).items():
                    failures.append(f"{name} server: {error}")
            # A crawl lists pages that serve PDFs; fetch_page reads those page by page.
            pdf_urls = [
                p["url"] for p in structured.get("pages") or [] if isinstance(p, dict) and p.get("pdf_url")
            ]
            if pdf_urls:
                hints["pdf_urls"] = pdf_urls
            action = Action(
                step=step,
                tool=call.name,
                server=outcome.server,
                args=call.args,
                status=outcome.status,  # type: ignore[arg-type]
                summary="",
                documents=added,
                tokens_added=tokens,
                duration_s=round(outcome.duration_s, 3),
                hints=hints or None,
            )
            action.summary = summarize_observation(action, outcome.text)
            actions.append(action)
            self.emit("call_end", action=action, message=outcome.text if outcome.status != "ok" else "")
        return {
            "documents": docs,
            "history": actions,
            "failures": failures,
            "pending": [],
            "step": step + 1,
        }

    def after_observe(self, state: AgentState) -> Literal["plan", "route"]:
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        if state.get("step", 0) - state.get("turn_start", 0) >= self.settings.max_steps:
            self.emit("notice", text=f"stopped gathering after {self.settings.max_steps} steps (max_steps)")
            return "route"
        # An unbounded pack (forage pack without --budget) wants every file, like Repomix.
        if gathered >= self.settings.max_gather_tokens and not state.get("unbounded"):
            self.emit("notice", text=f"stopped gathering at {gathered:,} tokens (max_gather_tokens)")
            return "route"
        return "plan"

    def after_plan(self, state: AgentState) -> Literal["act", "route"]:
        return "route" if state.get("done") else "act"

    # -- routing and packing ---------------------------------------------------------
    def available(self) -> int:
        window = self.settings.window or self.model.window
        avail = max(1024, window - self.settings.reserve)
        return min(avail, self.settings.budget) if self.settings.budget else avail

    async def route(self, state: AgentState) -> dict[str, Any]:
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        route, budget = choose_route(
            self.settings.route, gathered, self.available(), unbounded=bool(state.get("unbounded"))
        )
        self.emit("route", route=route, gathered=gathered, budget=budget)
        label = f"{route}@{budget}" if budget is not None else f"{route}@unbounded"
        return {"route": route, "budget_now": budget or 0, "route_trace": [label]}

    async def pack(self, state: AgentState) -> dict[str, Any]:
        documents = list(state.get("documents", {}).values())
        budget = None if state.get("unbounded") else (state.get("budget_now") or self.available())
        pack, notice = await asyncio.to_thread(
            pack_documents,
            documents,
            state["question"],
            settings=self.settings,
            counter=self.count,
            route=state.get("route", "full"),
            budget=budget,
            fmt=state.get("pack_format", "markdown"),
            with_question=state.get("want_answer", True),
            on_event=self.emit,
        )
        self.emit("packed", pack=pack, notice=notice)
        return {"pack": pack}

    async def answer(self, state: AgentState) -> dict[str, Any]:
        pack = state["pack"]
        assert pack is not None
        messages = [
            Message(role="system", content=ANSWER_SYSTEM),
            Message(role="user", content=pack.question_text, cacheable_prefix=pack.prefix),
        ]
        self.emit("answer_start", model=self.model.name)
        reply = await asyncio.to_thread(self.model.generate, messages, None, on_text=self.on_text)
        citations = cited_blocks(reply.text, pack)
        answer = Answer(
            text=reply.text,
            citations=citations,
            model=self.model.name,
            extractive=self.model.extractive,
            usage=reply.usage,
        )
        return {
            "answer": answer,
            "usage": state.get("usage", Usage()) + reply.usage,
            "unanswerable": reply.unanswerable,
        }

    def after_answer(self, state: AgentState) -> Literal["widen", "end"]:
        if self.settings.route != "self" or not state.get("unanswerable"):
            return "end"
        pack = state.get("pack")
        if pack is None or not pack.omitted and state.get("route") == "full":
            return "end"
        return "widen" if state.get("route") != "full" else "end"

    async def widen(self, state: AgentState) -> dict[str, Any]:
        """Self-Route: the pack could not answer; double the budget, then go full where it fits."""
        avail = self.available()
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        budget = state.get("budget_now") or avail
        pack = state.get("pack")
        # A selection that left its budget mostly unused found nothing more to add: doubling
        # the budget would send the same pack again, so go straight to full.
        exhausted = pack is not None and pack.tokens < 0.8 * budget
        if budget < avail and not exhausted:
            route, budget = "select", min(avail, budget * 2)
        else:
            route, budget = "full", avail
        if route == "select" and gathered <= budget:
            route = "full"
        self.emit("widen", route=route, budget=budget)
        return {"route": route, "budget_now": budget, "route_trace": [f"{route}@{budget}"]}


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
