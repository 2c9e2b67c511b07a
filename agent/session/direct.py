"""The direct pack path: local sources packed in-process, without MCP subprocesses or the graph.

`forage pack` over local folders is deterministic: the extractive planner makes one read_many
per folder (plus its continuations), one read_file per file and one read_pdf per PDF, and
never asks a model anything. Making the same calls in-process, on the same pure tools
(tools/files/front.py, and the PDF worker pool with its time and memory limits), skips the server
subprocess, the JSON round trips and about 1.5 s of imports (mcp, langgraph). That is what
keeps a Repomix-sized job fast. URL sources need the web server: they take the agent path.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import SourceError
from agent.events import CallEnd, EventSink, Notice, Packed, Route, SourceFailed, ignore
from agent.gather.calls import make_action, skipped_pdfs
from agent.gather.documents import Read, build_documents
from agent.gather.sources import (
    NO_CAP,
    Source,
    failed_reads,
    failed_reads_notice,
    local_roots,
    resolve_sources,
)
from agent.pack.routing import available_tokens, choose_route, pack_documents
from agent.safety.secret_verdicts import verdicts_for
from agent.session.result import RunResult
from agent.settings import Settings
from agent.state import Action, Document, Span, Usage
from agent.tokens import TokenCounter
from tools.errors import ToolError
from tools.files import front as files
from tools.files.office import is_document
from tools.roots import Roots
from tools.tool_names import ToolName


def is_local(sources: list[Source]) -> bool:
    return bool(sources) and all(s.kind in ("folder", "file", "pdf") for s in sources)


class _Reader:
    """Reads local sources with the pure tools and records each call as an Action."""

    def __init__(
        self, roots: Roots, settings: Settings, counter: TokenCounter, emit: EventSink, limit: int
    ) -> None:
        self.roots = roots
        self.settings = settings
        self.counter = counter
        self.emit = emit
        self.limit = limit
        self.now = datetime.now(UTC).isoformat(timespec="seconds")
        self.docs: dict[str, Document] = {}
        self.history: list[Action] = []
        self.failures: list[str] = []
        self.pdfs: list[str] = []

    def _record(
        self, tool: str, args: dict[str, Any], status: str, added: list[Document], t0: float, note: str
    ) -> None:
        for doc in added:
            self.docs[doc.id] = doc
        action = make_action(
            step=len(self.history), tool=tool, server="files (in-process)" if tool != ToolName.READ_PDF else "pdf (pool)",
            args=args, status=status, added=added, duration_s=time.perf_counter() - t0, summary=note,
        )  # fmt: skip
        self.history.append(action)
        self.emit(CallEnd(action=action, message=note if status != "ok" else ""))

    def _documents(self, reads: list[Read]) -> list[Document]:
        return build_documents(
            reads, self.counter, self.now, redact=self.settings.redact, verdicts=verdicts_for(self.settings)
        )

    def folder(self, source: Source) -> None:
        t0 = time.perf_counter()
        args = {"paths_or_glob": source.target, "max_tokens": self.limit}
        try:
            bundle = files.read_many(
                self.roots, source.target, max_tokens=self.limit, max_file_bytes=self.settings.max_file_bytes,
                max_reply_chars=NO_CAP, contents=False,
            )  # fmt: skip
        except ToolError as exc:
            self.failures.append(f"{source.spec}: {exc}")
            self._record(ToolName.READ_MANY, args, "error", [], t0, str(exc))
            return
        added = self._documents([_read(ft) for ft in bundle.files])
        pdfs = skipped_pdfs(bundle.skipped)
        self.pdfs += pdfs
        failed = failed_reads(bundle.skipped)
        if not added and not pdfs:
            why = failed[0][1] if len(failed) == 1 else "nothing readable was found there"
            self.failures.append(f"{source.spec}: {why}")
        if bundle.left_count:
            self.emit(
                Notice(text=f"{source.spec}: {bundle.left_count} file(s) left out at {self.limit:,} tokens")
            )
        self._record(ToolName.READ_MANY, args, "ok", added, t0, bundle.text[:300])
        if failed and (added or pdfs):
            self.emit(Notice(text=failed_reads_notice(source.spec, failed)))

    def file(self, source: Source) -> None:
        if is_document(Path(source.target)):  # an office document or notebook: read by its parts
            self.folder(source)
            return
        t0 = time.perf_counter()
        args = {"path": source.target}
        try:
            read = files.read_file(
                self.roots, source.target, max_chars=NO_CAP, max_file_bytes=self.settings.max_file_bytes
            )
        except ToolError as exc:
            self.failures.append(f"{source.spec}: {exc}")
            self._record(ToolName.READ_FILE, args, "error", [], t0, str(exc))
            return
        ft = read.file
        added = []
        if ft.total_lines:
            added = self._documents([_read(ft)])
        else:
            self.failures.append(f"{source.spec}: the file is empty")
        self._record(ToolName.READ_FILE, args, "ok", added, t0, "")

    def read_pdfs(self, first_spec: dict[str, str]) -> None:
        if not self.pdfs:
            return
        from tools.pdf.pool import PdfPool

        with PdfPool(self.settings.pdf_limits(), default_password=self.settings.password()) as pool:
            for path in self.pdfs:
                t0 = time.perf_counter()
                display = self.roots.display(self.roots.resolve(path))
                # A PDF named as a source that fails is a failed source (exit 3); one found inside
                # a folder that fails is a skipped file, like a binary, and is only reported.
                spec = first_spec.get(path)
                try:
                    read = pool.read(name=display, path=path)
                except ToolError as exc:
                    if spec is not None:
                        self.failures.append(f"{spec}: {exc}")
                    self._record(ToolName.READ_PDF, {"path": path}, "error", [], t0, str(exc))
                    continue
                added = self._documents(
                    [
                        Read(
                            display,
                            page.text,
                            Span(kind="pages", start=page.number, end=page.number),
                            source="pdf",
                            server="pdf",
                            title=display,
                            meta={"path": path, **({"hidden": page.hidden} if page.hidden else {})},
                        )  # fmt: skip
                        for page in read.pages
                        if page.status == "text" and page.text.strip()
                    ]
                )
                note = ""
                if not added:
                    note = f"{display}: no text could be extracted (image-only pages need OCR, which is not available)"
                    if spec is not None:
                        self.failures.append(f"{spec}: {note}")
                self._record(ToolName.READ_PDF, {"path": path}, "ok" if added else "error", added, t0, note)


def _read(ft: files.FileText) -> Read:
    """A file (or one part of an office document) as the files reader returned it."""
    span = (
        Span(kind="section", label=ft.label) if ft.label else Span(kind="lines", start=ft.start, end=ft.end)
    )
    meta = {"path": str(ft.path), "encoding": ft.encoding}
    return Read(
        ft.display,
        ft.text,
        span,
        source="file",
        server="files",
        title=ft.display,
        tokens=ft.tokens,
        meta=meta,
    )


def pack_direct(
    question: str,
    specs: list[str],
    settings: Settings,
    *,
    fmt: str = "markdown",
    unbounded: bool = False,
    window: int = 1_000_000,
    on_event: EventSink | None = None,
) -> RunResult | None:
    """Pack local sources in-process; None when a source needs a server (URLs)."""
    started = time.perf_counter()
    emit = on_event or ignore
    sources, failures = resolve_sources(specs, settings)
    if not is_local(sources):
        return None if sources else _empty(question, failures, started)
    for line in failures:
        emit(SourceFailed(text=line))
    counter = TokenCounter()
    reader = _read_all(sources, failures, settings, counter, emit)
    documents = list(reader.docs.values())
    gathered = sum(d.tokens for d in documents)
    available = available_tokens(settings, window)
    route, budget = choose_route(settings.route, gathered, available, unbounded=unbounded)
    emit(Route(route=route, gathered=gathered, budget=budget))
    pack = None
    if documents:
        pack, notice = pack_documents(
            documents, question, settings=settings, counter=counter, route=route, budget=budget, fmt=fmt,
            with_question=False, on_event=emit,
        )  # fmt: skip
        emit(Packed(pack=pack, notice=notice))
    return RunResult(
        question=question, pack=pack, answer=None, history=reader.history,
        failures=list(dict.fromkeys(reader.failures)), usage=Usage(), gathered_tokens=gathered,
        documents=len(documents), route_trace=[f"{route}@{budget if budget is not None else 'unbounded'}"],
        duration_s=time.perf_counter() - started, gathered=documents,
    )  # fmt: skip


def _read_all(
    sources: list[Source], failures: list[str], settings: Settings, counter: TokenCounter, emit: EventSink
) -> _Reader:
    """Read every local source in-process, in order; PDFs last, in the worker pool."""
    # A pack considers every file of its local sources (as Repomix does); --budget applies when
    # packing, so the selection draws on all of them.
    reader = _Reader(Roots.of(local_roots(sources)), settings, counter, emit, NO_CAP)
    reader.failures = failures
    for source in sources:
        if source.kind == "folder":
            reader.folder(source)
        elif source.kind == "file":
            reader.file(source)
        else:
            reader.pdfs.append(source.target)
    reader.read_pdfs({s.target: s.spec for s in sources if s.kind == "pdf"})
    return reader


def gather_local(
    specs: list[str], settings: Settings, counter: TokenCounter | None = None
) -> tuple[list[Document], list[str]]:
    """Read local sources as `forage pack` does; return the documents and one line per failure."""
    sources, failures = resolve_sources(specs, settings)
    if not is_local(sources):
        raise SourceError(f"{specs!r}: only local folders, files and PDFs can be read in-process")
    reader = _read_all(sources, failures, settings, counter or TokenCounter(), ignore)
    return list(reader.docs.values()), list(dict.fromkeys(reader.failures))


def _empty(question: str, failures: list[str], started: float) -> RunResult:
    return RunResult(
        question=question, pack=None, answer=None, history=[], failures=failures, usage=Usage(),
        gathered_tokens=0, documents=0, duration_s=time.perf_counter() - started,
    )  # fmt: skip
