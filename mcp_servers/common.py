"""What forage's MCP servers share: result shapes (a PDF read's too), PDF limit flags, error conversion, transports.

Tool results carry text for the model and structured content for code. Tools that gather
material put it in ``structured_content["documents"]``: a list of dicts with keys
``uri, text, span {kind,start,end,label}, title, source, trusted`` (see ``doc``). The agent
turns exactly those into Documents; everything else in a result is informational.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import logging
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from tools.crash import crash_report
from tools.errors import DamagedDocument, InvalidArgument, ToolError
from tools.pdf.limits import PdfLimits
from tools.pdf.pages import NO_TEXT_LAYER, NoTextLayer, format_page_list, pages_phrase, render_window
from tools.runtime import tune_gc, tune_malloc
from tools.tool_names import ToolName

if TYPE_CHECKING:  # the pool (and pypdf) load only in a server that reads a PDF
    from tools.pdf.pool import PdfRead

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
READ_ONLY_OPEN_WORLD = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

F = TypeVar("F", bound=Callable[..., Any])


def doc(
    uri: str,
    text: str,
    *,
    span: dict[str, Any] | None = None,
    title: str | None = None,
    source: str = "file",
    trusted: bool = True,
    **meta: Any,
) -> dict[str, Any]:
    """Build one entry of structured_content["documents"]."""
    entry: dict[str, Any] = {
        "uri": uri,
        "text": text,
        "span": span or {"kind": "whole"},
        "title": title,
        "source": source,
        "trusted": trusted,
    }
    if meta:
        entry["meta"] = meta
    return entry


def result(text: str, **structured: Any) -> CallToolResult:
    """A successful tool result: text for the model, structured content for code."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured or None
    )


def error_result(exc: Exception) -> CallToolResult:
    """A failed tool result the model can act on (is_error=True)."""
    return CallToolResult(
        content=[TextContent(type="text", text=str(exc))],
        structured_content={"error": type(exc).__name__, "message": str(exc)},
        is_error=True,
    )


@dataclass
class Crashes:
    """Where a server saves the traceback of an unexpected error, and whether results show it (--debug)."""

    logs: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "forage-logs")
    debug: bool = False


CRASHES = Crashes()  # set once at start (configure_crashes), from the server's flags


def configure_crashes(logs: Path | None, debug: bool) -> None:
    """Save crash logs under logs (None: the temp dir); debug: put the traceback in the result too."""
    if logs is not None:
        CRASHES.logs = logs
    CRASHES.debug = debug


def crash_result(exc: Exception, tool: str) -> CallToolResult:
    """An unexpected error as an is_error result: what failed, where the traceback is; same on stderr."""
    lines = crash_report(exc, CRASHES.logs, context=f"tool {tool}")
    text = f"{tool} failed: " + "\n".join(lines)
    sys.stderr.write(text + "\n")
    if CRASHES.debug:
        text += "\n\n" + "".join(traceback.format_exception(exc))
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content={"error": type(exc).__name__, "message": lines[0], "internal": True},
        is_error=True,
    )


def guarded(fn: F) -> F:
    """Turn ToolError into an is_error result, and any other error into one line and a log (crash_result)."""
    name = getattr(fn, "__name__", "tool")
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except ToolError as exc:
                return error_result(exc)
            except Exception as exc:  # noqa: BLE001 - a bug in one call must not reach the client as a traceback
                return crash_result(exc, name)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError as exc:
            return error_result(exc)
        except Exception as exc:  # noqa: BLE001 - as above
            return crash_result(exc, name)

    return wrapper  # type: ignore[return-value]


def pdf_result(
    read: PdfRead,
    display: str,
    absolute: str,
    pages: str | None,
    start_index: int,
    max_chars: int,
    *,
    next_base: dict[str, Any] | None = None,
    tool: str = ToolName.READ_PDF,
) -> CallToolResult:
    """Window the pages, build one document per page, and say what was damaged or missing.

    A PDF's text is written by whoever made the file, so its pages are marked untrusted for any
    client; forage itself decides by its one trust rule (agent/gather/documents.is_trusted). Shared by the pdf server (read_pdf) and the web server, which
    calls it for PDFs served by URLs with next_base={"url": ...}, tool=ToolName.FETCH_PAGE.
    """
    window = render_window(read.pages, start_index, max_chars)
    if read.complete and start_index >= window.total > 0:
        raise InvalidArgument(
            f"start_index={start_index} is past the end of {display} (pages {pages or 'all'} hold "
            f"{window.total} characters); call again with a smaller start_index"
        )
    shown = window.shown
    no_text = [p.number for p in shown if p.status == "no_text_layer"]
    blank = [p.number for p in shown if p.status == "blank"]
    unreadable = [{"page": p.number, "reason": p.note} for p in shown if p.status == "unreadable"]
    if read.complete and not any(p.status == "text" for p in read.pages):
        _raise_no_text(display, read)
    more = window.end < window.total or not read.complete
    base = next_base if next_base is not None else {"path": display, "pages": pages}
    nxt = {**base, "start_index": window.end, "max_chars": max_chars} if more else None
    documents = [
        doc(
            display,
            text,
            span={"kind": "pages", "start": page.number, "end": page.number},
            title=f"{display} p.{page.number}",
            source="pdf",
            trusted=False,
            path=absolute,
            sha256=read.sha,
            page_count=read.page_count,
            **({} if whole else {"partial": True}),
            **({"note": page.note} if page.note else {}),
            **({"hidden": page.hidden} if page.hidden else {}),
        )  # fmt: skip
        for page, text, whole in window.parts
    ]
    notes = []
    if read.damaged:
        recovered = [p.number for p in read.pages if p.status != "unreadable"]
        notes.append(
            f"This file is damaged ({'; '.join(read.repairs[:3])}). Recovered pages: "
            f"{format_page_list(recovered) or 'none'} of {read.page_count} found."
        )
    if unreadable:
        notes.append("Unreadable pages: " + "; ".join(f"p.{u['page']}: {u['reason']}" for u in unreadable))
    if no_text:
        notes.append(f"{pages_phrase(no_text).capitalize()}: {NO_TEXT_LAYER}.")
    hidden = [p.number for p in shown if p.hidden]
    if hidden:
        notes.append(
            f"Left out text a reader does not see (white, invisible, off-page or tiny) on "
            f"{pages_phrase(hidden)}."
        )
    if read.stopped:
        notes.append(f"Extraction stopped early: {read.stopped}.")
    if nxt:
        notes.append(
            f"More text follows: call {tool} again with start_index={window.end}"
            + (f" and pages={pages!r}" if pages else "")
            + " to continue."
        )
    count = f"{read.page_count} page{'s' if read.page_count != 1 else ''}"
    head = (
        f"{display} ({count}), showing {pages_phrase([p.number for p in shown]) if shown else 'no pages'}:\n"
    )
    text = head + window.text.rstrip() + ("\n---\n" + "\n".join(notes) if notes else "")
    return result(
        text, path=display, page_count=read.page_count, requested=format_page_list(read.requested),
        documents=documents, start_index=start_index, end_index=window.end, truncated=more, next=nxt,
        damaged=read.damaged, repairs=read.repairs,
        recovered_pages=[p.number for p in read.pages if p.status != "unreadable"] if read.damaged else None,
        unreadable_pages=unreadable, no_text_pages=no_text, blank_pages=blank, stopped=read.stopped,
        from_cache=read.from_cache, encryption=read.encryption, sha256=read.sha,
    )  # fmt: skip


