"""The real chat in a pseudo-terminal (pexpect): line editing and history, every slash command,
Ctrl-C while gathering and while answering, Ctrl-D to leave."""

from __future__ import annotations

import shutil
import sys

import pexpect
import pytest

from tests.cli.chat.test_chat import _env
from tests.cli.gated_site import GatedSite, SlowAnswers, page, wait_for
from tests.cli.test_cli import EXAMPLE

pytestmark = pytest.mark.slow

PROMPT = "forage ❯"
UP = "\x1b[A"


def _spawn(args: list[str], env: dict[str, str], cwd, log) -> pexpect.spawn:
    env = {**env, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "cli.app", "chat", *args],
        env=env, cwd=str(cwd), encoding="utf-8", timeout=90, dimensions=(50, 120),
    )  # fmt: skip
    child.logfile_read = log
    return child


def _command(child: pexpect.spawn, line: str, *expected: str) -> str:
    """Send one line at the prompt, wait for each expected text and the next prompt; return the output."""
    child.sendline(line)
    seen = []
    for text in (*expected, PROMPT):
        child.expect_exact(text)
        seen.append(child.before + text)
    return "".join(seen)


def test_terminal_chat_history_commands_and_ctrl_c_while_gathering(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ops.md").write_text("# Ops\n\nThe pager rota lives in the amber-kestrel sheet.\n")
    slow = {"/slow.html": page("Slow", "The mirror lives at cobalt-heron.")}
    log = open(tmp_path / "pty.log", "w")  # noqa: SIM115 - read when a step fails
    with GatedSite(slow) as site:
        env = _env(tmp_path)
        child = _spawn([str(repo), "--allow-host", "127.0.0.1", "--session", "t1"], env, tmp_path, log)
        child.expect_exact(PROMPT)

        # ask; the answer is rendered and the status line follows it
        _command(
            child, "Where is the retry delay configured?", "retry_delay_seconds", "extractive · route full"
        )
        # a follow-up reuses what was gathered: no new call
        out = _command(child, "What is the base url?", "base_url")
        assert "read_many" not in out
        # the up arrow brings back earlier questions (history), editable before Enter
        child.send(UP)
        child.expect_exact("What is the base url?")
        child.send(UP)
        child.expect_exact("retry delay configured?")  # redrawn from the first differing character
        child.sendcontrol("u")  # clear the recalled line: nothing is asked
        child.sendline("/help")
        for name in ("/add SOURCE", "/drop SOURCE", "/sources", "/context", "/history", "/budget N",
                     "/model NAME", "/route MODE", "/save FILE", "/clear", "/exit"):  # fmt: skip
            child.expect_exact(name)
        child.expect_exact(PROMPT)

        _command(child, "/sources", "Sources", str(repo)[-30:], "total")
        _command(child, "/context", "Last pack", "acme.toml", "lines 1-14")
        _command(child, "/history", "Action history: 1 call(s)", "read_many", "ok")
        _command(child, "/budget 5000", "budget set to 5,000 tokens")
        _command(child, "/budget nonsense", "needs a positive number")
        _command(child, "/route select", "route set to select")
        _command(child, "/route sideways", "use auto, full, select or self")
        _command(child, "/model extractive", "model: extractive")
        _command(child, "/frobnicate", "unknown command /frobnicate")
        # /add gathers only the new source
        out = _command(child, f"/add {notes}", "added")
        assert "read_many" in out and "1 doc(s), 15 tokens" in out  # the new folder only
        _command(child, "/sources", str(notes)[-20:])
        _command(child, "Who has the pager rota?", "amber-kestrel")

        # Ctrl-C while a call is in flight stops the gathering only: the chat stays open and
        # answers from what it has; what was gathered is kept
        site.hold("/slow.html")
        child.sendline(f"/add {site.url('/slow.html')}")
        assert site.arrived["/slow.html"].wait(60)
        child.expect_exact("fetch_page")  # the live view shows the running call
        child.sendintr()
        child.expect_exact("stopping the gathering")
        child.expect_exact(PROMPT)
        site.release("/slow.html")
        _command(child, "/history", "read_many", "fetch_page", "cancelled")
        _command(child, f"/drop {notes}", "dropped", "1 document(s) removed")
        out = _command(child, "/sources", "total")
        assert "notes" not in out

        # /save writes the transcript, citations included; /clear starts it afresh
        _command(child, "/save chat.md", "saved the transcript")
        saved = (tmp_path / "chat.md").read_text()
        assert "## Where is the retry delay configured?" in saved and "## Who has the pager rota?" in saved
        assert "[2] acme.toml" in saved
        _command(child, "/clear", "cleared")
        _command(child, "/save after.md", "saved")
        assert "## " not in (tmp_path / "after.md").read_text()

        # Ctrl-C at the prompt only clears the line; Ctrl-D leaves, the session saved
        child.send("half a question")
        child.expect_exact("half a question")
        child.sendintr()
        out = _command(child, "/sources", "total")
        assert "half a question" not in out.split("\n", 1)[-1]
        child.sendeof()
        child.expect_exact("forage chat --resume t1")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0

        # history survives the session: a new chat recalls the last line with the up arrow
        child = _spawn(["--resume", "t1", "--allow-host", "127.0.0.1"], env, tmp_path, log)
        child.expect_exact(PROMPT)
        child.send(UP)
        child.expect_exact("/sources")
        child.sendcontrol("u")
        assert "Who has the pager rota?" in (tmp_path / "data" / "chat_history").read_text()
        _command(child, "/exit")
        child.expect(pexpect.EOF)


def test_terminal_chat_ctrl_c_while_answering_keeps_the_chat_and_the_cache(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    # big enough to be worth an explicit cache (the fake counts words; flash needs 1,024 tokens)
    (repo / "docs" / "history.md").write_text(
        "# History\n\n" + "The project grew slowly over the years. " * 400
    )
    log = open(tmp_path / "pty.log", "w")  # noqa: SIM115 - read when a step fails
    server = SlowAnswers()
    with server as fake:
        fake.reply_call("read_many", {"paths_or_glob": str(repo)})
        fake.reply_text("DONE")
        fake.reply_text("never shown: the answer is stopped before it arrives")
        fake.reply_text("DONE")
        fake.reply_text("The **base URL** is set in `acme.toml` [2].")
        env = _env(tmp_path, GEMINI_API_KEY="test-key", FORAGE_GEMINI_BASE_URL=fake.url)
        child = _spawn([str(repo), "--model", "gemini-3.5-flash"], env, tmp_path, log)
        child.expect_exact(PROMPT)
        server.holding.set()
        child.sendline("Where is the retry delay configured?")
        assert server.answer_arrived.wait(60), "the answer was never requested"
        child.sendintr()
        child.expect_exact("stopping the answer")
        child.expect_exact("(answer stopped)")
        child.expect_exact(PROMPT)
        server.release()
        # the chat goes on; the follow-up reuses the gathered material and the cached prefix
        out = _command(child, "And the base URL?", "base URL", "acme.toml", "Sources:", "[2] acme.toml")
        assert "**" not in out  # rendered as markdown, not shown raw
        assert "read_many" not in out
        wait_for(lambda: len(fake.calls("cachedContents.create")) >= 1, what="the cache")
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        # one cache for the packed prefix: the follow-up on unchanged sources made no new one
        assert len(fake.calls("cachedContents.create")) == 1
        answers = [r for r in fake.requests if r.action.endswith("enerateContent") and "tools" not in r.body]
        assert len(answers) == 2 and answers[0].body["cachedContent"] == answers[1].body["cachedContent"]
