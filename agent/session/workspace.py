"""What one editor session has gathered: a long-lived toolbox, documents by source, the last pack.

`forage mcp` keeps one Workspace per MCP session. Its servers start once; a source gathered
before is not read again while it is unchanged: a folder is listed (sizes and modification
times, with the files server's own ignore rules) and only the files that changed are read
again, with one read_many. Web pages are reused for a few minutes; third-party tools are
called again every time (their answers are live data). The graph (agent/session/session.py) gathers
new sources and packs, with the reused documents seeded into its state. Git repositories are
reused like web pages (the files server's checkout cache follows the ref when they are read).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.events import CallEnd, CallStart, EventSink, Notice, ignore
from agent.gather.calls import make_action, next_page, skipped_pdfs
from agent.gather.documents import to_documents
from agent.gather.sources import NO_CAP, Source, resolve_sources, source_of
from agent.mcp.server_configs import server_configs
from agent.mcp.toolbox import CallOutcome, Toolbox
from agent.mcp.trust import TrustStore
from agent.models.base import ChatModel, close_model
from agent.paths import places
from agent.safety.secret_verdicts import verdicts_for
from agent.session.result import RunResult
from agent.session.session import Session
from agent.settings import Settings
from agent.state import Action, Document, Pack, ToolCall
from agent.tokens import TokenCounter
from tools.tool_names import ToolName

WEB_REUSE_S = 600.0  # a page (or repository) fetched this recently is not fetched again in the session
HEAVY_SERVERS = {"web", "pdf"}  # they hold a browser or worker processes: stopped on cancel
Listing = dict[str, tuple[int, int]]  # absolute path -> (size, mtime_ns)
log = logging.getLogger(__name__)


@dataclass
class Record:
    """One source as gathered: its documents and what they were read from."""

    source: Source
    doc_ids: set[str]
    listing: Listing = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


@dataclass
class LastPack:
    """The last pack this session made, kept whole so its pages stay consistent."""

    key: tuple[Any, ...]
    pack: Pack
    fmt: str
    question: str
    specs: list[str]
    failures: list[str]


def listing(roots: list[Path], source: Source) -> Listing:
    """Size and mtime of every file a local source holds, found as the files server finds them."""
    from tools.files.walk import walk
    from tools.roots import Roots

    paths: list[str]
    if source.kind == "folder":
        paths = [str(e.path) for e in walk(Roots.of(roots), Path(source.target)).files]
    else:
        paths = [source.target]
    out: Listing = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out[path] = (st.st_size, st.st_mtime_ns)
    return out


class Workspace:
    """Gather, pack and answer over one editor session, reusing what is still fresh."""

    def __init__(self, settings: Settings) -> None:
        if not settings.roots:
            raise ValueError("a Workspace reads only inside settings.roots; set them (forage mcp ROOT...)")
        self.settings = settings
        self.roots = [Path(r).expanduser().resolve() for r in settings.roots]
        self.toolbox = Toolbox(
            server_configs(settings, [], roots=[str(r) for r in self.roots]),
            timeout=settings.call_timeout,
            log_dir=places(settings).logs,
            trust=TrustStore(places(settings).trust),
        )
        self.documents: dict[str, Document] = {}
        self.records: dict[str, Record] = {}
        self.last: LastPack | None = None
        self.lock = asyncio.Lock()
        self.counter = TokenCounter()
        self._models: dict[str, ChatModel] = {}

    # -- models ----------------------------------------------------------------------
    def model(self, name: str | None = None) -> tuple[ChatModel, str | None]:
        """The model of that name (default: the server's), made once per session."""
        from agent.models import make_model

        key = name or self.settings.model
        notice = None
        if key not in self._models:
            self._models[key], notice = make_model(self.settings.model_copy(update={"model": key}))
        return self._models[key], notice

    # -- gathering -------------------------------------------------------------------
    async def run(
        self,
        question: str,
        specs: list[str],
        *,
        want_answer: bool,
        budget: int | None = None,
        unbounded: bool = False,
        fmt: str = "markdown",
        model: str | None = None,
        crawl: bool = False,
        on_event: EventSink | None = None,
    ) -> tuple[RunResult, list[Action]]:
        """Gather (reusing fresh sources), pack and maybe answer; return the result and the calls made."""
        emit = on_event or ignore
        update: dict[str, Any] = {"budget": budget} if budget else {}
        if crawl:
            update["crawl"] = True
        settings = self.settings.model_copy(update=update)
        async with self.lock:
            self.toolbox.forget_failed()
            self.toolbox.emit = emit
            sources, failures = resolve_sources(specs, settings)
            seeded: dict[str, Document] = {}
            fresh_calls: list[Action] = []
            new: list[Source] = []
            for source in sources:
                kept = await self._reuse(source, fresh_calls, emit)
                if kept is None:
                    new.append(source)
                else:
                    seeded |= kept
            # Listed before reading: a file that changes while it is read is read again next time.
            listings = {s.spec: await asyncio.to_thread(self._listing, s) for s in new}
            chat_model, _ = self.model(model)
            session = Session(
                [s.spec for s in new], settings, chat_model, on_event=emit, toolbox=self.toolbox
            )
            async with session:
                result = await session.ask(
                    question, want_answer=want_answer, unbounded=unbounded, pack_format=fmt, documents=seeded
                )
            result.failures = list(dict.fromkeys(failures + result.failures))
            self._remember(new, listings, result)
            if result.pack is not None and not unbounded:  # an index run's whole corpus is no pack to show
                key = (question, tuple(specs), budget, fmt, want_answer, model, crawl)
                self.last = LastPack(key, result.pack, fmt, question, list(specs), result.failures)
            return result, fresh_calls + result.history

    def _listing(self, source: Source) -> Listing:
        return listing(self.roots, source) if source.kind in ("folder", "file", "pdf") else {}

    def _owned(self, record: Record) -> dict[str, Document]:
        return {i: self.documents[i] for i in record.doc_ids if i in self.documents}

    async def _reuse(
        self, source: Source, calls: list[Action], emit: EventSink
    ) -> dict[str, Document] | None:
        """The documents of a source gathered before and still fresh (refreshing changed files)."""
        record = self.records.get(source.spec)
        if record is None or source.kind == "mcp":
            return None
        if source.kind in ("url", "pdf_url", "git"):
            fresh = time.monotonic() - record.at < WEB_REUSE_S
            return self._owned(record) if fresh else None
        now = await asyncio.to_thread(self._listing, source)
        changed = sorted(p for p, sig in now.items() if record.listing.get(p) != sig)
        gone = set(record.listing) - set(now)
        if not changed and not gone:
            emit(Notice(text=f"{source.spec}: unchanged since {record.fetched_at}; not read again"))
            return self._owned(record)
        emit(Notice(text=f"{source.spec}: {len(changed)} changed, {len(gone)} removed; reading the changes"))
        stale = set(changed) | gone
        for doc_id in [i for i in record.doc_ids if self.documents.get(i) is None
                       or self.documents[i].meta.get("path") in stale]:  # fmt: skip
            record.doc_ids.discard(doc_id)
            self.documents.pop(doc_id, None)
        if changed:
            added = await self._read_paths(changed, calls)
            record.doc_ids |= set(added)
            self.documents |= added
        record.listing = now
        record.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        return self._owned(record)

    async def _read_paths(self, paths: list[str], calls: list[Action]) -> dict[str, Document]:
        """Read these files again through the servers: text with read_many, PDFs with read_pdf."""
        out: dict[str, Document] = {}
        pending = [ToolCall(name=ToolName.READ_MANY, args={"paths_or_glob": paths, "max_tokens": NO_CAP})]
        while pending:
            call = pending.pop(0)
            self.toolbox.emit(CallStart(tool=call.name, args=call.args))
            outcome = await self.toolbox.call(call.name, call.args)
            structured = outcome.structured or {}
            added = self._documents(outcome)
            out |= {d.id: d for d in added}
            page = next_page(call, structured) if outcome.status == "ok" else None
            pending += [page] if page is not None else []
            pending += [
                ToolCall(name=ToolName.READ_PDF, args={"path": p})
                for p in skipped_pdfs(structured.get("skipped"))
            ]
            action = make_action(
                step=len(calls), tool=call.name, server=outcome.server, args=call.args, status=outcome.status,
                added=added, duration_s=outcome.duration_s, summary=outcome.text[:300],
            )  # fmt: skip
            self.toolbox.emit(CallEnd(action=action, message=outcome.text if outcome.status != "ok" else ""))
            calls.append(action)
        return out

    def _documents(self, outcome: CallOutcome) -> list[Document]:
        if outcome.status != "ok":
            return []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entries = (outcome.structured or {}).get("documents") or []
        return to_documents(
            entries,
            outcome.server,
            self.counter,
            now,
            redact=self.settings.redact,
            verdicts=verdicts_for(self.settings),
        )

    def _remember(self, new: list[Source], listings: dict[str, Listing], result: RunResult) -> None:
        """Keep every gathered document; give each new source the ones that came from it."""
        before = set(self.documents)
        self.documents |= {d.id: d for d in result.gathered}
        fresh = [d for d in result.gathered if d.id not in before]
        for source in new:
            if any(f.startswith(f"{source.spec}:") for f in result.failures):
                continue  # it failed: gathered again next time
            mine = {d.id for d in fresh if _belongs(source, listings.get(source.spec, {}), d)}
            self.records[source.spec] = Record(source, mine, listings.get(source.spec, {}))

    async def release(self) -> None:
        """After a cancelled call: stop the servers that hold a browser or worker processes."""
        await self.toolbox.stop(HEAVY_SERVERS)

    async def close(self) -> None:
        await self.toolbox.close()
        for model in self._models.values():
            await asyncio.to_thread(close_model, model, log.warning)  # the server's log is its stderr
        self._models.clear()

    # -- reporting -------------------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        """What this session has gathered, per source."""
        out = []
        for spec, record in self.records.items():
            docs = self._owned(record)
            out.append(
                {
                    "source": spec, "kind": record.source.kind, "documents": len(docs),
                    "tokens": sum(d.tokens for d in docs.values()), "files": len(record.listing) or None,
                    "gathered_at": record.fetched_at,
                }
            )  # fmt: skip
        return out


def _belongs(source: Source, files: Listing, doc: Document) -> bool:
    """Whether a newly gathered document came from this source."""
    if source.kind in ("folder", "file", "pdf"):
        return str(doc.meta.get("path", "")) in files
    if source.kind == "mcp":
        return f"{doc.meta.get('server')}/{doc.meta.get('tool')}" == source.target
    return source_of(doc, [source]) == source.spec
