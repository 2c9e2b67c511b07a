"""A team server: a real `forage mcp --transport http` with bearer tokens, two SDK clients at once.

Matrix: no token and a bad token get 401; two good tokens (alice, bob) work side by side and never
see each other's sources or last pack; a Host or Origin outside the allow-list is refused; a
non-loopback bind without tokens is refused in one line; two users share one `chroma run` server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.agent.retrieval.test_chroma_server import chroma_url  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[3]
ALICE = "alice-" + "a1" * 16
BOB = "bob-" + "b2" * 16
WRONG = "mallory-" + "c3" * 16
LAST_PACK = "forage://pack/last"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("team") / "code"
    (root / "billing").mkdir(parents=True)
    (root / "billing" / "invoice.py").write_text(
        '"""Invoices."""\n\nLATE_FEE_PERCENT = 4  # charged after 30 days\n'
    )
    (root / "shipping").mkdir()
    (root / "shipping" / "carrier.md").write_text("# Carriers\nParcels over 20 kg go by Vantage Freight.\n")
    return root


def _env(base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        HOME=str(base), XDG_CONFIG_HOME=str(base / "config"), FORAGE_DATA_DIR=str(base / "data"),
        FORAGE_MODEL="extractive", FORAGE_EMBEDDING="none", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    env.update(extra)
    return env


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[str]


def _start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.app", "mcp", *args, "--transport", "http", "--port", str(port)],
        env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for _ in range(300):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else "forage mcp exited")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("forage mcp did not listen within 30 s")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    return err


@pytest.fixture(scope="module")
def server(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("server")
    tokens = base / "tokens"
    tokens.write_text(f"# the team\nalice:{ALICE}\nbob:{BOB}\n")
    tokens.chmod(0o600)
    port = _free_port()
    proc = _start([str(folder), "--tokens-file", str(tokens)], _env(base), port)
    yield Server(f"http://127.0.0.1:{port}/mcp", port, proc)
    err = _stop(proc)
    for secret in (ALICE, BOB, WRONG):  # tokens never reach the logs
        assert secret not in err


@asynccontextmanager
async def _client(url: str, token: str | None, mode: str = "auto") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        yield client


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def _pack(client: Any) -> str:
    read = await client.read_resource(LAST_PACK)
    return "\n".join(getattr(c, "text", "") for c in read.contents)


INITIALIZE = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}  # fmt: skip


def _post(port: int, token: str | None, body: dict[str, Any] = INITIALIZE, **headers: str) -> httpx.Response:
    """One request the way a handshake-era client opens a session: 200 when it gets through."""
    head = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **headers}
    if token:
        head["Authorization"] = f"Bearer {token}"
    return httpx.post(f"http://127.0.0.1:{port}/mcp", json=body, headers=head, timeout=30)


def test_no_token_and_a_bad_token_get_401(server: Server) -> None:
    for token in (None, WRONG, ALICE[:-1]):
        res = _post(server.port, token)
        assert res.status_code == 401, (token, res.text)
        assert res.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(BaseException) as refused:  # the SDK client, as an editor would meet it
        asyncio.run(_list_tools(server.url, WRONG))
    assert any("Server returned an error response" in str(e) for e in _leaves(refused.value)), repr(
        refused.value
    )
    assert asyncio.run(_list_tools(server.url, ALICE)) >= 4  # the good token, same path


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _leaves(e)]
    return [exc, *([exc.__cause__] if exc.__cause__ else [])]


async def _list_tools(url: str, token: str) -> int:
    async with _client(url, token) as client:
        return len((await client.list_tools()).tools)


def test_two_users_at_once_never_see_each_others_sources_or_pack(server: Server, folder: Path) -> None:
    async def user(token: str, mode: str, question: str, source: str) -> tuple[str, str, str]:
        async with _client(server.url, token, mode) as client:
            await client.call_tool("gather_context", {"question": question, "sources": [source]})
            listed = _text(await client.call_tool("list_sources", {}))
            return listed, await _pack(client), token

    async def both() -> list[tuple[str, str, str]]:
        return await asyncio.gather(
            user(ALICE, "auto", "What is the late fee?", str(folder / "billing")),
            user(BOB, "auto", "Which carrier takes heavy parcels?", str(folder / "shipping")),
        )

    (alice_list, alice_pack, _), (bob_list, bob_pack, _) = asyncio.run(both())
    assert "billing" in alice_list and "shipping" not in alice_list
    assert "shipping" in bob_list and "billing" not in bob_list
    assert "LATE_FEE_PERCENT" in alice_pack and "Vantage" not in alice_pack
    assert "Vantage" in bob_pack and "LATE_FEE_PERCENT" not in bob_pack

    async def newcomer(token: str, mode: str) -> tuple[str, str, str, str]:
        async with _client(server.url, token, mode) as client:
            manifest = (await client.read_resource(LAST_PACK + "/manifest")).contents[0]
            prompt = await client.get_prompt("answer_from_context", {"question": "What is the late fee?"})
            return (
                _text(await client.call_tool("list_sources", {})), await _pack(client),
                getattr(manifest, "text", ""), json.dumps([m.model_dump(mode="json") for m in prompt.messages]),
            )  # fmt: skip

    # an MCP session of bob's own (legacy era: its own Mcp-Session-Id) starts empty too, through
    # every door (tool, both resources, the prompt); modern-era connections carry no session, so
    # one user's are one client
    listed, pack, manifest, prompt = asyncio.run(newcomer(BOB, "legacy"))
    assert "Nothing gathered yet" in listed and "No pack yet" in pack
    assert json.loads(manifest)["blocks"] == [] and "Call the gather_context tool" in prompt
    assert "LATE_FEE_PERCENT" not in prompt + manifest and "Vantage" not in prompt + manifest


def test_a_session_opened_by_one_user_is_refused_to_another(server: Server) -> None:
    opened = _post(server.port, ALICE)
    assert opened.status_code == 200, opened.text
    sid = opened.headers["mcp-session-id"]
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    same = {"mcp-session-id": sid, "mcp-protocol-version": "2025-06-18"}
    assert _post(server.port, BOB, listing, **same).status_code == 404
    assert _post(server.port, ALICE, listing, **same).status_code != 404


def test_host_and_origin_outside_the_allow_list_are_refused(server: Server) -> None:
    assert _post(server.port, ALICE, Host=f"evil.example:{server.port}").status_code == 421
    assert _post(server.port, ALICE, Origin="http://evil.example").status_code == 403
    assert _post(server.port, ALICE, Origin=f"http://localhost:{server.port}").status_code == 200


def test_a_non_loopback_bind_without_tokens_is_refused_in_one_line(tmp_path: Path, folder: Path) -> None:
    port = _free_port()
    run = subprocess.run(
        [sys.executable, "-m", "cli.app", "mcp", str(folder), "--transport", "http", "--host", "0.0.0.0",
         "--port", str(port)],
        env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve 0.0.0.0 without authentication" in lines[0], run.stderr
    assert "--tokens-file" in lines[0] and "FORAGE_MCP_TOKENS" in lines[0]


def test_a_bad_tokens_file_is_one_line_that_never_echoes_a_token(tmp_path: Path, folder: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice:short-secret\n")
    tokens.chmod(0o600)
    run = subprocess.run(
        [sys.executable, "-m", "cli.app", "mcp", str(folder), "--transport", "http", "--tokens-file", str(tokens)],
        env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "entry 1" in run.stderr and "at least 16 characters" in run.stderr
    assert "short-secret" not in run.stderr


def test_a_team_host_with_env_tokens_checks_the_public_name(tmp_path: Path, folder: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, FORAGE_MCP_TOKENS=f"carol:{ALICE}")
    proc = _start([str(folder), "--host", "0.0.0.0", "--public-host", "forage.team.example"], env, port)
    try:
        assert _post(port, None, Host=f"forage.team.example:{port}").status_code == 401
        assert _post(port, ALICE, Host=f"forage.team.example:{port}").status_code == 200
        assert _post(port, ALICE, Host=f"rebound.example:{port}").status_code == 421
        assert _post(
            port, ALICE, Host=f"forage.team.example:{port}", Origin="https://forage.team.example"
        ).is_success
    finally:
        assert ALICE not in _stop(proc)


def test_two_users_share_one_chroma_server(tmp_path: Path, folder: Path, chroma_url: str) -> None:  # noqa: F811
    tokens = tmp_path / "tokens"
    tokens.write_text(f"alice:{ALICE}\nbob:{BOB}\n")
    tokens.chmod(0o600)
    port = _free_port()
    env = _env(tmp_path, FORAGE_EMBEDDING="local")
    proc = _start([str(folder), "--tokens-file", str(tokens), "--chroma-url", chroma_url], env, port)
    url = f"http://127.0.0.1:{port}/mcp"

    async def index(token: str, source: str) -> Any:
        async with _client(url, token) as client:
            return await client.call_tool("index", {"sources": [source]})

    async def both() -> list[Any]:
        return await asyncio.gather(
            index(ALICE, str(folder / "billing")), index(BOB, str(folder / "shipping"))
        )

    try:
        results = asyncio.run(both())
    finally:
        _stop(proc)
    for result in results:
        assert not result.is_error, _text(result)
        assert result.structured_content["store"] == chroma_url
        assert result.structured_content["chunks"] >= 1
    assert not (tmp_path / "data" / "index").exists()  # nothing went to an embedded store
    collections = httpx.get(
        f"{chroma_url}/api/v2/tenants/default_tenant/databases/default_database/collections"
    )
    assert collections.status_code == 200 and json.loads(collections.text), collections.text


def _team_snippets() -> list[dict[str, Any]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Team server", 1)[1].split("\n## ", 1)[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


def test_the_readmes_team_snippet_authenticates(server: Server) -> None:
    from agent.mcp_config import from_editor_json, server_entries

    snippets = _team_snippets()
    assert len(snippets) == 2 and {"mcpServers", "servers"} <= {k for s in snippets for k in s}
    entries = from_editor_json(next(s for s in snippets if "mcpServers" in s), "README")
    entry = server_entries(entries, origin="user", defined_in="README", env={"FORAGE_TOKEN": BOB})[
        "forage-team"
    ]
    assert entry.url == "https://forage.team.example/mcp"
    assert _post(server.port, None, **entry.headers).status_code == 200
    vscode = next(s for s in snippets if "servers" in s)["servers"]["forage-team"]
    assert vscode["headers"]["Authorization"].startswith("Bearer ${input:")
