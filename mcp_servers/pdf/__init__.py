"""The pdf MCP server: PDFs inside its roots, read in an isolated worker pool."""

from mcp_servers.pdf.server import build_server, main

__all__ = ["build_server", "main"]
