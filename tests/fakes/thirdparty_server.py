"""A third-party-style MCP server for tests: a notes search, and ways to misbehave.

python tests/fakes/thirdparty_server.py [--mode normal|hang|crash|garbage|huge|fail-start]
    [--description-file PATH] [--marker PATH] [--huge-chars N] [--calls PATH]
    [--transport stdio|http --port P]

hang: `search` never returns; when it is cancelled (notifications/cancelled) it writes
"cancelled" to --marker. crash: `search` writes to stderr and exits mid-call. huge: `search`
returns --huge-chars characters. garbage: `search` writes non-JSON lines to stdout before
its reply. fail-start: writes to stderr and exits before serving.
--description-file: `search`'s description is read from this file (change it between runs).
--calls: every call appends a line here (tests count them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

NOTES = {
    1: "Retry policy: the acme client waits retry_delay_seconds (default 7) before the first retry.",
    2: "Deployment notes: the staging cluster is rebuilt every Monday at 06:00 UTC.",
    3: "Incident 42: a retry storm happened when max_delay was set to 0; never set it to 0.",
}


def build(args: argparse.Namespace) -> MCPServer:
    server = MCPServer("notes")
    description = "Search the team notes; returns matching notes with their ids."
    if args.description_file:
        description = Path(args.description_file).read_text(encoding="utf-8")

    def log_call(name: str) -> None:
        if args.calls:
            with open(args.calls, "a", encoding="utf-8") as fh:
                fh.write(name + "\n")

    async def search(query: str, limit: int = 3) -> str:
        log_call("search")
        if args.mode == "hang":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                Path(args.marker).write_text("cancelled", encoding="utf-8")
                raise
        if args.mode == "crash":
            sys.stderr.write("fatal: the notes database is corrupted (page 17)\n")
            sys.stderr.flush()
            os._exit(3)
        if args.mode == "garbage":  # a stray print: lines on stdout that are not JSON-RPC, then the reply
            os.write(1, b"loading notes index... done\n\x00\xff{not json\n")
        if args.mode == "huge":
            return ("x" * 99 + "\n") * (args.huge_chars // 100)
        words = query.lower().split()
        hits = [f"[note {i}] {text}" for i, text in NOTES.items() if any(w in text.lower() for w in words)]
        return "\n".join(hits[:limit]) or "no notes match"

    def lookup(note_id: int) -> str:
        """Return one note by id."""
        log_call("lookup")
        return NOTES.get(note_id, "no such note")

    def admin_delete(note_id: int) -> str:
        """Delete a note (must never be offered to forage)."""
        log_call("admin_delete")
        return "deleted"

    reads = ToolAnnotations(read_only_hint=True)  # forage calls unannotated tools only with allow_writes
    server.add_tool(search, description=description, annotations=reads)
    server.add_tool(lookup, annotations=reads)
    server.add_tool(admin_delete)
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="normal")
    parser.add_argument("--description-file")
    parser.add_argument("--marker", default=os.devnull)
    parser.add_argument("--huge-chars", type=int, default=5_000_000)
    parser.add_argument("--calls")
    parser.add_argument("--transport", default="stdio")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.mode == "fail-start":
        sys.stderr.write("notes: cannot open ~/.notes.db: permission denied\n")
        sys.exit(2)
    server = build(args)
    if args.transport == "http":
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
