"""forage mcp as a real process: the MCP Inspector CLI as an independent client (stdio and
streamable HTTP), the README's editor snippets, and cancellation mid-crawl (process tree)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[3]
FORAGE = str(Path(sys.executable).with_name("forage"))
INSPECTOR = ["npx", "-y", "@modelcontextprotocol/inspector@0.15.0", "--cli"]
pytestmark = pytest.mark.slow


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    (root / "src").mkdir(parents=True)
    (root / "src" / "client.py").write_text(
        '"""HTTP client."""\n\nRETRY_DELAY_SECONDS = 7  # the delay before the first retry\n'
    )
    (root / "README.md").write_text("# Demo\nA demo project. Nothing about delays here.\n")
    (root / "docs").mkdir()
    for i in range(30):  # enough material that the budget has to choose
        (root / "docs" / f"page{i:02}.md").write_text(
            f"# Page {i}\n" + "Unrelated filler text. " * 300 + "\n"
        )
    return root


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FORAGE_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "FORAGE_MODEL": "extractive",
    }


def _inspector(*args: str, env: dict[str, str]) -> dict:
    if shutil.which("npx") is None:
        pytest.skip("npx (Node.js) is needed for the MCP Inspector CLI")
    proc = subprocess.run([*INSPECTOR, *args], capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    return json.loads(proc.stdout)


def _check_gather(result: dict, budget: int) -> None:
    text = result["content"][0]["text"]
    data = result["structuredContent"]
    assert not result.get("isError"), text
    assert data["tokens"] <= budget and data["pages"] == 1
    assert "src/client.py" in text and "RETRY_DELAY_SECONDS = 7" in text
    assert any(m["uri"].endswith("src/client.py") for m in data["manifest"])
    assert data["omitted"] > 0  # the filler did not all fit: the budget held


def _call_args(folder: Path, budget: int) -> list[str]:
    return [
        "--method", "tools/call", "--tool-name", "gather_context",
        "--tool-arg", "question=Where is the retry delay configured?",
        "--tool-arg", f"sources={json.dumps([str(folder)])}",
        "--tool-arg", f"budget_tokens={budget}",
    ]  # fmt: skip


def test_inspector_over_stdio(folder, tmp_path):
    env = _env(tmp_path)
    target = [FORAGE, "mcp", str(folder)]
    tools = _inspector(*target, "--method", "tools/list", env=env)
    assert {t["name"] for t in tools["tools"]} == {"gather_context", "ask", "list_sources", "index"}
    resources = _inspector(*target, "--method", "resources/list", env=env)
    assert {r["uri"] for r in resources["resources"]} == {"forage://pack/last", "forage://pack/last/manifest"}
    _check_gather(_inspector(*target, *_call_args(folder, 5000), env=env), 5000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_inspector_over_streamable_http(folder, tmp_path):
    env = _env(tmp_path)
    port = _free_port()
    server = subprocess.Popen(
        [FORAGE, "mcp", str(folder), "--transport", "http", "--port", str(port)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/mcp"
        tools = _inspector(url, "--transport", "http", "--method", "tools/list", env=env)
        assert "gather_context" in {t["name"] for t in tools["tools"]}
        resources = _inspector(url, "--transport", "http", "--method", "resources/list", env=env)
        assert "forage://pack/last" in {r["uri"] for r in resources["resources"]}
        _check_gather(_inspector(url, "--transport", "http", *_call_args(folder, 5000), env=env), 5000)
    finally:
        server.terminate()
        server.wait(20)


# -- the README's editor snippets ---------------------------------------------------------


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## forage in your editor", 1)[1].split("\n## ", 1)[0]


def _snippets(lang: str = "json") -> dict[str, str]:
    """The first code block in `lang` under each editor's heading in the README's editor section."""
    out = {}
    for part in _section().split("\n### ")[1:]:
        heading, _, body = part.partition("\n")
        m = re.search(rf"```{lang}\n(.*?)```", body, re.S)
        if m:
            out[heading.strip()] = m.group(1)
    return out


def test_readme_has_a_snippet_for_each_editor():
    names = " ".join([*_snippets(), *_snippets("bash")])
    for editor in ("Claude Desktop", "Cursor", "VS Code", "gemini-cli", "Claude Code"):
        assert editor in names


@pytest.mark.parametrize("editor", ["Claude Desktop", "Cursor", "VS Code", "gemini-cli"])
async def test_each_readme_snippet_starts_forage(editor, folder, tmp_path):
    from agent.mcp_config import from_editor_json

    (name, text) = next((k, v) for k, v in _snippets().items() if editor in k)
    snippet = json.loads(text)
    entry = from_editor_json(snippet, name)["forage"]  # the format the editors read
    raw = snippet.get("mcpServers", snippet.get("servers"))["forage"]
    assert "GEMINI_API_KEY" in raw["env"]  # the key reaches forage in every client
    args = [
        folder.as_posix() if a in ("/path/to/your/code", "${workspaceFolder}") else a for a in entry["args"]
    ]
    await _starts_forage(entry["command"], args, folder, tmp_path)


async def _starts_forage(command: str, args: list[str], folder: Path, tmp_path: Path) -> None:
    found = shutil.which(command, path=f"{Path(FORAGE).parent}{os.pathsep}{os.environ['PATH']}")
    assert found, f"{command} is not on PATH"
    env = {"FORAGE_DATA_DIR": str(tmp_path / "data"), "FORAGE_MODEL": "extractive"}
    async with Client(StdioServerParameters(command=found, args=args, env=env)) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "gather_context" in tools
        res = await client.call_tool(
            "gather_context", {"question": "retry delay?", "sources": [str(folder / "src")]}
        )
        assert not res.is_error and "RETRY_DELAY_SECONDS" in res.content[0].text


async def test_the_claude_code_command_starts_forage_with_the_key(folder, tmp_path):
    import shlex

    line = _snippets("bash")["Claude Code"].strip()
    words = shlex.split(line)
    assert words[:4] == ["claude", "mcp", "add", "forage"] and "--" in words
    options, command = words[4 : words.index("--")], words[words.index("--") + 1 :]
    assert options == ["-e", "GEMINI_API_KEY=$GEMINI_API_KEY"]  # the shell expands it when the user runs it
    args = [folder.as_posix() if a == "/path/to/your/code" else a for a in command[1:]]
    await _starts_forage(command[0], args, folder, tmp_path)


def test_the_trusted_folders_snippet_is_what_gemini_cli_reads():
    section = _section().split("### gemini-cli", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)```", section, re.S)
    assert json.loads(blocks[1]) == {"/path/to/your/code": "TRUST_FOLDER"}
    assert '"Disabled"' in section and "55" in section


# -- cancellation mid-crawl -----------------------------------------------------------------


class AppSite:
    """JavaScript pages (each needs Chromium to render); every page but the first hangs."""

    def __init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                if self.path == "/robots.txt":
                    return self._send("User-agent: *\n", "text/plain")
                if self.path.startswith("/app/0"):
                    links = "".join(f'<a href="/app/{k}.html">page {k}</a> ' for k in range(1, 9))
                    return self._send(
                        "<!doctype html><html><head><title>App</title></head><body><div id='root'></div>"
                        "<script>document.getElementById('root').innerHTML = '<h1>App home</h1><p>' + "
                        f"'The app explains its retry settings in detail. '.repeat(40) + '</p>{links}';</script>"
                        "</body></html>"
                    )
                if not re.fullmatch(r"/app/[1-9][0-9]*\.html", self.path):  # no llms.txt, sitemap: links
                    return self._send("not found", "text/plain", status=404)
                site.hung.set()
                time.sleep(120)  # the rest of the crawl never finishes

            def _send(self, body: str, ctype: str = "text/html", status: int = 200) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.hung = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/app/0.html"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def app_site() -> Iterator[AppSite]:
    site = AppSite()
    yield site
    site.close()


def _tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _names(procs: list[psutil.Process]) -> str:
    out = []
    for p in procs:
        try:
            out.append(" ".join(p.cmdline())[:120])
        except psutil.Error:
            continue
    return "\n".join(out)


def _heavy(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Browser, web server and worker processes among procs."""
    heavy = []
    for p in procs:
        try:
            line = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if "chrom" in line.lower() or "mcp_servers.web" in line or "multiprocessing" in line:
            heavy.append(p)
    return heavy


