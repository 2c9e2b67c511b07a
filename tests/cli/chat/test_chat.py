"""forage chat: follow-ups reuse the gathered material and the Gemini context cache; a killed
chat resumes from its last saved step."""

import os
import subprocess
import sys

import pytest

from tests.cli.test_cli import EXAMPLE, forage
from tests.fakes.gemini_server import GeminiServer

pytestmark = pytest.mark.slow


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg")
    )
    env.update(extra)
    return env


def test_extractive_chat_answers_follow_ups_and_continues_a_session(tmp_path):
    first = forage("chat", str(EXAMPLE), tmp_path=tmp_path, input="Where is the retry delay configured?\n")
    assert first.returncode == 0, first.stderr
    assert "retry_delay_seconds" in first.stdout
    session = first.stderr.split("forage chat --resume ")[1].split()[0]
    again = forage("chat", "--resume", session, tmp_path=tmp_path, input="What is the base url?\n")
    assert again.returncode == 0, again.stderr
    assert "base_url" in again.stdout
    assert "read_many" not in again.stderr  # the follow-up reused what the session gathered
    last = forage("chat", "--resume", tmp_path=tmp_path, input="/sources\n")  # the last session
    assert last.returncode == 0 and f"session {session}" in last.stderr
    missing = forage("chat", "--session", "nope", tmp_path=tmp_path, input="")
    assert missing.returncode == 1 and "no session 'nope'" in missing.stderr
    missing = forage("chat", "--resume", "nope", tmp_path=tmp_path, input="")
    assert missing.returncode == 1 and "no session 'nope'" in missing.stderr


def test_gemini_follow_up_reuses_the_context_cache(tmp_path):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    # big enough to be worth an explicit cache (the fake counts words; flash needs 1,024 tokens)
    (repo / "docs" / "history.md").write_text(
        "# History\n\n" + "The project grew slowly over the years. " * 400
    )
    with GeminiServer() as fake:
        fake.reply_call("read_many", {"paths_or_glob": str(repo)})
        fake.reply_text("DONE")
        fake.reply_text("The delay is set by retry_delay_seconds in acme.toml [2].")
        fake.reply_text("DONE")
        fake.reply_text("The base URL is in acme.toml too [2].")
        env = _env(tmp_path, GEMINI_API_KEY="test-key", FORAGE_GEMINI_BASE_URL=fake.url)
        res = subprocess.run(
            [sys.executable, "-m", "cli.app", "chat", str(repo), "--model", "gemini-3.5-flash"],
            input="Where is the retry delay configured?\nAnd the base URL?\n",
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert "retry_delay_seconds in acme.toml [2]" in res.stdout
        assert "Sources:\n[2] acme.toml" in res.stdout
        # one explicit cache for the packed prefix, reused by the follow-up, deleted at the end
        assert len(fake.calls("cachedContents.create")) == 1
        assert len(fake.calls("cachedContents.delete")) == 1
        answers = [r for r in fake.requests if r.action in ("generateContent", "streamGenerateContent")]
        cached = [r for r in answers if r.body.get("cachedContent")]
        assert len(cached) == 2  # both answers referred to the same cache
        assert cached[0].body["cachedContent"] == cached[1].body["cachedContent"]
        last = cached[1].body["contents"][-1]
        assert "And the base URL?" in last["parts"][-1]["text"]  # the question comes last
        # planning saw the MCP tools as function declarations
        plan = answers[0].body
        names = {
            f["name"]
            for t in plan["tools"]
            for f in t.get("functionDeclarations") or t.get("function_declarations")
        }
        assert {"read_many", "read_file", "search_files"} <= names


def test_ask_with_gemini_plans_with_function_calls_and_streams_a_cited_answer(tmp_path):
    with GeminiServer() as fake:
        fake.reply_call("search_files", {"query": "retry_delay_seconds"})
        fake.reply_call("read_file", {"path": "acme.toml"})
        fake.reply_text("DONE")
        fake.reply_text("It is ", "retry_delay_seconds in acme.toml [1].")
        env = _env(tmp_path, GEMINI_API_KEY="test-key", FORAGE_GEMINI_BASE_URL=fake.url)
        res = subprocess.run(
            [sys.executable, "-m", "cli.app", "ask", "Where is the retry delay configured?", str(EXAMPLE),
             "--model", "gemini-3.5-flash", "--max-steps", "3"],
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("It is retry_delay_seconds in acme.toml [1].")
    assert "Sources:\n[1] acme.toml" in res.stdout
    assert "tokens:" in res.stderr and "prompt" in res.stderr
    tools_called = [line for line in res.stderr.splitlines() if "✓" in line]
    assert any("search_files" in t for t in tools_called) and any("read_file" in t for t in tools_called)


def test_sessions_list_show_and_rm(tmp_path):
    first = forage("chat", str(EXAMPLE), tmp_path=tmp_path, input="Where is the retry delay configured?\n")
    assert first.returncode == 0, first.stderr
    assert "\x1b[" not in first.stdout + first.stderr  # piped: no colours, no spinners
    session = first.stderr.split("forage chat --resume ")[1].split()[0]
    listed = forage("sessions", "list", tmp_path=tmp_path)
    assert listed.returncode == 0 and session in listed.stdout
    assert "acme-client" in listed.stdout and "Where is the retry" in listed.stdout
    shown = forage("sessions", "show", session, tmp_path=tmp_path)
    assert shown.returncode == 0 and "1. Where is the retry delay configured?" in shown.stdout
    assert "retry_delay_seconds" in shown.stdout
    gone = forage("sessions", "rm", session, tmp_path=tmp_path)
    assert gone.returncode == 0 and f"removed session {session}" in gone.stdout
    assert session not in forage("sessions", "list", tmp_path=tmp_path).stdout
    again = forage("chat", "--session", session, tmp_path=tmp_path, input="")
    assert again.returncode == 1 and "no session" in again.stderr  # its checkpoints went too
    missing = forage("sessions", "show", "nope", tmp_path=tmp_path)
    assert missing.returncode == 1 and "no session 'nope'" in missing.stderr
