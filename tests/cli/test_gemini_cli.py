"""forage with Gemini as a user runs it (real processes, real MCP servers), against the fake REST
server that enforces today's contract: signed function calls, current models, cache sizes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.test_cli import EXAMPLE
from tests.fakes.gemini_server import FakeGemini, GeminiServer, signature_bytes

pytestmark = pytest.mark.slow
MODEL = "gemini-3.5-flash"


def _run(tmp_path: Path, fake: FakeGemini, *args: str, input: str | None = None, key: bool = True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        FORAGE_GEMINI_BASE_URL=fake.url,
    )  # fmt: skip
    if key:
        env["GEMINI_API_KEY"] = "test-key"
    return subprocess.run(
        [sys.executable, "-m", "cli.app", *args],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path, input=input,
    )  # fmt: skip


def _answers(fake: FakeGemini) -> list:
    return [r for r in fake.requests if r.action in ("generateContent", "streamGenerateContent")]


def _signed_turns(body: dict) -> list[list[tuple[str, bytes | None]]]:
    """Each replayed model turn as (call name, signature bytes or None) per function-call part."""
    return [
        [
            (
                p["functionCall"]["name"],
                signature_bytes(p["thoughtSignature"]) if "thoughtSignature" in p else None,
            )
            for p in c["parts"]
            if "functionCall" in p
        ]
        for c in body.get("contents", [])
        if c.get("role") == "model"
    ]


def test_three_planning_rounds_on_gemini_3_replay_every_signature_unchanged(tmp_path):
    with GeminiServer() as fake:
        fake.reply_call("search_files", {"query": "retry_delay_seconds"})
        fake.reply_calls(("read_file", {"path": "acme.toml"}), ("read_file", {"path": "README.md"}))
        fake.reply_call("read_file", {"path": "docs/operations.md"})
        fake.reply_text("DONE")
        fake.reply_text("It is ", "retry_delay_seconds in acme.toml [1].")
        res = _run(
            tmp_path, fake, "ask", "Where is the retry delay configured?", str(EXAMPLE),
            "--model", MODEL, "--max-steps", "6",
        )  # fmt: skip
        print("\n--- fake Gemini server log ---\n" + fake.log())  # shown with pytest -s
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("It is retry_delay_seconds in acme.toml [1].")
    calls = _answers(fake)
    assert [r.status for r in calls] == [200] * 5  # 4 planning requests and the answer: none refused
    issued = list(fake.signatures)  # in the order the fake signed them
    fourth = calls[3].body
    assert _signed_turns(fourth) == [
        [("search_files", issued[0])],
        [("read_file", issued[1]), ("read_file", None)],  # parallel: the first part carries it
        [("read_file", issued[2])],
    ]
    # A one-shot ask makes no explicit cache (nothing could reuse it), and counts its pack once.
    assert not fake.calls("cachedContents.create")
    assert len(fake.calls("countTokens")) == 1
    assert "tokens:" in res.stderr and "thinking" in res.stderr


class _Site:
    """Two pages on loopback; the first request for /slow.html hangs (the client is killed meanwhile)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.hanging = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                if self.path == "/slow.html" and site.hits[self.path] == 1:
                    site.hanging.set()
                    time.sleep(30)
                    return
                words = {"/fast.html": "The uploader retries after a pause.",
                         "/slow.html": "The zebra-quartz setting controls the retry delay."}.get(self.path)  # fmt: skip
                if words is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = f"<html><head><title>{self.path}</title></head><body><main><h1>Guide</h1><p>{words}</p></main></body></html>".encode()
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_a_killed_gemini_chat_resumes_and_replays_the_saved_signatures(tmp_path):
    site = _Site()
    with GeminiServer() as fake:
        fake.reply_call("fetch_page", {"url": f"{site.base}/fast.html"})
        fake.reply_call("fetch_page", {"url": f"{site.base}/slow.html"})
        fake.reply_text("DONE")
        fake.reply_text("The zebra-quartz setting [2].")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
        env.update(
            FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
            FORAGE_GEMINI_BASE_URL=fake.url, GEMINI_API_KEY="test-key",
        )  # fmt: skip
        cmd = [sys.executable, "-m", "cli.app", "chat", f"{site.base}/fast.html", "--model", MODEL,
               "--allow-host", "127.0.0.1", "--session", "g1"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write("What controls the retry delay?\n")
        proc.stdin.flush()
        assert site.hanging.wait(90), "the second page was never requested"
        proc.kill()  # SIGKILL mid-gathering: the two signed turns live only in the checkpoint
        proc.wait(10)
        planned = len(_answers(fake))
        res = subprocess.run(
            [sys.executable, "-m", "cli.app", "chat", "--session", "g1", "--model", MODEL,
             "--allow-host", "127.0.0.1"],
            input="", capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "zebra-quartz setting [2]" in res.stdout
    after = _answers(fake)[planned:]
    assert [r.status for r in after] == [200, 200]  # the resumed planning request was accepted
    issued = list(fake.signatures)
    assert _signed_turns(after[0].body) == [[("fetch_page", issued[0])], [("fetch_page", issued[1])]]
    assert site.hits["/fast.html"] == 1  # finished before the kill: not fetched again


def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for i in range(30):
        body = "\n\n".join(
            f"## Part {k}\nChapter {i} part {k} is about gardening, soil, compost and tomatoes. " * 3
            for k in range(6)
        )
        (root / f"chapter{i:02d}.md").write_text(f"# Chapter {i}\n\n{body}\n")
    return root


def test_a_refusal_never_reaches_stdout_and_self_route_widens_once(tmp_path):
    corpus = _corpus(tmp_path)
    with GeminiServer() as fake:
        fake.models["gemini-test"] = 40_000
        fake.reply_call("read_many", {"paths_or_glob": str(corpus)})
        fake.reply_text("DONE")
        fake.reply_text("NOT_IN", "_CONTEXT\nThe blocks ", "do not mention zebras.")
        fake.reply_text("Zebras ", "graze in chapter 3 [1].")
        res = _run(
            tmp_path, fake, "ask", "Which gardening chapter mentions zebras?", str(corpus),
            "--model", "gemini-test", "--route", "self", "--window", "20000",
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Zebras graze in chapter 3 [1].")
    assert "NOT_IN" not in res.stdout and "do not mention zebras" not in res.stdout
    assert "widening" in res.stderr
    packs = [r.body["contents"][0]["parts"][0]["text"] for r in _answers(fake)[2:]]
    assert len(packs) == 2 and packs[0] != packs[1] and len(packs[0]) < len(packs[1])


def test_a_refusal_that_stands_is_said_on_stderr_and_in_json(tmp_path):
    with GeminiServer() as fake:
        fake.reply_call("read_many", {"paths_or_glob": str(EXAMPLE)})
        fake.reply_text("DONE")
        fake.reply_text("NOT_IN_CONTEXT\nNothing about zebras here.")
        res = _run(
            tmp_path, fake, "ask", "Where do zebras graze?", str(EXAMPLE), "--model", MODEL,
            "--route", "self", "--json",
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["answered"] is False and data["answer"] is None
    assert data["missing"] == "Nothing about zebras here."
    assert data["route"][0].startswith("select@") and len(data["route"]) == 1
    assert "Self-Route" in data["route_why"][0] and data["route_why"][-1].startswith("not widened")
    assert len(_answers(fake)) == 3  # plan, plan, one answer: the identical pack was not sent again


def test_forage_models_lists_what_the_key_can_use(tmp_path):
    with GeminiServer() as fake:
        table = _run(tmp_path, fake, "models")
        listing = _run(tmp_path, fake, "models", "--json")
        nokey = _run(tmp_path, fake, "models", key=False)
    assert table.returncode == 0, table.stderr
    line = next(ln for ln in table.stdout.splitlines() if ln.startswith("gemini-3.8-flash"))
    assert "1,048,576" in line and "default" in line and "unknown" in line and "yes" in line
    flash = next(ln for ln in table.stdout.splitlines() if ln.startswith("gemini-3.5-flash "))
    assert "$1.5 / $0.15 / $9" in flash
    assert "prices checked" in table.stderr
    rows = json.loads(listing.stdout)["models"]
    assert rows[0]["name"] == "gemini-3.8-flash" and rows[0]["default"] and rows[0]["price"] is None
    assert "gemini-embedding-001" not in {r["name"] for r in rows}
    assert nokey.returncode == 1 and "GEMINI_API_KEY" in nokey.stderr


def test_a_retired_model_is_one_clear_message_and_exit_1(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    with GeminiServer() as fake:
        res = _run(tmp_path, fake, "ask", "Where is the retry delay configured?", str(repo),
                   "--model", "gemini-2.5-flash")  # fmt: skip
    assert res.returncode == 1
    assert "'gemini-2.5-flash' is not available" in res.stderr and "gemini-3.8-flash" in res.stderr
    assert "Traceback" not in res.stderr and not _answers(fake)
