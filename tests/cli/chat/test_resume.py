"""A chat killed with SIGKILL at any point of a turn resumes and runs no finished tool call twice.

Real processes, really killed: `forage chat` over real MCP servers reading a local web site whose
pages can be held back; the resumed process runs the same session. The site counts what it
received, so a call that ran twice shows as a second request.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.cli.chat.test_chat import _env
from tests.cli.gated_site import (
    GatedSite,
    SlowAnswers,
    answer_requests,
    page,
    plan_requests,
    saved_call_results,
    wait_for,
)

pytestmark = pytest.mark.slow

QUESTION = "Which colour is the uploader and how long is its retry delay?"


def _start(args: list[str], env: dict[str, str], cwd) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.app", "chat", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(QUESTION + "\n")
    proc.stdin.flush()
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL: no cleanup, no chance to save anything more
    proc.wait(10)


def _resume(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [sys.executable, "-m", "cli.app", "chat", "--resume", "s1", *args],
        input="", capture_output=True, text=True, timeout=180, env=env, cwd=cwd,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "resuming the unfinished question" in res.stderr
    assert "unregistered type" not in res.stderr.lower()  # every saved record deserialised as itself
    return res


@pytest.fixture
def site():
    pages = {
        "/colour.html": page("Colour", "The uploader is painted ochre-violet."),
        "/delay.html": page("Delay", "The uploader waits zebra-quartz seconds before a retry."),
    }
    with GatedSite(pages) as s:
        yield s


def test_kill_during_a_slow_call_of_a_parallel_step_reruns_only_that_call(site, tmp_path):
    env = _env(tmp_path)
    db = tmp_path / "data" / "sessions.sqlite"
    site.hold("/delay.html")
    args = [site.url("/colour.html"), site.url("/delay.html"), "--allow-host", "127.0.0.1"]
    proc = _start(["--session", "s1", *args], env, tmp_path)
    assert site.arrived["/delay.html"].wait(90), "the slow page was never requested"
    # The fast call of the same step has finished: wait until its result is on disk, then kill
    # while the slow one is still in flight.
    wait_for(lambda: saved_call_results(db) >= 1, what="the fast call's saved result")
    assert site.hits["/colour.html"] == 1
    _kill(proc)
    site.release("/delay.html")

    res = _resume(["--allow-host", "127.0.0.1"], env, tmp_path)
    assert "ochre-violet" in res.stdout and "zebra-quartz" in res.stdout  # both pages answered from
    assert site.hits["/colour.html"] == 1  # finished before the kill: not fetched again
    assert site.hits["/delay.html"] == 2  # unfinished at the kill: run again, once


def _windows(progress: str) -> list[int]:
    """The start index of each fetch_page call a progress log shows as finished (0: the first window)."""
    found = re.findall(r"✓ fetch_page\(([^)]*)\)", progress)
    return [int(m.group(1)) if (m := re.search(r"start_index=(\d+)", args)) else 0 for args in found]


def test_kill_between_steps_resumes_at_the_next_step(tmp_path):
    # A long page arrives in windows of 20,000 characters, one call (and one step) each.
    long = page("Guide", "The zebra-quartz setting controls the retry delay of the uploader.", words=6000)
    with GatedSite({"/long.html": long}) as site:
        env = _env(tmp_path)
        site.hold("/long.html", after=2)  # hold the third window's request
        proc = _start(["--session", "s1", site.url("/long.html"), "--allow-host", "127.0.0.1"], env, tmp_path)
        assert site.arrived["/long.html"].wait(90), "the third window was never requested"
        _kill(proc)
        site.release("/long.html")
        assert proc.stderr is not None
        done_before = _windows(proc.stderr.read())
        assert len(done_before) == 2 and done_before[0] == 0, done_before
        before = site.hits["/long.html"]
        res = _resume(["--allow-host", "127.0.0.1"], env, tmp_path)
        assert "zebra-quartz" in res.stdout  # the answer uses the end of the page
        done_after = _windows(res.stderr)
        # Windows 1 and 2 were saved: the resumed run starts at window 3 (the interrupted call)
        # and fetches each later window once; no window is asked for in both runs.
        assert done_after and min(done_after) > max(done_before)
        assert len(set(done_after)) == len(done_after)
        assert site.hits["/long.html"] - before == len(done_after)


def test_kill_during_the_answer_reruns_only_the_answer(site, tmp_path):
    holder = SlowAnswers()
    with holder as fake:
        # Plan: one step that reads both pages at once, then DONE; then the answer.
        fake.reply_calls(
            ("fetch_page", {"url": site.url("/colour.html")}),
            ("fetch_page", {"url": site.url("/delay.html")}),
        )
        fake.reply_text("DONE")
        fake.reply_text("lost with the killed process")
        fake.reply_text("The uploader is ochre-violet [1] and waits zebra-quartz seconds [2].")
        env = _env(tmp_path, GEMINI_API_KEY="test-key", FORAGE_GEMINI_BASE_URL=fake.url)
        holder.holding.set()
        args = [site.url("/colour.html"), site.url("/delay.html"), "--allow-host", "127.0.0.1"]
        model = ["--model", "gemini-3.5-flash"]
        proc = _start(["--session", "s1", *args, *model], env, tmp_path)
        assert holder.answer_arrived.wait(120), "the answer was never requested"
        _kill(proc)
        holder.release()
        plans_before = len(plan_requests(fake))
        assert plans_before == 2 and site.hits == {"/colour.html": 1, "/delay.html": 1}

        res = _resume(["--allow-host", "127.0.0.1", *model], env, tmp_path)
        assert "ochre-violet [1]" in res.stdout
        assert site.hits == {"/colour.html": 1, "/delay.html": 1}  # no tool call ran again
        assert len(plan_requests(fake)) == plans_before  # nor any planning step
        assert len(answer_requests(fake)) == 2  # only the answer was asked for again
