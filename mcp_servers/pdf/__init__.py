"""The pdf MCP server: PDFs inside its roots, read in an isolated worker pool (`python -m mcp_servers.pdf`).

Modules: server.
"""

from mcp_servers.pdf.server import build_server, main

__all__ = ["build_server", "main"]