async def test_cancelling_a_crawl_leaves_no_browser_or_worker(app_site, folder, tmp_path):
    before = {p.pid for p in psutil.Process().children()}
    params = StdioServerParameters(
        command=FORAGE, args=["mcp", str(folder), "--allow-host", "127.0.0.1"],
        env={"FORAGE_DATA_DIR": str(tmp_path / "data"), "FORAGE_MODEL": "extractive"},
    )  # fmt: skip
    messages: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    async with Client(params) as client:
        (pid,) = {p.pid for p in psutil.Process().children()} - before
        call = asyncio.create_task(
            client.call_tool(
                "gather_context", {"question": "retry settings?", "sources": [app_site.url], "crawl": True},
                progress_callback=progress,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 120
        # Mid-crawl: a page hangs, the browser is up, and the web server's per-page progress
        # ("read …", relayed a moment after the page it is about) has come through.
        while not (
            app_site.hung.is_set()
            and any("chrom" in _names([p]).lower() for p in _tree(pid))
            and any("read " in m for m in messages)
        ):
            assert not call.done(), call.result()
            assert time.monotonic() < deadline, f"no browser or page progress mid-crawl; progress: {messages}"
            await asyncio.sleep(0.2)
        assert any("crawl_site" in m for m in messages)  # progress came through while crawling
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        deadline = time.monotonic() + 30
        while _heavy(_tree(pid)) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert not _heavy(_tree(pid)), _names(_tree(pid))
        # The session goes on: the next call works (and starts the servers it needs again).
        res = await client.call_tool(
            "gather_context", {"question": "retry?", "sources": [str(folder / "src")]}
        )
        assert not res.is_error and "RETRY_DELAY_SECONDS" in res.content[0].text
        survivors = _tree(pid)
    deadline = time.monotonic() + 20
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in survivors):
        assert time.monotonic() < deadline, _names(survivors)
        await asyncio.sleep(0.2)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
