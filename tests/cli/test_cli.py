"""The forage command, run as a user runs it: a real process, real MCP servers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "acme-client"
pytestmark = pytest.mark.slow


def forage(
    *args: str, tmp_path: Path, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg")
    )
    return subprocess.run(
        [sys.executable, "-m", "cli.app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
        input=input,
    )


def test_quick_start_example_answers_its_question(tmp_path):
    res = forage("ask", "Where is the retry delay configured?", str(EXAMPLE), tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Extractive answer" in out
    assert "retry_delay_seconds" in out
    assert "acme.toml" in out or "operations.md" in out
    assert "[" in out and "]" in out  # citations
    # progress goes to stderr, not stdout
    assert "read_many" in res.stderr and "tokens" in res.stderr
    assert "read_many" not in out


def test_ask_json(tmp_path):
    res = forage("ask", "Where is the retry delay configured?", str(EXAMPLE), "--json", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) >= {"answer", "citations", "manifest", "history", "usage", "failures"}
    assert data["citations"] and data["citations"][0]["text"].startswith("[")
    assert data["history"][0]["tool"] == "read_many" and data["history"][0]["status"] == "ok"
    assert all({"uri", "hash", "span", "tokens"} <= set(b) for b in data["manifest"])
    assert data["usage"]["gathered_tokens"] > 0


def test_ask_partial_when_a_source_is_missing(tmp_path):
    res = forage("ask", "retry delay?", str(EXAMPLE), str(tmp_path / "missing"), tmp_path=tmp_path)
    assert res.returncode == 3, res.stderr
    assert "no such file" in res.stderr and "partial" in res.stderr
    assert "retry_delay_seconds" in res.stdout


def test_a_document_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    from tests import officefixtures as fx

    folder = tmp_path / "office"
    folder.mkdir()
    fx.docx_file(folder / "plan.docx")
    broken = fx.corrupt(folder / "broken.pptx")
    # In a folder: the rest is read, and the user hears which file was left out and why.
    for command in (["pack", "--stdout"], ["ask", "What is the plan?"]):
        res = forage(*command, str(folder), tmp_path=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "1 file(s) could not be read" in res.stderr and "broken.pptx" in res.stderr
        assert "damaged" in res.stderr and "Traceback" not in res.stderr
    # Named: a failed source, with the reason, not "nothing readable"; the other source is used.
    res = forage("ask", "What is the plan?", str(broken), str(folder / "plan.docx"), tmp_path=tmp_path)
    assert res.returncode == 3, res.stderr
    failed = [line for line in res.stderr.splitlines() if line.strip().startswith("- ")]
    assert len(failed) == 1 and "broken.pptx" in failed[0] and "damaged" in failed[0], res.stderr
    res = forage("pack", "--stdout", str(broken), tmp_path=tmp_path)
    assert res.returncode != 0 and "damaged" in res.stderr and "nothing readable" not in res.stderr


def test_ask_fails_clearly_when_nothing_can_be_gathered(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = forage("ask", "anything?", str(tmp_path / "missing"), str(empty), tmp_path=tmp_path)
    assert res.returncode == 1
    assert "nothing could be gathered" in res.stderr and "Traceback" not in res.stderr


def test_bad_config_is_a_user_error(tmp_path):
    (tmp_path / "forage.toml").write_text('route = "fastest"\n')
    res = forage("ask", "q?", str(EXAMPLE), tmp_path=tmp_path)
    assert res.returncode == 1
    assert "forage.toml" in res.stderr and "route" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "fmt,marker", [("markdown", "# Manifest"), ("xml", "<manifest"), ("json", '"manifest"')]
)
def test_pack_formats_to_file(tmp_path, fmt, marker):
    out = tmp_path / f"context.{fmt}"
    res = forage(
        "pack", str(EXAMPLE), "-q", "retry logic", "--format", fmt, "-o", str(out), tmp_path=tmp_path
    )
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert marker in text and "retry_delay_seconds" in text
    if fmt == "json":
        data = json.loads(text)
        assert {"uri", "hash", "span", "tokens"} <= set(data["manifest"][0])


def test_pack_budget_is_hard_and_stdout(tmp_path):
    res = forage("pack", str(EXAMPLE), "-q", "retry delay", "--budget", "700", "--stdout", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Left out" in res.stdout
    total = int(res.stdout.split("Total: ")[1].split()[0])
    assert total <= 700


def test_pack_is_byte_stable(tmp_path):
    a = forage("pack", str(EXAMPLE), "--stdout", tmp_path=tmp_path).stdout
    b = forage("pack", str(EXAMPLE), "--stdout", tmp_path=tmp_path).stdout
    assert a == b and a


def test_help_is_complete(tmp_path):
    top = forage("--help", tmp_path=tmp_path)
    assert top.returncode == 0 and "Exit codes" in top.stdout
    for cmd in ("ask", "pack"):
        res = forage(cmd, "--help", tmp_path=tmp_path)
        assert res.returncode == 0 and "--budget" in res.stdout
    res = forage("servers", "files", "--help", tmp_path=tmp_path)
    assert res.returncode == 0 and "ROOT" in res.stdout and "--transport" in res.stdout


def test_usage_error_exit_code(tmp_path):
    res = forage("pack", tmp_path=tmp_path)
    assert res.returncode == 2


def test_servers_files_speaks_mcp_over_stdio(tmp_path):
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    async def main() -> list[str]:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "cli.app", "servers", "files", str(EXAMPLE)]
        )
        async with Client(params) as client:
            tools = await client.list_tools()
            res = await client.call_tool("read_file", {"path": "acme.toml"})
            assert not res.is_error and "retry_delay_seconds" in res.content[0].text
            return [t.name for t in tools.tools]

    names = anyio.run(main)
    assert {"list_files", "read_file", "read_many", "search_files", "file_info"} <= set(names)


def test_index_builds_then_reuses(tmp_path):
    first = forage("index", str(EXAMPLE), "--embedding", "none", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "chunks" in first.stdout
    # The reads fold into one summary line; --verbose shows each read_many call.
    assert "read 8 documents" in first.stderr and "read_many" not in first.stderr
    verbose = forage("index", str(EXAMPLE), "--embedding", "none", "--verbose", tmp_path=tmp_path)
    assert verbose.returncode == 0 and "read_many" in verbose.stderr, verbose.stderr
    missing = forage("index", str(tmp_path / "nope"), tmp_path=tmp_path)
    assert missing.returncode == 1 and "nothing to index" in missing.stderr


def test_ctrl_c_stops_cleanly_without_a_traceback(tmp_path):
    import signal
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    arrived = threading.Event()

    class Stall(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            arrived.set()
            time.sleep(30)  # never answers in time: forage is interrupted while it waits

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Stall)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/page.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_"))}
    env.update(FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path))
    # A suite started as a background job of a non-interactive shell ignores SIGINT, and children
    # inherit that: give forage the default, as a terminal would.
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.app", "ask", "q?", url, "--allow-host", "127.0.0.1", "--ignore-robots"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert arrived.wait(60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    httpd.shutdown()
    assert proc.returncode == 130
    assert "Interrupted" in err and "Traceback" not in err


def test_a_pipe_as_a_source_is_refused_and_others_go_on(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    res = forage("ask", "retry delay?", str(tmp_path / "pipe"), str(EXAMPLE), tmp_path=tmp_path)
    assert res.returncode == 3, res.stderr
    assert "not a regular file" in res.stderr and "retry_delay_seconds" in res.stdout


def test_servers_files_over_streamable_http(tmp_path):
    import socket
    import time

    import anyio
    from mcp import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.app", "servers", "files", str(EXAMPLE), "--transport", "http", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def main() -> str:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                res = await client.call_tool("read_file", {"path": "acme.toml"})
                return res.content[0].text

        assert "retry_delay_seconds" in anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(10)


def test_pack_format_comes_from_forage_toml_unless_given(tmp_path):
    (tmp_path / "forage.toml").write_text('pack_format = "xml"\n')
    res = forage("pack", str(EXAMPLE), "--quiet", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "forage-pack.xml").read_text().startswith("<documents>")
    res = forage("pack", str(EXAMPLE), "--quiet", "--format", "markdown", tmp_path=tmp_path)
    assert res.returncode == 0 and (tmp_path / "forage-pack.md").exists()
