"""Sessions: resolve sources, start servers once, run the graph per question, resume after a kill.

A Session keeps its MCP servers, documents and action history across questions (follow-ups
reuse what was gathered, and a byte-identical pack lets the model reuse its context cache).
With a checkpointer every step is saved (durability="sync"), and every tool call as soon as it
finishes, so a killed chat resumes where it stopped and runs no finished call twice. Sources
can be added (only the new one is gathered) and dropped (its documents leave the corpus).
`run` is one question in a throwaway session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from agent.errors import SourceError
from agent.events import EventSink, Notice, ServersStarting, SourceFailed, ignore
from agent.gather.calls import call_key
from agent.gather.sources import Source, resolve_source, resolve_sources, source_of
from agent.graph.control import Stop
from agent.graph.prompts import plan_request
from agent.mcp.server_configs import server_configs
from agent.mcp.toolbox import Toolbox
from agent.mcp.trust import TrustStore
from agent.models.base import ChatModel
from agent.paths import places
from agent.session.result import RunResult
from agent.session.store import SessionStore
from agent.settings import Settings
from agent.state import Document, Usage

PAGE_ROUNDS = 100_000  # supersteps allowed for reading sources page by page


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
        store: SessionStore | None = None,
        toolbox: Toolbox | None = None,
        one_shot: bool = False,
    ) -> None:
        self.specs = list(dict.fromkeys(specs))
        self.one_shot = one_shot  # one question, then closed: its own servers stop once gathering is over
        self.settings = settings
        self.model = model
        self.emit: EventSink = on_event or ignore
        self.on_text = on_text
        self.checkpointer = checkpointer
        self.thread_id = thread_id or uuid.uuid4().hex[:12]
        self.store = store
        self.stop = Stop()
        self.sources: list[Source] = []
        self.failures: list[str] = []
        self._stack = contextlib.AsyncExitStack()
        self.toolbox: Toolbox | None = toolbox  # given: owned (kept running) by the caller, e.g. forage mcp
        self._owns_toolbox = toolbox is None
        self.graph: Any = None

    @property
    def config(self) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": self.thread_id},
            # The planner's steps, plus the rounds that read sources page by page (two supersteps
            # each, as many as a source has pages: a folder of 100k files has a few hundred).
            "recursion_limit": 10 * self.settings.max_steps + 40 + PAGE_ROUNDS,
        }

    async def __aenter__(self) -> Session:
        self.sources, self.failures = resolve_sources(self.specs, self.settings)
        for line in self.failures:
            self.emit(SourceFailed(text=line))
        toolbox = self.toolbox
        if toolbox is None:
            toolbox = self.toolbox = Toolbox(
                server_configs(self.settings, self.sources),
                timeout=self.settings.call_timeout,
                log_dir=places(self.settings).logs,
                trust=TrustStore(places(self.settings).trust),
            )
            await self._stack.enter_async_context(toolbox)
        toolbox.emit = self.emit
        needed = set().union(*(s.servers for s in self.sources)) if self.sources else set()
        # Third-party servers start too, so the planner sees their tools; one that fails is a
        # notice unless a source needs it.
        wanted = (needed | toolbox.third_party()) - toolbox.running()
        starting = None
        if wanted:
            self.emit(ServersStarting(names=tuple(sorted(wanted))))
            starting = asyncio.create_task(toolbox.start(wanted))
            await asyncio.sleep(0)  # let the subprocesses spawn before the slow import below
        import agent.graph.build  # noqa: F401 - imports langgraph (~1 s) while the servers boot

        if starting is not None:
            for name, error in (await starting).items():
                if name in needed:
                    self.failures.append(f"{name} server: {error}")
                    self.emit(SourceFailed(text=f"{name} server: {error}"))
                else:
                    self.emit(Notice(text=f"{name} server not available: {error}"))
        for source in [s for s in self.sources if s.kind == "mcp"]:
            reason = toolbox.unavailable(source.first_calls[0].name)
            if reason:  # a changed, excluded or misspelt tool: say why instead of skipping it
                self.sources.remove(source)
                self.failures.append(f"{source.spec}: {reason}")
                self.emit(SourceFailed(text=f"{source.spec}: {reason}"))
        self._build()
        if self.store is not None:
            self.store.touch(self.thread_id, self.specs)
        return self

    def _build(self) -> None:
        from agent.graph.build import build_graph

        assert self.toolbox is not None
        self.graph = build_graph(
            self.settings,
            self.model,
            self.toolbox,
            on_event=self.emit,
            on_text=self.on_text,
            checkpointer=self.checkpointer,
            stop=self.stop,
            on_gathered=self._release_servers if self.one_shot and self._owns_toolbox else None,
        )

    async def _release_servers(self) -> None:
        """Stop this one-shot session's servers: nothing after gathering calls a tool, and a big
        folder's files server holds ~200 MB while the corpus is ranked and packed."""
        from agent.safety.secret_verdicts import forget_verdicts
        from tools.runtime import release_memory

        if self.toolbox is not None:
            await self.toolbox.close()
        forget_verdicts()  # 100k clean-verdict keys are ~9 MB, and no more results come in
        release_memory()  # what gathering freed (~60 MB on 100k files), before the ranking peak

    def use_model(self, model: ChatModel) -> None:
        """Answer (and plan) the next questions with another model; what was gathered stays."""
        self.model = model
        self._build()

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
        """Finish the question a killed run left unfinished, from its last saved step.

        Calls that had finished are not run again: their results were saved as they ended.
        """
        before = await self.saved() or {}
        started = time.perf_counter()
        self.stop.clear()
        final = await self._invoke(None)
        result = self._result(final, before, started)
        if self.store is not None and not final.get("gather_only"):
            n = self.store.unfinished(self.thread_id)
            if n is not None:
                self._record(n, result)
        return result

    async def settle(self) -> None:
        """Close a turn that was cancelled outright: keep its finished calls, skip the rest."""
        if await self.interrupted() is None:
            return
        self.stop.gathering.set()
        self.stop.answer.set()
        before = await self.saved() or {}
        final = await self._invoke(None)
        if self.store is not None and not final.get("gather_only"):
            n = self.store.unfinished(self.thread_id)
            if n is not None:
                self._record(n, self._result(final, before, time.perf_counter()))
        self.stop.clear()

    async def ask(
        self,
        question: str,
        *,
        want_answer: bool = True,
        unbounded: bool = False,
        pack_format: str = "markdown",
        documents: dict[str, Document] | None = None,
    ) -> RunResult:
        """Gather what the question needs (follow-ups reuse the session's documents), pack, answer.

        documents: material gathered before (forage mcp's fresh sources), packed with the rest.
        """
        await self.settle()
        self.stop.clear()
        started = time.perf_counter()
        before = await self.saved() or {}
        n = self.store.ask(self.thread_id, question) if self.store is not None else None
        update: dict[str, Any] = {
            "question": question,
            "plan_request": plan_request(question, self.sources, self.failures),
            "pending": [],
            "paging": [],
            "done": False,
            "gather_only": False,
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
                "documents": dict(documents or {}),
                "history": [],
                "failures": list(self.failures),
                "step": 0,
                "usage": Usage(),
                "route_trace": [],
                "route_why": [],
                "turns": [],
            }
        final = await self._invoke(update)
        result = self._result(final, before, started)
        if n is not None:
            self._record(n, result)
        return result

    def _record(self, n: int, result: RunResult) -> None:
        assert self.store is not None
        answer = result.answer
        text = answer.text if answer else None
        if answer is not None and answer.unanswerable:
            text = f"*The gathered sources do not answer this question: {answer.missing}*"
        status = "answered"
        if answer is not None and answer.stopped:
            status = "stopped"
        self.store.finish(
            self.thread_id,
            n,
            answer=text,
            citations=[c.render() for c in answer.citations] if answer else [],
            model=answer.model if answer else self.model.name,
            status=status,
        )

    # -- changing the sources --------------------------------------------------------
    async def add_source(self, spec: str) -> RunResult:
        """Add a source and gather it now; what the others gave is kept and not read again."""
        if spec in self.specs:
            raise SourceError(f"{spec} is already a source of this session (/sources lists them)")
        source = resolve_source(spec, self.settings)  # raises SourceError with what to do
        self.specs.append(spec)
        self.sources.append(source)
        await self._restart_servers()
        await self.settle()
        self.stop.clear()
        started = time.perf_counter()
        before = await self.saved() or {}
        question = before.get("question") or f"What does {spec} contain?"
        first_calls = dict(before.get("first_calls") or {})
        first_calls.update({call_key(c): spec for c in source.first_calls})
        update: dict[str, Any] = {
            "question": question,
            "plan_request": plan_request(question, self.sources, self.failures),
            "sources": self.specs,
            "first_calls": first_calls,
            "pending": [],
            "paging": [],
            "done": False,
            "gather_only": True,
            "turn_start": before.get("step", 0),
        }
        if not before:
            update |= {"documents": {}, "history": [], "failures": [], "step": 0, "usage": Usage()}
            update |= {"route_trace": [], "route_why": [], "turns": []}
        final = await self._invoke(update)
        if self.store is not None:
            self.store.touch(self.thread_id, self.specs)
        return self._result(final, before, started)

    async def drop_source(self, spec: str) -> int:
        """Stop using a source: its documents leave the corpus. Returns how many were removed."""
        source = next((s for s in self.sources if s.spec == spec), None)
        if source is None:
            known = ", ".join(self.specs) or "none"
            raise SourceError(f"{spec} is not a source of this session (its sources: {known})")
        await self.settle()
        kept = [s for s in self.sources if s is not source]
        saved = await self.saved() or {}
        docs: dict[str, Document] = saved.get("documents") or {}
        remaining = {k: d for k, d in docs.items() if source_of(d, self.sources) != spec}
        self.sources = kept
        self.specs = [s.spec for s in kept]
        await self._restart_servers()
        if self.checkpointer is not None and saved:
            await self.graph.aupdate_state(
                self.config, {"documents": remaining, "sources": self.specs}, as_node="amend"
            )
        if self.store is not None:
            self.store.touch(self.thread_id, self.specs)
        return len(docs) - len(remaining)

    async def _restart_servers(self) -> None:
        """Servers see exactly the current sources (a dropped folder is no longer readable)."""
        assert self.toolbox is not None
        await self.toolbox.reconfigure(server_configs(self.settings, self.sources))
        needed = set().union(*(s.servers for s in self.sources)) if self.sources else set()
        for name, error in (await self.toolbox.start(needed)).items():
            self.failures.append(f"{name} server: {error}")
            self.emit(SourceFailed(text=f"{name} server: {error}"))

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
    """One question in a throwaway session: gather, pack and (unless packing only) answer.

    Background embedding waits for it to end (agent/retrieval/background.py): this process is at its
    memory peak until then, and ends soon after.
    """
    from agent.retrieval.background import answering

    with answering(places(settings).cache):
        async with Session(
            specs, settings, model, on_event=on_event, on_text=on_text, one_shot=True
        ) as session:
            return await session.ask(
                question, want_answer=want_answer, unbounded=unbounded, pack_format=pack_format
            )