def _raise_no_text(display: str, read: PdfRead) -> None:
    scanned = [p.number for p in read.pages if p.status == "no_text_layer"]
    blank = [p.number for p in read.pages if p.status == "blank"]
    broken = [p for p in read.pages if p.status == "unreadable"]
    if not broken:
        parts = [f"{pages_phrase(scanned)}: {NO_TEXT_LAYER}"] if scanned else []
        parts += [f"{pages_phrase(blank)}: blank"] if blank else []
        raise NoTextLayer(
            f"{display} has no text to read ({'; '.join(parts)}); scanned pages need OCR, which is not available"
        )
    reasons = "; ".join(f"p.{p.number}: {p.note}" for p in broken[:10])
    raise DamagedDocument(f"no text could be read from {display}: {reasons}")


def tool_registrar(server: MCPServer[Any], annotations: ToolAnnotations) -> Callable[[str], Callable[[F], F]]:
    """A decorator factory: @tool(name) adds a function as the tool `name`, guarded, its docstring as description.

    The name is passed (a tools.tool_names.ToolName), not taken from the function, so the servers
    and the agent that calls them spell it once. cleandoc: the docstring is the description the
    model reads, without code indentation.
    """

    def tool(name: str) -> Callable[[F], F]:
        def register(fn: F) -> F:
            server.add_tool(
                guarded(fn), name=str(name), description=inspect.cleandoc(fn.__doc__ or ""),
                annotations=annotations,
            )  # fmt: skip
            return fn

        return register

    return tool


def transport_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the transport options every server accepts."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="bind address for --transport http")
    parser.add_argument("--port", type=int, default=8765, help="port for --transport http")
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="where to save the traceback of an internal error (default: the temp dir)",
    )
    parser.add_argument("--debug", action="store_true", help="put tracebacks in error results too")
    return parser


def add_pdf_limits(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Add the PDF limit flags (--{prefix}deadline, --{prefix}memory-mb, --{prefix}workers); defaults: PdfLimits()."""
    default = PdfLimits()
    parser.add_argument(
        f"--{prefix}deadline", type=float, default=default.deadline,
        help=f"seconds allowed per PDF file (default {default.deadline:g})",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}memory-mb", type=int, default=default.memory_mb,
        help=f"memory limit per PDF worker in MB (default {default.memory_mb})",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}workers", type=int, default=default.workers,
        help=f"PDF worker processes (default {default.workers})",
    )  # fmt: skip


def pdf_limits(parser: argparse.ArgumentParser, args: argparse.Namespace, prefix: str = "") -> PdfLimits:
    """The PdfLimits the flags of add_pdf_limits ask for; a bad value is a usage error (exit 2)."""
    dest = prefix.replace("-", "_")
    deadline, memory_mb, workers = (getattr(args, dest + n) for n in ("deadline", "memory_mb", "workers"))
    try:
        return PdfLimits(deadline=deadline, memory_mb=memory_mb, workers=workers)
    except ToolError as exc:  # argparse exits with status 2 and the usage line
        parser.error(f"--{prefix}deadline, --{prefix}memory-mb, --{prefix}workers: {exc}")


def serve(prog: str, build: Callable[[], MCPServer[Any]], args: argparse.Namespace) -> None:
    """Build a server from parsed arguments and run it; a bad start is one line and exit 1."""
    configure_crashes(args.log_dir, args.debug)
    try:
        server = build()
    except ToolError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        sys.exit(1)
    try:
        run(server, args.transport, args.host, args.port)
    except KeyboardInterrupt:
        sys.exit(130)


def run(
    server: MCPServer[Any],
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    security: TransportSecuritySettings | None = None,
) -> None:
    """Serve over stdio or streamable HTTP (Host/Origin checks: `security`, else the SDK's loopback
    default). Logs go to stderr, never to the stdio channel."""
    tune_gc()
    tune_malloc()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if transport == "http":
        server.run("streamable-http", host=host, port=port, transport_security=security)
    else:
        server.run("stdio")
