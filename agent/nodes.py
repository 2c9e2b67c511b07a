"""The graph's nodes: plan, act, observe, route, select, pack, answer.

Nodes decide; the toolbox runs calls and the model generates. Nothing here prints: progress
goes out through the `on_event` callback that cli/ renders.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from agent.documents import to_document
from agent.models.base import ChatModel, Message
from agent.prompts import PLAN_SYSTEM, summarize_observation
from agent.settings import Settings
from agent.state import Action, AgentState, ModelTurn, ToolCall, Usage
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
        """The planning conversation: the request, then each step's model turn and its results.

        A step's model turn is replayed from `turns` exactly as the model wrote it (Gemini 3
        rejects a function call whose thought signature is missing or changed). Each call of
        the turn is answered by its Action's summary, in the turn's order; a call that never
        finished (a killed run) is answered as interrupted, so the model can ask for it again.
        """
        msgs = [
            Message(role="system", content=PLAN_SYSTEM),
            Message(role="user", content=state["plan_request"]),
        ]
        by_step: dict[int, list[Action]] = {}
        for action in state.get("history", []):
            by_step.setdefault(action.step, []).append(action)
        turns = {t.step: t for t in state.get("turns", [])}
        for step in sorted(set(by_step) | set(turns)):
            actions = by_step.get(step, [])
            turn = turns.get(step)
            if turn is None:  # saved before turns were kept: rebuild the calls, in order
                turn = ModelTurn(step=step, calls=[ToolCall(name=a.tool, args=a.args) for a in actions])
                paired: list[Action | None] = list(actions)
            else:
                by_index = {a.call_index: a for a in actions}
                paired = [by_index.get(i) for i in range(len(turn.calls))]
            msgs.append(
                Message(role="assistant", content=turn.text, tool_calls=turn.calls, provider=turn.provider)
            )
            for call, action in zip(turn.calls, paired, strict=True):
                if action is None or action.status == "cancelled":
                    content = f"{call.name} -> not run: the run was interrupted. Call it again if it is still needed."
                    data: dict[str, Any] | None = {"interrupted": True}
                else:
                    content, data = action.summary, action.hints
                msgs.append(
                    Message(role="tool", name=call.name, tool_call_id=call.id, content=content, data=data)
                )
        return msgs

    async def plan(self, state: AgentState) -> dict[str, Any]:
        tools = self.toolbox.tools()
        step = state.get("step", 0)
        reply = await asyncio.to_thread(self.model.generate, self.plan_messages(state), tools)
        usage = state.get("usage", Usage()) + reply.usage
        calls = reply.tool_calls
        if reply.notice:
            self.emit("notice", text=reply.notice)
        self.emit("plan", step=step, calls=[c.name for c in calls])
        update: dict[str, Any] = {"pending": calls, "done": not calls, "usage": usage}
        if calls:
            update["turns"] = [ModelTurn(step=step, text=reply.text, calls=calls, provider=reply.provider)]
        return update

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
        for index, call in enumerate(state.get("pending", [])):
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
                call_index=index,
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
