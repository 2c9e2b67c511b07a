"""The strategies a case is run with. Each one goes through the agent the way a user does.

  full      every gathered token, window ignored: what a model whose window holds the whole
            corpus is sent (`session.run` with an unbounded pack).
  select    forage's retrieval under the window (`--route select`).
  self      Self-Route: a small selection first, widened when the model cannot answer (`--route self`).
  truncate  the baseline of a naive long-context call: the gathered corpus, in pack order,
            cut at the budget.
  topk      the usual RAG baseline: the five chunks nearest the question by embedding alone.

The baselines gather with the agent (`session.run`, pack only, the deterministic planner)
and answer with the model under test and the same answer prompt as the agent's answer node. A strategy is a coroutine
(Trial) -> Outcome; tests register deliberately broken ones to prove the gates can fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agent.gather.documents import content_hash
from agent.graph.answering import cited_blocks
from agent.graph.prompts import answer_messages
from agent.models.base import ChatModel
from agent.models.extractive import ExtractiveModel
from agent.models.refusal import is_refusal
from agent.pack.packing import build_pack, sort_key
from agent.pack.routing import available_tokens
from agent.session.result import RunResult
from agent.session.session import run as run_session
from agent.settings import Settings
from agent.state import Document, Pack, Span, Usage
from agent.tokens import TokenCounter
from evals.tasks.base import Case

TOPK = 5


@dataclass
class Trial:
    """One case about to be run: what a strategy needs to know."""

    case: Case
    specs: list[str]  # the case's sources, resolved (absolute paths, loopback URLs)
    settings: Settings  # window, reserve, data_dir, allowed hosts: the strategy sets the route
    model: ChatModel
    gathered: dict[str, RunResult] = field(default_factory=dict)  # shared by the baselines of a case
    gather_seconds: float = 0.0

    @property
    def budget(self) -> int:
        """The pack budget the window leaves (as the agent computes it)."""
        return available_tokens(self.settings, self.model.window)


@dataclass
class Outcome:
    """What a strategy sent and got back."""

    pack: Pack | None
    answer: str
    extractive: bool
    usage: Usage
    tool_calls: int
    gathered_tokens: int
    seconds: float
    route: str
    cited: list[str] = field(default_factory=list)  # URIs of the blocks the answer cites
    failures: list[str] = field(default_factory=list)


Strategy = Callable[[Trial], Awaitable[Outcome]]


def _outcome(result: RunResult, *, seconds: float | None = None) -> Outcome:
    answer = result.answer
    return Outcome(
        pack=result.pack, answer=answer.text if answer else "", extractive=bool(answer and answer.extractive),
        usage=result.usage, tool_calls=len(result.history), gathered_tokens=result.gathered_tokens,
        seconds=result.duration_s if seconds is None else seconds, route=" > ".join(result.route_trace),
        cited=[c.uri for c in answer.citations] if answer else [], failures=list(result.failures),
    )  # fmt: skip


async def _agent(trial: Trial, route: str, *, unbounded: bool = False) -> Outcome:
    settings = trial.settings.model_copy(update={"route": route})
    started = time.perf_counter()  # wall time as the user waits for it: server start-up included
    result = await run_session(trial.case.question, trial.specs, settings, trial.model, unbounded=unbounded)
    return _outcome(result, seconds=time.perf_counter() - started)


async def full(trial: Trial) -> Outcome:
    return await _agent(trial, "full", unbounded=True)


async def select(trial: Trial) -> Outcome:
    return await _agent(trial, "select")


async def self_route(trial: Trial) -> Outcome:
    return await _agent(trial, "self")


async def gathered(trial: Trial) -> RunResult:
    """The case's sources gathered by the agent (pack only, nothing dropped), once per case.

    The deterministic planner gathers (one call per source and its continuations): the
    baselines are defined over the whole corpus, and a generative model under test would
    otherwise spend planning calls on a gathering whose only use is to hand over documents.
    """
    if "all" not in trial.gathered:
        settings = trial.settings.model_copy(update={"route": "full"})
        planner = ExtractiveModel(window=trial.model.window)
        started = time.perf_counter()
        trial.gathered["all"] = await run_session(
            trial.case.question, trial.specs, settings, planner, want_answer=False, unbounded=True
        )
        trial.gather_seconds = time.perf_counter() - started
    return trial.gathered["all"]


EMBEDDING_STRATEGIES = frozenset({"topk", "select", "self"})


async def warm_index(trial: Trial) -> float:
    """Index the case's chunks once, before any strategy is timed; return the seconds it took.

    Whichever strategy ran first would otherwise pay for embedding the corpus and the others
    would find it cached: timing them all on a warm index (as after `forage index`) keeps
    their latencies comparable, and the one-time cost is reported apart (index_s).
    """
    from agent.pack.routing import choose_route
    from agent.retrieval import select as retrieval
    from agent.retrieval.chroma_index import ChunkIndex
    from agent.retrieval.chunking import chunk_all
    from agent.retrieval.embeddings import choose_embedder

    base = await gathered(trial)
    embedder, _ = await asyncio.to_thread(choose_embedder, trial.settings)
    if embedder is None or not base.gathered:
        return 0.0
    budgets = {trial.budget, choose_route("self", base.gathered_tokens, trial.budget)[1] or trial.budget}
    started = time.perf_counter()

    def index() -> None:
        with ChunkIndex(trial.settings, embedder) as idx:
            for size in sorted({retrieval.chunk_target(b) for b in budgets}):
                idx.add(chunk_all(base.gathered, size), size)

    await asyncio.to_thread(index)
    return time.perf_counter() - started


async def answer_pack(trial: Trial, pack: Pack) -> tuple[str, Usage, list[str]]:
    """Ask the model about a pack exactly as the agent's answer node does."""
    reply = await asyncio.to_thread(trial.model.generate, answer_messages(pack), None)
    if reply.unanswerable or is_refusal(reply.text):
        return "", reply.usage, []  # a refusal is no answer (the answer node drops it the same way)
    return reply.text, reply.usage, [c.uri for c in cited_blocks(reply.text, pack)]


