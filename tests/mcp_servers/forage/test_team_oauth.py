"""A team server with OAuth: forage as a resource server, a real local authorization server's
introspection endpoint (RFC 7662) deciding each token, two people through one editor's client id."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from tests.mcp_servers.forage.test_team_server import (
    ALICE,
    _client,
    _env,
    _free_port,
    _post,
    _start,
    _stop,
    _text,
    folder,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.slow
SECRET = "introspection-secret-0123456789"


class Issuer:
    """An authorization server's introspection endpoint: which token is whose, for which audience."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, object]] = {}
        self.asked: list[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                ok = (
                    self.headers.get("Authorization")
                    == "Basic " + base64.b64encode(f"forage:{SECRET}".encode()).decode()
                )
                token = body.get("token", [""])[0]
                issuer.asked.append(token)
                reply = issuer.tokens.get(token, {"active": False}) if ok else {"error": "invalid_client"}
                data = json.dumps(reply).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    it = Issuer()
    yield it
    it.http.shutdown()


def test_oauth_tokens_are_checked_with_the_authorization_server(
    tmp_path: Path,
    folder: Path,  # noqa: F811
    issuer: Issuer,
) -> None:
    port = _free_port()
    public = f"http://127.0.0.1:{port}/mcp"
    good = {"active": True, "client_id": "editor", "scope": "forage", "aud": public, "iss": issuer.url}
    issuer.tokens = {
        "ana-oauth-token": {**good, "sub": "ana"},
        "ben-oauth-token": {**good, "sub": "ben"},
        "other-audience": {**good, "sub": "ana", "aud": "https://elsewhere.example/mcp"},
        "no-scope": {**good, "sub": "ana", "scope": "profile"},
    }
    tokens = tmp_path / "tokens"
    tokens.write_text(f"ci:{ALICE}\n")
    tokens.chmod(0o600)
    args = [
        str(folder), "--public-url", public, "--oauth-issuer", issuer.url,
        "--oauth-introspect", f"{issuer.url}/introspect", "--oauth-client-id", "forage",
        "--oauth-scope", "forage", "--tokens-file", str(tokens),
    ]  # fmt: skip
    proc = _start(args, _env(tmp_path, FORAGE_OAUTH_CLIENT_SECRET=SECRET), port)
    try:
        # the editor's way in: 401 names the metadata, the metadata names the authorization server
        refused = _post(port, None)
        assert refused.status_code == 401
        meta_url = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
        assert f'resource_metadata="{meta_url}"' in refused.headers["www-authenticate"]
        meta = httpx.get(meta_url, timeout=10).json()
        assert meta["resource"] == public and meta["authorization_servers"] == [issuer.url]
        assert _post(port, "ana-oauth-token").status_code == 200
        assert _post(port, "unknown-token").status_code == 401
        assert _post(port, "other-audience").status_code == 401  # issued for another server
        assert _post(port, "no-scope").status_code == 403
        assert _post(port, ALICE).status_code == 200  # a static token beside OAuth (CI)

        async def person(token: str, source: str | None) -> str:
            async with _client(public, token) as client:
                if source:
                    await client.call_tool("gather_context", {"question": "late fee?", "sources": [source]})
                return _text(await client.call_tool("list_sources", {}))

        # one client_id ("editor") for both people: the subject keeps them apart
        ana = asyncio.run(person("ana-oauth-token", str(folder / "billing")))
        ben = asyncio.run(person("ben-oauth-token", None))
        assert "billing" in ana and "Nothing gathered yet" in ben
    finally:
        err = _stop(proc)
    assert "ana-oauth-token" not in err and SECRET not in err
    assert "ana-oauth-token" in issuer.asked
