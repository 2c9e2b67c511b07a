"""The web MCP server: pages (rendered in Chromium when needed), links and whole sites."""

from mcp_servers.web.server import build_server, main

__all__ = ["build_server", "main"]
