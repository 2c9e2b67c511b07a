"""tools.tool_names: the servers register exactly the enum's names, and the agent routes each to its server."""

from __future__ import annotations

from pathlib import Path

from mcp import Client
from mcp.server.mcpserver import MCPServer

from agent.gather.sources import TOOL_SERVER
from mcp_servers.files import server as files_server
from mcp_servers.pdf import server as pdf_server
from mcp_servers.web import server as web_server
from tools.pdf.limits import PdfLimits
from tools.tool_names import ToolName


async def _names(server: MCPServer) -> set[str]:
    async with Client(server) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_each_server_registers_the_names_the_agent_routes_to_it(tmp_path: Path) -> None:
    registered = {
        "files": await _names(files_server.build_server([str(tmp_path)], git_cache=str(tmp_path / "git"))),
        "pdf": await _names(pdf_server.build_server([str(tmp_path)], limits=PdfLimits(workers=1))),
        "web": await _names(web_server.build_server()),
    }
    routed = {server: {str(n) for n, s in TOOL_SERVER.items() if s == server} for server in registered}
    assert registered == routed
    assert set(TOOL_SERVER) == {str(n) for n in ToolName}
