"""The web MCP server: pages (rendered in Chromium when needed), links and sites (`python -m mcp_servers.web`).

Modules: pdf_url, results, server.
"""

from mcp_servers.web.server import build_server, main

__all__ = ["build_server", "main"]
