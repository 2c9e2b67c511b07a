"""The pdf MCP server: read PDFs inside the roots, with page citations, via an isolated worker pool."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from pydantic import Field

from mcp_servers import common
from tools.errors import EncryptedDocument, InvalidArgument
from tools.pdf.limits import PdfLimits
from tools.pdf.pages import NO_TEXT_LAYER, format_page_list, pages_phrase
from tools.pdf.pool import PdfPool
from tools.pdf.search import search_pages
from tools.roots import Roots
from tools.tool_names import ToolName

PROG = "python -m mcp_servers.pdf"
PASSWORD_ENV = "FORAGE_PDF_PASSWORD"
DEFAULT_MAX_CHARS = 20_000
INSTRUCTIONS = (
    "Read PDF files inside the allowed roots. Call pdf_info first on a long PDF to see its page count "
    "and outline, then read_pdf with a page range ('1-5,9'); search_pdf finds which pages mention "
    "something. Text comes with [page N] markers: cite PDFs by page, e.g. 'paper.pdf p.7'."
)

PdfPath = Annotated[
    str,
    Field(description="Path of the PDF inside the roots, e.g. 'papers/attention.pdf' (absolute paths work)."),
]
Password = Annotated[
    str | None,
    Field(description="Password for an encrypted PDF. Only pass one the user gave you; omit it otherwise."),
]


def build_server(
    roots: list[str],
    password: str | None = None,
    limits: PdfLimits = PdfLimits(),
    cache_dir: str | None = None,
) -> MCPServer:
    """Build the pdf server over the given roots; the worker pool starts with the server's lifespan."""
    allowed = Roots.of(roots)

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[PdfPool]:
        pool = PdfPool(limits, cache_dir=cache_dir, default_password=password)
        await anyio.to_thread.run_sync(pool.start)
        try:
            yield pool
        finally:
            await anyio.to_thread.run_sync(pool.close)

    server: MCPServer = MCPServer(
        "forage-pdf", instructions=INSTRUCTIONS, log_level="WARNING", lifespan=lifespan
    )

    tool = common.tool_registrar(server, common.READ_ONLY)

    def locate(path: str) -> tuple[Path, str]:
        resolved = allowed.resolve(path)
        if resolved.is_dir():
            raise InvalidArgument(f"{path!r} is a folder; pass a PDF file inside it (list_files shows them)")
        if not resolved.is_file():  # a FIFO would block the read that hashes it, forever
            raise InvalidArgument(f"{path!r} is not a regular file (a pipe, socket or device)")
        return resolved, allowed.display(resolved)

    @tool(ToolName.PDF_INFO)
    async def pdf_info(path: PdfPath, ctx: Context, password: Password = None) -> CallToolResult:
        """Describe a PDF without reading it: page count, title, author, encryption, text layer, outline.

        The outline lists the bookmarks with their page numbers: use it to choose the pages to
        pass to read_pdf. A PDF without a text layer is scanned images; OCR is not available.
        """
        resolved, display = locate(path)
        pool: PdfPool = ctx.request_context.lifespan_context
        try:
            info = await anyio.to_thread.run_sync(
                partial(pool.info, name=display, path=resolved, password=password)
            )
        except EncryptedDocument as exc:
            if password is not None:
                raise
            return common.result(str(exc), path=display, encrypted=True, needs_password=True)
        return common.result(_info_text(display, info), path=display, **info)

    @tool(ToolName.READ_PDF)
    async def read_pdf(
        path: PdfPath,
        ctx: Context,
        pages: Annotated[
            str | None,
            Field(description="Pages to read, 1-based: '7', '1-5' or '1-5,9'. Omit to read from the start."),
        ] = None,
        max_chars: Annotated[
            int, Field(description="Most characters to return; the result says how to continue.", ge=500)
        ] = DEFAULT_MAX_CHARS,
        start_index: Annotated[
            int, Field(description="Character offset to continue from (from a previous result).", ge=0)
        ] = 0,
        password: Password = None,
    ) -> CallToolResult:
        """Read the text of a PDF, page by page, each page headed by a [page N] marker.

        Cite what you use by page ('paper.pdf p.7'). Long output is cut at a page end near max_chars
        and the result says which start_index to call again with. Pages that are scanned images are
        reported as having no text layer (OCR is not available); damaged files are read as far as
        possible and the result says which pages were recovered.
        """
        resolved, display = locate(path)
        pool: PdfPool = ctx.request_context.lifespan_context
        read = await anyio.to_thread.run_sync(
            partial(
                pool.read,
                name=display,
                path=resolved,
                pages=pages,
                password=password,
                char_budget=start_index + max_chars + 1,
            )
        )
        return common.pdf_result(read, display, str(resolved), pages, start_index, max_chars)

    @tool(ToolName.SEARCH_PDF)
    async def search_pdf(
        path: PdfPath,
        query: Annotated[str, Field(description="Words or phrase to find (case-insensitive).")],
        ctx: Context,
        max_results: Annotated[int, Field(description="Most hits to return.", ge=1, le=200)] = 20,
        pages: Annotated[
            str | None, Field(description="Only search these pages, e.g. '10-40'. Omit to search all.")
        ] = None,
        password: Password = None,
    ) -> CallToolResult:
        """Find which pages of a PDF mention a phrase; returns page numbers with surrounding text.

        Then read those pages with read_pdf(path, pages=...). If the exact phrase never occurs,
        pages holding all of its words are returned instead, and the result says so.
        """
        resolved, display = locate(path)
        pool: PdfPool = ctx.request_context.lifespan_context
        read = await anyio.to_thread.run_sync(
            partial(pool.read, name=display, path=resolved, pages=pages, password=password)
        )
        hits, kind = search_pages(read.pages, query, max_results=max_results)
        searched = format_page_list(p.number for p in read.pages)
        lines = [f"{display}: {len(hits)} hit(s) for {query!r} ({kind} match) in pages {searched or 'none'}"]
        if read.stopped:
            lines.append(
                f"Only pages {searched} were searched: {read.stopped}. Call again to search further."
            )
        no_text = [p.number for p in read.pages if p.status == "no_text_layer"]
        if no_text:
            lines.append(f"{pages_phrase(no_text).capitalize()}: {NO_TEXT_LAYER}, not searched.")
        lines += [f"p.{h['page']}: {h['snippet']}" for h in hits]
        found = format_page_list(h["page"] for h in hits)
        if hits:
            lines.append(f"Read them with read_pdf(path={display!r}, pages={found!r}).")
        return common.result(
            "\n".join(lines), path=display, query=query, match=kind, hits=hits, pages_searched=searched,
            read_pages=found or None, stopped=read.stopped, no_text_pages=no_text,
        )  # fmt: skip

    return server


