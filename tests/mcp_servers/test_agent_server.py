"""forage as an MCP server: ask and pack over an in-memory session, roots enforced."""

from pathlib import Path

import pytest
from mcp import Client

from agent.settings import Settings
from mcp_servers.agent import build_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-client"
pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", roots=[EXAMPLE], model="extractive")


async def test_tools_are_listed_read_only(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "pack"}
    assert all(t.annotations.read_only_hint for t in tools.values())
    assert "sources" in tools["ask"].input_schema["properties"]


async def test_ask_and_pack(settings):
    async with Client(build_server(settings)) as client:
        res = await client.call_tool(
            "ask", {"question": "Where is the retry delay configured?", "sources": [str(EXAMPLE)]}
        )
        assert not res.is_error, res.content[0].text
        assert "retry_delay_seconds" in res.content[0].text
        assert res.structured_content["citations"]
        packed = await client.call_tool("pack", {"sources": [str(EXAMPLE)], "query": "retry", "budget": 800})
        assert not packed.is_error
        assert "# Manifest" in packed.content[0].text and packed.structured_content["tokens"] <= 800


async def test_sources_outside_the_roots_are_refused(settings, tmp_path):
    (tmp_path / "secret.txt").write_text("top secret")
    async with Client(build_server(settings)) as client:
        res = await client.call_tool("ask", {"question": "what?", "sources": [str(tmp_path / "secret.txt")]})
    assert res.is_error and "outside the allowed roots" in res.content[0].text
    assert "top secret" not in res.content[0].text
