"""What every forage MCP server shares: result shapes, error conversion, transports.

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
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from tools.errors import ToolError
from tools.pdf.limits import PdfLimits
from tools.runtime import tune_gc, tune_malloc

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


def guarded(fn: F) -> F:
    """Turn ToolError into an is_error result instead of a logged traceback."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except ToolError as exc:
                return error_result(exc)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError as exc:
            return error_result(exc)

    return wrapper  # type: ignore[return-value]


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
    try:
        server = build()
    except ToolError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        sys.exit(1)
    try:
        run(server, args.transport, args.host, args.port)
    except KeyboardInterrupt:
        sys.exit(130)


def run(server: MCPServer[Any], transport: str = "stdio", host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve over stdio or streamable HTTP. Logs go to stderr, never to the stdio channel."""
    tune_gc()
    tune_malloc()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if transport == "http":
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