def _info_text(display: str, info: dict[str, Any]) -> str:
    lines = [f"{display}: {info['pages']} page{'s' if info['pages'] != 1 else ''}"]
    for key in ("title", "author"):
        if info.get(key):
            lines.append(f"{key}: {info[key]}")
    if info["encrypted"]:
        lines.append(f"encrypted ({info['encryption']}); opened")
    if info["has_text_layer"]:
        lines.append("text layer: yes")
    elif info["pages"]:
        lines.append(
            f"text layer: none found in {info['pages_checked_for_text']} page(s) checked (OCR not available)"
        )
    if info["damaged"]:
        lines.append("damaged: " + "; ".join(info["repairs"]))
    if info["outline"]:
        lines.append("outline:")
        lines += [
            f"{'  ' * e['level']}- {e['title']}" + (f" (p.{e['page']})" if e["page"] else "")
            for e in info["outline"]
        ]
    else:
        lines.append("outline: none")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, PdfLimits]:
    """Parse the pdf server's command line: its options, and the PDF limits they set."""
    parser = common.transport_parser(PROG, "Serve PDF text extraction inside the given roots over MCP.")
    parser.add_argument("roots", nargs="+", metavar="ROOT", help="folder or PDF file the server may read")
    common.add_pdf_limits(parser)
    parser.add_argument(
        "--cache-dir", default=None, help="keep extracted text here across runs (default: memory only)"
    )
    args = parser.parse_args(argv)
    return args, common.pdf_limits(parser, args)


def main(argv: list[str] | None = None) -> None:
    """Run the pdf server: python -m mcp_servers.pdf ROOT... [--deadline S] [--memory-mb N] [--workers N]."""
    args, limits = parse_args(argv)
    password = os.environ.get(PASSWORD_ENV) or None  # the only environment read, at the edge
    common.serve(PROG, lambda: build_server(args.roots, password, limits, args.cache_dir), args)


if __name__ == "__main__":
    main()
