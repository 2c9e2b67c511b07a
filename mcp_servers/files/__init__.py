"""The files MCP server: read-only access to local folders inside its roots (`python -m mcp_servers.files`).

Modules: server.
"""

from mcp_servers.files.server import build_server, main

__all__ = ["build_server", "main"]
