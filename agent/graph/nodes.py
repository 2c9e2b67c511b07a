"""The gathering nodes: plan, call (one task per tool call), observe.

Nodes decide; the toolbox runs calls and the model generates. Nothing here prints: progress
goes out through the `on_event` callback that cli/ renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from agent.gather.documents import TRUSTED_SERVERS, content_hash, to_documents
from agent.gather.sources import failed_reads, failed_reads_notice
from agent.graph.compaction import action_id, observation_size, plan_compaction
from agent.graph.prompts import PLAN_SYSTEM, summarize_observation
from agent.mcp.toolbox import CallOutcome, Toolbox
from agent.models.base import ChatModel, Message
from agent.safety.guard import Guard
from agent.safety.screening import merge_pieces, screen_text
from agent.safety.secret_verdicts import verdicts_for
from agent.settings import Settings
from agent.state import Action, AgentState, CallResult, ModelTurn, ToolCall, Usage
from agent.tokens import TokenCounter

EventSink = Callable[..., None]
T = TypeVar("T")


class Stop:
    """What the user asked to stop (Ctrl-C in the chat): the gathering, or the answer.

    A stopped gathering keeps every finished call and goes on to pack and answer from what
    it has; a stopped answer keeps the text that had arrived.
    """

    def __init__(self) -> None:
        self.gathering = asyncio.Event()
        self.answer = asyncio.Event()

    def clear(self) -> None:
        self.gathering.clear()
        self.answer.clear()


async def until(stop: asyncio.Event, start: Callable[[], Awaitable[T]]) -> T | None:
    """Start and await some work unless `stop` is set first: then cancel it and return None."""
    if stop.is_set():
        return None
    task = asyncio.ensure_future(start())
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            # A model call in a worker thread cannot be interrupted: it is abandoned, its reply unused.
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    await asyncio.wait({task})  # let the cancelled call unwind (an abandoned thread is not awaited)
    return None


def call_key(call: ToolCall) -> str:
    return call.name + json.dumps(call.args, sort_keys=True, default=str)


def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
    """Run a blocking model call in a daemon thread.

    Not the default executor: a call the user stopped is abandoned, and the process must be
    able to exit without waiting for it to finish.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return  # stopped meanwhile: nobody wants this reply
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value, error = fn(*args, **kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is exiting
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name=f"forage-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return future


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
        self.emit: EventSink = on_event or (lambda *a, **k: None)
        self.on_text = on_text
        self.stop = stop or Stop()
        self.guard = Guard(settings)

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
        compacted = state.get("compacted", {})
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
                elif action_id(action) in compacted:  # only the observation shrinks, never the turn
                    content = compacted[action_id(action)]
                    data = (
                        {"next": action.hints["next"]} if action.hints and action.hints.get("next") else None
                    )
                else:
                    content, data = action.summary, action.hints
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
            self.emit("notice", text=reply.notice)
        self.emit("plan", step=step, calls=[c.name for c in calls])
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
        self.emit("call_start", key=key, tool=call.name, args=call.args)
        refused = task.get("refused")
        if refused:
            server = self.toolbox.server_for(call.name) or "?"
            result = CallResult(tool=call.name, server=server, status="refused", text=refused)
            self.emit("call_done", key=key, result=result)
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
        self.emit("call_done", key=key, result=result)
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

    async def observe(self, state: AgentState) -> dict[str, Any]:
        """Fold the step's saved call results into the corpus and the action history."""
        from langgraph.types import Overwrite

        step = state.get("step", 0)
        docs = dict(state.get("documents", {}))
        failures = list(state.get("failures", []))
        first_calls = state.get("first_calls", {})
        results = state.get("results", {})
        actions: list[Action] = []
        for i, call in enumerate(state.get("pending", [])):
            key = call_key(call)
            result = results.get(str(i)) or CallResult(
                tool=call.name, server="?", status="cancelled", text="the call was not run (interrupted)"
            )
            added: list[str] = []
            tokens = 0
            structured = result.structured
            for doc in result.documents:
                earlier = docs.get(doc.id)
                if earlier is not None and doc.meta.get("partial") and earlier.hash != doc.hash:
                    # A page longer than one reply arrives in pieces with the same span.
                    text = earlier.text + doc.text
                    doc = doc.model_copy(
                        update={
                            "text": text,
                            "hash": content_hash(text),
                            "tokens": self.count(text),
                            "meta": merge_pieces(earlier, doc),  # safety lines follow the first piece's
                        }
                    )
                if doc.id not in docs or docs[doc.id].hash != doc.hash:
                    tokens += doc.tokens
                docs[doc.id] = doc
                added.append(doc.id)
            spec = first_calls.get(key)
            failed = failed_reads(structured.get("skipped"))
            failed_notice = ""  # said once the call's line is out
            if spec is not None and result.status != "ok":
                failures.append(f"{spec}: {result.text}")
            elif spec is not None and not added and not structured.get("skipped"):
                failures.append(f"{spec}: nothing readable was found there")
            elif spec is not None and not added and len(failed) == 1 == len(structured["skipped"]):
                failures.append(f"{spec}: {failed[0][1]}")  # the file named could not be read
            elif failed:
                failed_notice = failed_reads_notice(spec or call.name, failed)
            hints: dict[str, Any] = {}
            if structured.get("next"):
                hints["next"] = structured["next"]
                if isinstance(structured.get("left_count"), int) and structured["left_count"] > 0:
                    hints["left"] = structured["left_count"]  # files the chain has not read yet
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
                server=result.server,
                args=call.args,
                status=result.status,
                summary="",
                documents=added,
                tokens_added=tokens,
                duration_s=round(result.duration_s, 3),
                hints=hints or None,
                call_index=i,
            )
            # The planner (a remote model) reads the start of the result: screened like documents.
            seen, _ = screen_text(
                result.text[:4000], uri=call.name, trusted=result.server in TRUSTED_SERVERS,
                redact=self.settings.redact,
            )  # fmt: skip
            action.summary = summarize_observation(action, seen)
            actions.append(action)
            self.emit("call_end", action=action, message=result.text if result.status != "ok" else "")
            if failed_notice:
                self.emit("notice", text=failed_notice)
        return {
            "documents": docs,
            "history": actions,
            "compacted": self._compaction(state, actions),
            "failures": failures,
            "pending": [],
            "results": Overwrite({}),
            "step": step + 1,
        }

    def _compaction(self, state: AgentState, actions: list[Action]) -> dict[str, str]:
        """Compact older observations once the history passes its share of the window."""
        history = [*state.get("history", []), *actions]
        compacted = state.get("compacted", {})
        limit = int(self.settings.compact_at * (self.settings.window or self.model.window))
        new = plan_compaction(
            history, compacted, limit=limit, count=self.count, keep_step=state.get("step", 0)
        )
        if new:
            size = observation_size(history, {**compacted, **new}, self.count)
            self.emit(
                "notice",
                text=f"compacted {len(new)} older call result(s): the history is {size:,} tokens, "
                f"under {limit:,} ({self.settings.compact_at:.0%} of the window); /history lists them",
            )
        return new

    def after_observe(self, state: AgentState) -> Literal["plan", "route", "end"]:
        gathered = sum(d.tokens for d in state.get("documents", {}).values())
        if self.stop.gathering.is_set():
            return self.after_gathering(state)
        if state.get("step", 0) - state.get("turn_start", 0) >= self.settings.max_steps:
            n = self.settings.max_steps
            why = f"stopped gathering after {n} step{'s' if n != 1 else ''} (max_steps)"
            self.emit("notice", text=why + _unread(state, "raise --max-steps"))
            return self.after_gathering(state)
        # An unbounded pack (forage pack without --budget) wants every file, like Repomix.
        if gathered >= self.settings.max_gather_tokens and not state.get("unbounded"):
            why = f"stopped gathering at {gathered:,} tokens (max_gather_tokens)"
            self.emit("notice", text=why + _unread(state, "raise max_gather_tokens in the config"))
            return self.after_gathering(state)
        return "plan"

    def after_gathering(self, state: AgentState) -> Literal["route", "end"]:
        return "end" if state.get("gather_only") else "route"


def _unread(state: AgentState, remedy: str) -> str:
    """What a stop leaves unread: the files still to come in the last step's chains of pages."""
    step = state.get("step", 0) - 1
    left = [a for a in state.get("history", []) if a.step == step and a.hints and a.hints.get("left")]
    if not left:
        return ""
    files = sum(int(a.hints["left"]) for a in left if a.hints)
    where = ", ".join(dict.fromkeys(_what(a) for a in left))
    return (
        f": {files:,} file(s) of {where} not read yet; {remedy} to read them, or ask about a narrower folder"
    )


def _what(action: Action) -> str:
    target = action.args.get("paths_or_glob") or action.args.get("repo") or action.tool
    return ", ".join(map(str, target)) if isinstance(target, list) else str(target)
