"""One run of the agent: resolve sources, start servers, run the graph, return the result."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from agent.models.base import ChatModel
from agent.nodes import EventSink, call_key
from agent.prompts import plan_request
from agent.result import RunResult
from agent.settings import Settings
from agent.sources import resolve_sources
from agent.state import Usage
from agent.toolbox import Toolbox, server_configs


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
    checkpointer: Any = None,
    thread_id: str | None = None,
) -> RunResult:
    """Gather from the sources, pack, and (unless packing only) answer."""
    started = time.perf_counter()
    emit = on_event or (lambda *a, **k: None)
    sources, failures = resolve_sources(specs, settings)
    for line in failures:
        emit("source_failed", text=line)
    configs = server_configs(settings, sources)
    async with Toolbox(configs, timeout=settings.call_timeout, log_dir=settings.data_dir / "logs") as toolbox:
        needed = set().union(*(s.servers for s in sources)) if sources else set()
        # The files server is needed for every local source (folders may hold PDFs too).
        if "pdf" in needed and "files" in configs:
            needed.add("files")
        starting = None
        if needed:
            emit("servers_starting", names=sorted(needed))
            starting = asyncio.create_task(toolbox.start(needed))
            await asyncio.sleep(0)  # let the subprocesses spawn before the slow import below
        from agent.graph import build_graph  # imports langgraph (~1 s) while the servers boot

        if starting is not None:
            for name, error in (await starting).items():
                failures.append(f"{name} server: {error}")
                emit("source_failed", text=f"{name} server: {error}")
        graph = build_graph(
            settings, model, toolbox, on_event=on_event, on_text=on_text, checkpointer=checkpointer
        )
        state = {
            "question": question,
            "sources": specs,
            "plan_request": plan_request(question, sources, failures),
            "first_calls": {call_key(c): s.spec for s in sources for c in s.first_calls},
            "documents": {},
            "history": [],
            "failures": failures,
            "step": 0,
            "want_answer": want_answer,
            "unbounded": unbounded,
            "pack_format": pack_format,
            "usage": Usage(),
            "route_trace": [],
        }
        config = {
            "configurable": {"thread_id": thread_id or uuid.uuid4().hex},
            "recursion_limit": 10 * settings.max_steps + 20,
        }
        # durability="sync": a killed process must not lose its last step (needs a checkpointer).
        extra = {"durability": "sync"} if checkpointer is not None else {}
        final = await graph.ainvoke(state, config=config, **extra)
    docs = final.get("documents", {})
    return RunResult(
        question=question,
        pack=final.get("pack"),
        answer=final.get("answer"),
        history=list(final.get("history", [])),
        failures=list(dict.fromkeys(final.get("failures", []))),
        usage=final.get("usage", Usage()),
        gathered_tokens=sum(d.tokens for d in docs.values()),
        documents=len(docs),
        route_trace=list(final.get("route_trace", [])),
        duration_s=time.perf_counter() - started,
        gathered=list(docs.values()),
    )
