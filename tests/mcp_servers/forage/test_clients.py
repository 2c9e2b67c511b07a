"""Replies sized to the calling client: the client table, pages under its limit, the no-key line."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import Implementation

from agent.settings import Settings
from mcp_servers.forage.clients import DEFAULT_CHARS, KNOWN, identify, key_notice, reply_limit
from mcp_servers.forage.paging import reply_size
from mcp_servers.forage.server import build_server

ROOT = Path(__file__).resolve().parents[3]
GEMINI_CLI = Implementation(name="gemini-cli-mcp-client", version="0.61.0")


@pytest.mark.parametrize(
    ("sent", "known"),
    [
        ("gemini-cli-mcp-client", "gemini-cli"),
        ("claude-code", "Claude Code"),
        ("cursor-vscode", "Cursor"),
        ("Visual Studio Code", "VS Code"),
        ("claude-ai", "Claude Desktop"),
        ("mcp", "an unknown client"),
        ("", "an unknown client"),
    ],
)
def test_clients_are_known_by_the_name_they_send(sent, known):
    assert identify(sent).name == known


def test_every_reply_fits_under_the_client_limit_with_a_margin():
    for client in KNOWN:
        assert client.reply_chars() < (client.max_chars or DEFAULT_CHARS)
    assert identify("gemini-cli-mcp-client").reply_chars() <= 36_000  # gemini-cli cuts at 40,000
    assert identify("someone-new").reply_chars() <= DEFAULT_CHARS


def test_reply_tokens_set_by_the_user_overrides_the_table(tmp_path):
    assert reply_limit(Settings(data_dir=tmp_path), "gemini-cli-mcp-client").chars == 36_000
    limit = reply_limit(Settings(data_dir=tmp_path, reply_tokens=5000), "gemini-cli-mcp-client")
    assert limit.tokens == 5000 and limit.chars is None


def test_the_no_key_line_names_the_fix_for_the_client(tmp_path):
    bare = Settings(data_dir=tmp_path)
    line = key_notice(bare, "gemini-cli-mcp-client")
    assert line and "GEMINI_API_KEY" in line and '"env"' in line and "settings.json" in line
    assert "claude mcp add forage -e GEMINI_API_KEY" in (key_notice(bare, "claude-code") or "")
    assert key_notice(Settings(data_dir=tmp_path, gemini_api_key="k"), "claude-code") is None
    assert key_notice(Settings(data_dir=tmp_path, model="extractive"), "claude-code") is None


def _big(root: Path) -> Path:
    big = root / "big"
    big.mkdir()
    for i in range(40):
        body = "\n".join(
            f'def handler_{i}_{k}(request):\n    return route(request, {k}, "retry {i}")' for k in range(60)
        )
        (big / f"mod{i:02}.py").write_text(body + "\n")
    (big / "settings.py").write_text("RETRY_DELAY_SECONDS = 7  # the delay before the first retry\n")
    return big


def _headers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^## \[(\d+)\] ", text, re.M)]


def _blocks(text: str) -> dict[int, str]:
    """Each block's text by its number (up to the manifest)."""
    text = text.split("\n# Manifest\n", 1)[0]
    parts = re.split(r"^(?=## \[\d+\] )", text, flags=re.M)
    return {int(re.match(r"## \[(\d+)\]", p).group(1)): p.rstrip("\n") for p in parts if p.startswith("## [")}


@pytest.mark.slow
async def test_a_big_pack_comes_in_pages_under_gemini_clis_limit(tmp_path):
    big = _big(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", roots=[tmp_path])  # no key, model auto
    args = {
        "question": "What is the delay before the first retry?",
        "sources": [str(big)],
        "budget_tokens": 40_000,
    }
    async with Client(build_server(settings), client_info=GEMINI_CLI) as client:
        first = await client.call_tool("gather_context", args)
        data = first.structured_content
        pages = data["pages"]
        assert pages >= 3 and data["client"] == "gemini-cli" and data["next"] == {"page": 2}
        assert first.content[0].text.startswith("[forage: no GEMINI_API_KEY reached this server")
        replies = [first]
        for page in range(2, pages + 1):
            res = await client.call_tool("gather_context", {**args, "page": page})
            assert not res.is_error and res.structured_content["calls"] == []
            assert "GEMINI_API_KEY" not in res.content[0].text  # said once, on the first result
            replies.append(res)
        whole = (await client.read_resource("forage://pack/last")).contents[0].text
    sizes = [reply_size(r) for r in replies]
    assert max(sizes) <= 36_000, sizes  # the whole serialized reply, under 90% of 40,000
    texts = [r.content[0].text for r in replies]
    assert all(len(t) < 40_000 and "Output too large" not in t for t in texts)
    bodies = [t.split("cite blocks as [n]]\n", 1)[1].split("\n[More:")[0] for t in texts]
    joined = "".join(bodies)
    assert _blocks(joined) == _blocks(whole)  # each block once, whole, with its number
    numbers = [n for b in bodies for n in _headers(b)]
    assert sorted(numbers) == list(range(1, data["blocks"] + 1)) and len(numbers) == len(set(numbers))
    first = _headers(bodies[0])[0]
    assert "settings.py" in _blocks(whole)[first]  # the most relevant block first, not the first by path
    for reply, body in zip(replies, bodies, strict=True):
        here = reply.structured_content["blocks_here"]
        assert set(_headers(body)) <= set(here)
        assert {m["block"] for m in reply.structured_content["manifest"]} == set(here)
    assert "# Manifest" in bodies[-1]


@pytest.mark.slow
async def test_forage_mcp_as_a_process_fits_gemini_cli(tmp_path):
    big = _big(tmp_path)
    env = {
        "FORAGE_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PATH": os.environ["PATH"], "HOME": str(tmp_path),
    }  # fmt: skip
    params = StdioServerParameters(  # this checkout's forage, however the venv was installed
        command=sys.executable, args=["-m", "cli.app", "mcp", str(tmp_path)], env=env, cwd=str(ROOT)
    )
    async with Client(params, client_info=GEMINI_CLI) as client:
        res = await client.call_tool(
            "gather_context", {"question": "RETRY_DELAY_SECONDS", "sources": [str(big)]}
        )
    assert not res.is_error, res.content[0].text
    assert res.structured_content["client"] == "gemini-cli" and res.structured_content["pages"] >= 2
    assert reply_size(res) <= 36_000 and "RETRY_DELAY_SECONDS" in res.content[0].text
    assert res.content[0].text.splitlines()[0].startswith("[forage: no GEMINI_API_KEY")


@pytest.mark.slow
async def test_ask_says_once_that_no_key_arrived_in_text_and_structured_content(tmp_path):
    (tmp_path / "settings.py").write_text("RETRY_DELAY_SECONDS = 7  # the delay before the first retry\n")
    settings = Settings(data_dir=tmp_path / "data", roots=[tmp_path])  # no key, model auto
    claude_code = Implementation(name="claude-code", version="2.1.332")
    async with Client(build_server(settings), client_info=claude_code) as client:
        args = {
            "question": "What is the delay before the first retry?",
            "sources": [str(tmp_path / "settings.py")],
        }
        first = await client.call_tool("ask", args)
        again = await client.call_tool("ask", args)
    assert "claude mcp add forage -e GEMINI_API_KEY" in first.structured_content["notice"]
    assert first.content[0].text.startswith("[forage: no GEMINI_API_KEY")
    assert "notice" not in again.structured_content and "reached this server" not in again.content[0].text
