"""The gathering nodes: plan, call (one task per tool call); observe lives in agent/graph/observe.py.

Nodes decide; the toolbox runs calls and the model generates. Nothing here prints: progress
goes out through the `on_event` callback that cli/ renders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from agent.events import CallDone, CallStart, EventSink, Notice, Plan, ignore
from agent.gather.documents import to_documents
from agent.graph.compaction import action_id
from agent.graph.control import Stop, in_thread, until
from agent.graph.observe import Observer, unread
from agent.graph.prompts import PLAN_SYSTEM
from agent.mcp.toolbox import CallOutcome, Toolbox
from agent.models.base import ChatModel, Message
from agent.safety.guard import Guard
from agent.safety.secret_verdicts import verdicts_for
from agent.settings import Settings
from agent.state import Action, AgentState, CallResult, ModelTurn, ToolCall, Usage
from agent.tokens import TokenCounter


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
        stop: Stop | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.toolbox = toolbox
        self.count = TokenCounter(model.count_tokens)
        self.emit: EventSink = on_event or ignore
        self.on_text = on_text
        self.stop = stop or Stop()
        self.guard = Guard(settings)
        self.observe = Observer(settings, self.count, toolbox, self.emit, self.stop, model.window).observe

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
        compacted = state.get("compacted", {})
        turns = {t.step: t for t in state.get("turns", [])}  # a step planned again (a resume): its last turn
        for turn in (turns[step] for step in sorted(turns)):
            by_index: dict[int, list[Action]] = {}
            for action in by_step.get(turn.step, []):  # a source read to its end: one Action per page
                by_index.setdefault(action.call_index, []).append(action)
            msgs.append(
                Message(role="assistant", content=turn.text, tool_calls=turn.calls, provider=turn.provider)
            )
            for i, call in enumerate(turn.calls):
                content, data = _observation(by_index.get(i, []), compacted)
                if content is None:
                    content = f"{call.name} -> not run: the run was interrupted. Call it again if it is still needed."
                msgs.append(
                    Message(role="tool", name=call.name, tool_call_id=call.id, content=content, data=data)
                )
        return msgs

    async def plan(self, state: AgentState) -> dict[str, Any]:
        tools = self.toolbox.tools()
        step = state.get("step", 0)
        reply = await until(
            self.stop.gathering, lambda: in_thread(self.model.generate, self.plan_messages(state), tools)
        )
        if reply is None:  # stopped (Ctrl-C): answer from what was gathered
            return {"pending": [], "done": True}
        usage = state.get("usage", Usage()) + reply.usage
        calls = reply.tool_calls
        if reply.notice:
            self.emit(Notice(text=reply.notice))
        self.emit(Plan(step=step, calls=tuple(c.name for c in calls)))
        update: dict[str, Any] = {"pending": calls, "done": not calls, "usage": usage}
        if calls:
            update["turns"] = [ModelTurn(step=step, text=reply.text, calls=calls, provider=reply.provider)]
        return update

    def dispatch(self, state: AgentState) -> list[Any] | Literal["route", "end"]:
        """One `call` task per planned call: each is checkpointed the moment it finishes."""
        from langgraph.types import Send  # langgraph loads while the servers start (see session.py)

        if state.get("done"):
            return self.after_gathering(state)
        tools, docs, sources = self.toolbox.tools(), state.get("documents", {}), state.get("sources", [])
        return [
            # The guard (agent/safety/guard.py) decides here, where the corpus is at hand: a refused
            # call carries its reason and is never run.
            Send("call", {"call": c, "key": str(i), "refused": self.guard.check(c, tools, docs, sources)})
            for i, c in enumerate(state.get("pending", []))
        ]

    async def call(self, task: dict[str, Any]) -> dict[str, Any]:
        """Run one tool call and put its result in the state (saved before the step ends)."""
        call: ToolCall = task["call"]
        key = str(task["key"])
        started = time.perf_counter()
        self.emit(CallStart(key=key, tool=call.name, args=call.args))
        refused = task.get("refused")
        if refused:
            server = self.toolbox.server_for(call.name) or "?"
            result = CallResult(tool=call.name, server=server, status="refused", text=refused)
            self.emit(CallDone(key=key, result=result))
            return {"results": {key: result}}
        outcome = await until(self.stop.gathering, lambda: self.toolbox.call(call.name, call.args))
        if outcome is None:
            result = CallResult(
                tool=call.name,
                server=self.toolbox.server_for(call.name) or "?",
                status="cancelled",
                text="stopped by the user before it finished",
                duration_s=time.perf_counter() - started,
            )
        else:
            result = self._result(call, outcome)
        self.emit(CallDone(key=key, result=result))
        return {"results": {key: result}}

    def _result(self, call: ToolCall, outcome: CallOutcome) -> CallResult:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        structured = dict(outcome.structured or {})
        entries = structured.pop("documents", None) or []
        documents = []
        if outcome.status == "ok":
            documents = to_documents(
                entries,
                outcome.server,
                self.count,
                now,
                redact=self.settings.redact,
                verdicts=verdicts_for(self.settings),
            )
        return CallResult(
            tool=call.name,
            server=outcome.server,
            status=outcome.status,  # type: ignore[arg-type]
            text=outcome.text,
            documents=documents,
            structured=structured,
            duration_s=outcome.duration_s,
        )

    def after_observe(self, state: AgentState) -> list[Any] | Literal["plan", "route", "end"]:
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        if state.get("pending"):  # the next pages of sources being read: read them, no planning
            return self.dispatch(state)
        if self.stop.gathering.is_set():
            return self.after_gathering(state)
        if state.get("step", 0) - state.get("turn_start", 0) >= self.settings.max_steps:
            n = self.settings.max_steps
            why = f"stopped gathering after {n} step{'s' if n != 1 else ''} (max_steps)"
            self.emit(Notice(text=why + unread(state, "raise --max-steps")))
            return self.after_gathering(state)
        # An unbounded pack (forage pack without --budget) wants every file, like Repomix.
        if gathered >= self.settings.max_gather_tokens and not state.get("unbounded"):
            why = f"stopped gathering at {gathered:,} tokens (max_gather_tokens)"
            self.emit(Notice(text=why + unread(state, "raise max_gather_tokens in the config")))
            return self.after_gathering(state)
        return "plan"

    def after_gathering(self, state: AgentState) -> Literal["route", "end"]:
        return "end" if state.get("gather_only") else "route"


def _observation(
    actions: list[Action], compacted: dict[str, str]
) -> tuple[str | None, dict[str, Any] | None]:
    """What the planner reads for one of its calls: the summary of each page, the last page's hints.

    None when the call never finished (a killed run): the planner may ask for it again.
    """
    if not actions or actions[-1].status == "cancelled":
        return None, {"interrupted": True}
    last = actions[-1]
    hints: dict[str, Any] = dict(last.hints or {})
    for key in ("pdfs", "pdf_urls"):  # each page names its own
        found = [x for a in actions for x in (a.hints or {}).get(key, [])]
        if found:
            hints[key] = found
    if action_id(last) in compacted:  # only the observation shrinks, never the turn
        return compacted[action_id(last)], ({"next": hints["next"]} if hints.get("next") else None)
    return "\n".join(a.summary for a in actions), hints or None
