"""The observe node: fold a round's saved call results into the corpus and the action history.

Reading a source to its end is reading, not planning: when a source's first read (a folder,
an office document, a repository) comes back with a next page, observe hands that page on as
the next round's call, at the same step, without asking the planner. Each page is its own
`call` task, so its result is saved the moment it ends (a killed session re-reads no finished
page), and only the planner's own steps count toward max_steps.
"""

from __future__ import annotations

from typing import Any

from agent.events import CallEnd, EventSink, Notice
from agent.gather.calls import call_key, make_action, next_page, skipped_pdfs
from agent.gather.documents import TRUSTED_SERVERS, content_hash
from agent.gather.sources import failed_reads, failed_reads_notice
from agent.graph.compaction import observation_size, plan_compaction
from agent.graph.control import Stop
from agent.graph.prompts import summarize_observation
from agent.mcp.toolbox import Toolbox
from agent.safety.screening import merge_pieces, screen_text
from agent.settings import Settings
from agent.state import Action, AgentState, CallResult, Document, ToolCall
from agent.tokens import TokenCounter


class Observer:
    """The observe node, bound to one run's settings, token counter, toolbox and event sink."""

    def __init__(
        self,
        settings: Settings,
        count: TokenCounter,
        toolbox: Toolbox,
        emit: EventSink,
        stop: Stop,
        window: int,
    ) -> None:
        self.settings = settings
        self.count = count
        self.toolbox = toolbox
        self.emit = emit
        self.stop = stop
        self.window = window

    async def observe(self, state: AgentState) -> dict[str, Any]:
        """Fold the round's saved call results into the corpus and the history; hand on source pages."""
        from langgraph.types import Overwrite

        step = state.get("step", 0)
        docs = dict(state.get("documents", {}))
        failures = list(state.get("failures", []))
        first_calls = state.get("first_calls", {})
        results = state.get("results", {})
        paging = state.get("paging") or []  # this round reads further pages of these calls of the step
        folded: list[tuple[ToolCall, CallResult, list[Document], int]] = []
        for i, call in enumerate(state.get("pending", [])):
            result = results.get(str(i)) or CallResult(
                tool=call.name, server="?", status="cancelled", text="the call was not run (interrupted)"
            )
            added, tokens = self._fold(result.documents, docs)
            folded.append((call, result, added, tokens))
        gathered = sum(d.tokens for d in docs.values())
        room = state.get("unbounded") or gathered < self.settings.max_gather_tokens
        actions: list[Action] = []
        pages: list[ToolCall] = []
        origins: list[int] = []
        for i, (call, result, added, tokens) in enumerate(folded):
            index = paging[i] if paging else i
            structured = result.structured
            spec = first_calls.get(call_key(call))
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
            page = None
            if (
                result.status == "ok"
                and (paging or spec is not None)
                and room
                and not self.stop.gathering.is_set()
            ):
                page = next_page(call, structured)
            if page is not None:
                pages.append(page)
                origins.append(index)
            hints = await self._hints(structured, followed=page is not None, failures=failures)
            action = make_action(
                step=step, tool=call.name, server=result.server, args=call.args, status=result.status,
                added=added, tokens=tokens, duration_s=result.duration_s, hints=hints, call_index=index,
            )  # fmt: skip
            # The planner (a remote model) reads the start of the result: screened like documents.
            seen, _ = screen_text(
                result.text[:4000], uri=call.name, trusted=result.server in TRUSTED_SERVERS,
                redact=self.settings.redact,
            )  # fmt: skip
            action.summary = summarize_observation(action, seen)
            actions.append(action)
            self.emit(CallEnd(action=action, message=result.text if result.status != "ok" else ""))
            if failed_notice:
                self.emit(Notice(text=failed_notice))
        return {
            "documents": docs,
            "history": actions,
            "compacted": self._compaction(state, actions),
            "failures": failures,
            "pending": pages,
            "paging": origins,
            "results": Overwrite({}),
            "step": step if pages else step + 1,
        }

    def _fold(self, documents: list[Document], docs: dict[str, Document]) -> tuple[list[Document], int]:
        """Put one call's documents in the corpus; return them and the tokens that are new."""
        added: list[Document] = []
        tokens = 0
        for doc in documents:
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
            added.append(doc)
        return added, tokens

    async def _hints(
        self, structured: dict[str, Any], *, followed: bool, failures: list[str]
    ) -> dict[str, Any]:
        """The follow-ups a result offers the planner: more pages (unless read now), PDFs to read."""
        hints: dict[str, Any] = {}
        if structured.get("next") and not followed:
            hints["next"] = structured["next"]
            if isinstance(structured.get("left_count"), int) and structured["left_count"] > 0:
                hints["left"] = structured["left_count"]  # files the chain has not read yet
        pdfs = skipped_pdfs(structured.get("skipped"))
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
        return hints

    def _compaction(self, state: AgentState, actions: list[Action]) -> dict[str, str]:
        """Compact older observations once the history passes its share of the window."""
        history = [*state.get("history", []), *actions]
        compacted = state.get("compacted", {})
        limit = int(self.settings.compact_at * (self.settings.window or self.window))
        new = plan_compaction(
            history, compacted, limit=limit, count=self.count, keep_step=state.get("step", 0)
        )
        if new:
            size = observation_size(history, {**compacted, **new}, self.count)
            self.emit(
                Notice(
                    text=f"compacted {len(new)} older call result(s): the history is {size:,} tokens, "
                    f"under {limit:,} ({self.settings.compact_at:.0%} of the window); /history lists them"
                )
            )
        return new


def unread(state: AgentState, remedy: str) -> str:
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