async def _baseline(
    trial: Trial, choose: Callable[[list[Document], TokenCounter], list[Document]]
) -> Outcome:
    base = await gathered(trial)
    started = time.perf_counter()
    counter = TokenCounter(trial.model.count_tokens)
    docs = await asyncio.to_thread(choose, list(base.gathered), counter)
    pack = build_pack(
        docs, trial.case.question, count_tokens=counter, exact_tokens=counter.exact, budget=trial.budget,
        route="select", gathered_tokens=base.gathered_tokens,
    )  # fmt: skip
    text, usage, cited = await answer_pack(trial, pack)
    return Outcome(
        pack=pack, answer=text, extractive=trial.model.extractive, usage=base.usage + usage,
        tool_calls=len(base.history), gathered_tokens=base.gathered_tokens,
        seconds=trial.gather_seconds + time.perf_counter() - started, route=f"baseline@{trial.budget}",
        cited=cited, failures=list(base.failures),
    )  # fmt: skip


def _cut(doc: Document, room: int, counter: TokenCounter) -> Document | None:
    """The head of a document that fits `room` tokens, whole lines only."""
    lines = doc.text.splitlines(keepends=True)
    used = 0
    keep = 0
    for line in lines:
        t = counter(line)
        if used + t > room:
            break
        used += t
        keep += 1
    if keep == 0:
        return None
    text = "".join(lines[:keep])
    start = doc.span.start if doc.span.kind == "lines" and doc.span.start else 1
    span = Span(kind="lines", start=start, end=start + keep - 1) if doc.span.kind == "lines" else doc.span
    return doc.model_copy(update={"text": text, "hash": content_hash(text), "span": span, "tokens": used})


async def truncate(trial: Trial) -> Outcome:
    question_cost = 80 + len(trial.case.question) // 3  # the question block and the pack's heading

    def choose(docs: list[Document], counter: TokenCounter) -> list[Document]:
        room = trial.budget - question_cost
        out: list[Document] = []
        for doc in sorted(docs, key=sort_key):
            frame = 24 + counter(doc.uri) * 2  # the block's header and fences
            if room - frame <= 0:
                break
            piece = doc if doc.tokens + frame <= room else _cut(doc, room - frame, counter)
            if piece is None:
                break
            out.append(piece)
            room -= piece.tokens + frame
            if piece is not doc:
                break
        return out

    return await _baseline(trial, choose)


async def topk(trial: Trial) -> Outcome:
    from agent.retrieval import select as retrieval
    from agent.retrieval.blocks import merge_neighbours
    from agent.retrieval.chroma_index import ChunkIndex
    from agent.retrieval.chunking import chunk_all
    from agent.retrieval.embeddings import choose_embedder

    def choose(docs: list[Document], counter: TokenCounter) -> list[Document]:
        embedder, notice = choose_embedder(trial.settings)
        if embedder is None:
            raise RuntimeError(
                f"the topk baseline ranks by embeddings alone, and none is available: {notice}"
            )
        size = retrieval.chunk_target(trial.budget)
        chunks = chunk_all(docs, size)
        by_id = {c.id: c for c in chunks}
        with ChunkIndex(trial.settings, embedder) as index:
            index.add(chunks, size)
            top = index.dense(embedder.embed_query(trial.case.question), list(by_id), TOPK)
        blocks = merge_neighbours([by_id[i] for i in top], {d.id: d for d in docs})
        for b in blocks:
            b.tokens = b.tokens or counter(b.text)
        return blocks

    return await _baseline(trial, choose)


STRATEGIES: dict[str, Strategy] = {
    "full": full,
    "truncate": truncate,
    "topk": topk,
    "select": select,
    "self": self_route,
}
DESCRIPTIONS = {
    "full": "every gathered token (window ignored): the long-context upper bound and its cost",
    "truncate": "the corpus in pack order, cut at the budget (a naive long-context call)",
    "topk": f"the {TOPK} chunks nearest the question by embedding alone (the usual RAG baseline)",
    "select": "forage's retrieval (BM25 + dense + fill) under the window",
    "self": "Self-Route: a small selection first, widened when the model cannot answer",
}


def describe(name: str) -> str:
    return DESCRIPTIONS.get(name, "(registered at run time)")
