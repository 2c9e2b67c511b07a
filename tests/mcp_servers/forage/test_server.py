"""forage as an MCP server, in memory: gather_context pages, reuse across calls, resources, roots."""

import re
from pathlib import Path

import psutil
import pytest
from mcp import Client

from agent.settings import Settings
from mcp_servers.forage.paging import in_rank_order
from mcp_servers.forage.server import build_server
from tools.tokens import estimate_tokens

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "acme-client"
pytestmark = pytest.mark.slow
QUESTION = "Where is the retry delay configured?"


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", roots=[EXAMPLE], model="extractive")


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


async def test_tools_resources_and_prompt_are_listed(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        prompts = {p.name for p in (await client.list_prompts()).prompts}
    assert set(tools) == {"gather_context", "ask", "list_sources", "index"}
    assert all(t.annotations.read_only_hint for t in tools.values())
    schema = tools["gather_context"].input_schema["properties"]
    assert schema["budget_tokens"]["default"] == 20_000 and schema["page"]["type"] == "integer"
    assert resources == {"forage://pack/last", "forage://pack/last/manifest"}
    assert prompts == {"answer_from_context"}


async def test_gather_context_packs_under_the_budget_with_progress(settings):
    messages: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    async with Client(build_server(settings)) as client:
        res = await client.call_tool(
            "gather_context", {"question": QUESTION, "sources": [str(EXAMPLE)]}, progress_callback=progress
        )
        assert not res.is_error, res.content[0].text
        data = res.structured_content
        assert data["pages"] == 1 and data["tokens"] <= 20_000 and data["next"] is None
        text = res.content[0].text
        assert (
            "## [" in text and "acme.toml" in text and "retry_delay_seconds" in text and "# Manifest" in text
        )
        assert any(m["uri"].endswith("acme.toml") for m in data["manifest"])
        assert any(m.startswith("calling read_many") for m in messages)
        assert any(m.startswith("packed ") for m in messages)
        manifest = await client.read_resource("forage://pack/last/manifest")
        assert 'acme.toml"' in manifest.contents[0].text
        whole = await client.read_resource("forage://pack/last")
        assert "retry_delay_seconds" in whole.contents[0].text
        prompt = await client.get_prompt("answer_from_context", {"question": QUESTION})
        assert "acme.toml" in prompt.messages[0].content.text and "cite" in prompt.messages[0].content.text


async def test_index_reports_embedding_progress(settings, monkeypatch):
    from agent.retrieval import indexing
    from tests.agent.retrieval.test_select import HashEmbedder

    monkeypatch.setattr(indexing, "choose_embedder", lambda _settings: (HashEmbedder(), None))
    messages: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    async with Client(build_server(settings)) as client:
        res = await client.call_tool("index", {"sources": [str(EXAMPLE)]}, progress_callback=progress)
    assert not res.is_error, res.content[0].text
    chunks = res.structured_content["chunks"]
    assert f"embedding chunks: {chunks:,} of {chunks:,}" in messages


async def test_a_big_pack_comes_in_pages_that_fit_one_reply(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(40):
        body = "\n".join(
            f"def handler_{i}_{k}(request):\n    return route(request, {k})  # retry {i}" for k in range(60)
        )
        (big / f"mod{i:02}.py").write_text(body + "\n")
    s = Settings(data_dir=tmp_path / "data", roots=[tmp_path], model="extractive", reply_tokens=4000)
    async with Client(build_server(s)) as client:
        args = {"question": "retry handlers", "sources": [str(big)], "budget_tokens": 30_000}
        first = await client.call_tool("gather_context", args)
        data = first.structured_content
        pages = data["pages"]
        assert pages > 2 and data["next"] == {"page": 2} and "page=2" in first.content[0].text
        bodies = [first.content[0].text]
        for page in range(2, pages + 1):
            res = await client.call_tool("gather_context", {**args, "page": page})
            assert not res.is_error and res.structured_content["calls"] == []  # served from the same pack
            bodies.append(res.content[0].text)
        assert all(estimate_tokens(b) <= 4000 for b in bodies)
        joined = "".join(b.split("\n", 1)[1].split("\n[More:")[0] for b in bodies)
        whole = (await client.read_resource("forage://pack/last")).contents[0].text
        # the pages hold the whole pack, its blocks most relevant first (numbers unchanged)
        order = [int(n) for n in re.findall(r"^## \[(\d+)\] ", joined, re.M)]
        assert sorted(order) == list(range(1, len(order) + 1))
        assert joined.rstrip("\n") == in_rank_order(whole, "markdown", order).rstrip("\n")
        assert data["tokens"] <= 30_000
        beyond = await client.call_tool("gather_context", {**args, "page": pages + 1})
        assert beyond.is_error and f"has {pages} page(s)" in beyond.content[0].text


async def test_a_second_call_starts_no_server_and_rereads_only_what_changed(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "client.py").write_text("RETRY_DELAY = 0.5\n")
    (repo / "notes.md").write_text("# Notes\nThe retry delay lives in client.py.\n")
    s = Settings(data_dir=tmp_path / "data", roots=[tmp_path], model="extractive")
    async with Client(build_server(s)) as client:
        args = {"question": "retry delay?", "sources": [str(repo)]}
        first = await client.call_tool("gather_context", args)
        assert [c["tool"] for c in first.structured_content["calls"]] == ["read_many"]
        servers = _children()
        assert servers  # the files server runs as a subprocess

        second = await client.call_tool("gather_context", {**args, "question": "where is it?"})
        assert second.structured_content["calls"] == []  # nothing read again
        assert _children() == servers  # and no server started
        assert second.content[0].text.split("\n", 1)[1] == first.content[0].text.split("\n", 1)[1]

        (repo / "client.py").write_text("RETRY_DELAY = 2.5\n")
        third = await client.call_tool("gather_context", args)
        calls = third.structured_content["calls"]
        assert [(c["tool"], c["documents"]) for c in calls] == [("read_many", 1)]  # only the changed file
        assert (
            "RETRY_DELAY = 2.5" in third.content[0].text and "The retry delay lives" in third.content[0].text
        )
        (repo / "notes.md").unlink()
        fourth = await client.call_tool("gather_context", args)
        assert fourth.structured_content["calls"] == [] and "notes.md" not in fourth.content[0].text
        listed = await client.call_tool("list_sources", {})
        assert listed.structured_content["sources"][0]["documents"] == 1
        assert _children() == servers


async def test_ask_answers_with_citations(settings):
    async with Client(build_server(settings)) as client:
        res = await client.call_tool("ask", {"question": QUESTION, "sources": [str(EXAMPLE)]})
    assert not res.is_error, res.content[0].text
    assert "retry_delay_seconds" in res.content[0].text
    assert res.structured_content["citations"] and res.structured_content["extractive"]


async def test_sources_outside_the_roots_are_refused(tmp_path):
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "secret.txt").write_text("top secret")
    s = Settings(data_dir=tmp_path / "data", roots=[EXAMPLE], model="extractive")
    async with Client(build_server(s)) as client:
        res = await client.call_tool("gather_context", {"question": "what?", "sources": [str(secret)]})
    assert res.is_error and "outside the allowed roots" in res.content[0].text
    assert "top secret" not in res.content[0].text
