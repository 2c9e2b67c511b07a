"""Sessions: resolve sources, start servers once, run the graph per question, resume after a kill.

A Session keeps its MCP servers, documents and action history across questions (follow-ups
reuse what was gathered, and a byte-identical pack lets the model reuse its context cache).
With a checkpointer every step is saved (durability="sync"), so a killed chat resumes where it
stopped. `run` is one question in a throwaway session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from agent.models.base import ChatModel
from agent.nodes import EventSink, call_key
from agent.prompts import plan_request
from agent.result import RunResult
from agent.settings import Settings
from agent.sources import Source, resolve_sources
from agent.state import Usage
from agent.toolbox import Toolbox, server_configs


class Session:
    """One conversation over a fixed set of sources."""

    def __init__(
        self,
        specs: list[str],
        settings: Settings,
        model: ChatModel,
        *,
        on_event: EventSink | None = None,
        on_text: Callable[[str], None] | None = None,
        checkpointer: Any = None,
        thread_id: str | None = None,
    ) -> None:
        self.specs = specs
        self.settings = settings
        self.model = model
        self.emit: EventSink = on_event or (lambda *a, **k: None)
        self.on_text = on_text
        self.checkpointer = checkpointer
        self.thread_id = thread_id or uuid.uuid4().hex[:12]
        self.sources: list[Source] = []
        self.failures: list[str] = []
        self._stack = contextlib.AsyncExitStack()
        self.graph: Any = None

    @property
    def config(self) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": self.thread_id},
            "recursion_limit": 10 * self.settings.max_steps + 40,
        }

    async def __aenter__(self) -> Session:
        self.sources, self.failures = resolve_sources(self.specs, self.settings)
        for line in self.failures:
            self.emit("source_failed", text=line)
        configs = server_configs(self.settings, self.sources)
        toolbox = Toolbox(
            configs, timeout=self.settings.call_timeout, log_dir=self.settings.data_dir / "logs"
        )
        await self._stack.enter_async_context(toolbox)
        needed = set().union(*(s.servers for s in self.sources)) if self.sources else set()
        starting = None
        if needed:
            self.emit("servers_starting", names=sorted(needed))
            starting = asyncio.create_task(toolbox.start(needed))
            await asyncio.sleep(0)  # let the subprocesses spawn before the slow import below
        from agent.graph import build_graph  # imports langgraph (~1 s) while the servers boot

        if starting is not None:
            for name, error in (await starting).items():
                self.failures.append(f"{name} server: {error}")
                self.emit("source_failed", text=f"{name} server: {error}")
        self.graph = build_graph(
            self.settings,
            self.model,
            toolbox,
            on_event=self.emit,
            on_text=self.on_text,
            checkpointer=self.checkpointer,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _invoke(self, update: dict[str, Any] | None) -> dict[str, Any]:
        # durability="sync": a killed process must not lose its last step (needs a checkpointer).
        extra = {"durability": "sync"} if self.checkpointer is not None else {}
        return await self.graph.ainvoke(update, config=self.config, **extra)

    async def saved(self) -> dict[str, Any] | None:
        """The last checkpointed state of this session, if it has one."""
        if self.checkpointer is None:
            return None
        snapshot = await self.graph.aget_state(self.config)
        return dict(snapshot.values) if snapshot and snapshot.values else None

    async def interrupted(self) -> str | None:
        """The question a killed run left unfinished, if any."""
        if self.checkpointer is None:
            return None
        snapshot = await self.graph.aget_state(self.config)
        if snapshot and snapshot.next:
            return str(snapshot.values.get("question", ""))
        return None

    async def resume(self) -> RunResult:
        """Finish the question a killed run left unfinished, from its last saved step."""
        before = await self.saved() or {}
        started = time.perf_counter()
        final = await self._invoke(None)
        return self._result(final, before, started)

    async def ask(
        self,
        question: str,
        *,
        want_answer: bool = True,
        unbounded: bool = False,
        pack_format: str = "markdown",
    ) -> RunResult:
        """Gather what the question needs (follow-ups reuse the session's documents), pack, answer."""
        started = time.perf_counter()
        before = await self.saved() or {}
        update: dict[str, Any] = {
            "question": question,
            "plan_request": plan_request(question, self.sources, self.failures),
            "pending": [],
            "done": False,
            "turn_start": before.get("step", 0),
            "want_answer": want_answer,
            "unbounded": unbounded,
            "pack_format": pack_format,
            "pack": None,
            "answer": None,
            "unanswerable": False,
        }
        if not before:
            update |= {
                "sources": self.specs,
                "first_calls": {call_key(c): s.spec for s in self.sources for c in s.first_calls},
                "documents": {},
                "history": [],
                "failures": list(self.failures),
                "step": 0,
                "usage": Usage(),
                "route_trace": [],
                "route_why": [],
                "turns": [],
            }
        final = await self._invoke(update)
        return self._result(final, before, started)

    def _result(self, final: dict[str, Any], before: dict[str, Any], started: float) -> RunResult:
        docs = final.get("documents", {})
        history = list(final.get("history", []))
        trace = list(final.get("route_trace", []))
        why = list(final.get("route_why", []))
        return RunResult(
            question=str(final.get("question", "")),
            pack=final.get("pack"),
            answer=final.get("answer"),
            history=history[len(before.get("history", [])) :],
            failures=list(dict.fromkeys(final.get("failures", []))),
            usage=_minus(final.get("usage", Usage()), before.get("usage", Usage())),
            gathered_tokens=sum(d.tokens for d in docs.values()),
            documents=len(docs),
            route_trace=trace[len(before.get("route_trace", [])) :],
            route_why=why[len(before.get("route_why", [])) :],
            duration_s=time.perf_counter() - started,
            gathered=list(docs.values()),
        )


def _minus(after: Usage, before: Usage) -> Usage:
    """This question's usage: the session's total now, less what it was before."""
    cost = None if after.cost_usd is None else after.cost_usd - (before.cost_usd or 0)
    return Usage(
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        cached_tokens=after.cached_tokens - before.cached_tokens,
        output_tokens=after.output_tokens - before.output_tokens,
        thinking_tokens=after.thinking_tokens - before.thinking_tokens,
        cost_usd=cost,
        cost_known=after.cost_known,
    )


def checkpoint_serde() -> Any:
    """A checkpoint serializer that revives only our own state records, nothing else."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agent import state

    allowed = [
        state.Document, state.Span, state.Action, state.ToolCall, state.Usage, state.Pack,
        state.BlockEntry, state.Omitted, state.Answer, state.Citation, state.ModelTurn,
    ]  # fmt: skip
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


@contextlib.asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[Any]:
    """A SQLite checkpointer for chat sessions (one file under data_dir)."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        yield AsyncSqliteSaver(conn, serde=checkpoint_serde())


async def run(
    question: str,
    specs: list[str],
    settings: Settings,
    model: ChatModel,
    *,
    want_answer: bool = True,
    unbounded: bool = False,
    pack_format: str = "markdown",
    on_event: EventSink | None = None,
    on_text: Callable[[str], None] | None = None,
) -> RunResult:
    """One question in a throwaway session: gather, pack and (unless packing only) answer."""
    async with Session(specs, settings, model, on_event=on_event, on_text=on_text) as session:
        return await session.ask(
            question, want_answer=want_answer, unbounded=unbounded, pack_format=pack_format
        )
