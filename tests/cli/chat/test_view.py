"""LiveGather: what the chat shows while it gathers, on a terminal and without one, pinned."""

from __future__ import annotations

import io

import pytest

from agent.events import Widen
from cli import render
from cli.chat.view import LiveGather
from tests.cli.test_render import PLAIN, console
from tests.fakes.events import EVENTS

LIVE = (
    "\x1b[2mstarting MCP servers: files, web\x1b[0m\n"
    "  \x1b[32m✓\x1b[0m read_file /x/[a].py (continued) → 1 doc(s), 321 tokens \x1b[2m0.25s\x1b[0m\n"
    "  \x1b[31m✗\x1b[0m search  → error \x1b[2m1.50s\x1b[0m\n"
    "    \x1b[31mbad [thing]\x1b[0m\n"
    "\x1b[31mmore\x1b[0m\n"
    "\x1b[33mline one [b]\x1b[0m\n"
    "\x1b[33mline two\x1b[0m\n"
    "\x1b[31m✗ /missing: no such file [x]\x1b[0m\n"
    "\x1b[2mroute full: 1,234 tokens gathered, budget no limit\x1b[0m\n"
    "\x1b[2mroute select: 50,000 tokens gathered, budget 8,000\x1b[0m\n"
    "\x1b[33mtrimmed [n]\x1b[0m\n"
    "\x1b[2mpacked 2,400 tokens in 2 block(s), left out 1 item(s)\x1b[0m\n"
    "\x1b[33mredacted 1 secret(s): a.py:3 (aws_key)\x1b[0m\n"
    "\x1b[2mpacked 2,400 tokens in 2 block(s)\x1b[0m\n"
    "\x1b[33mthe pack could not answer; widening to select @ 16,000\x1b[0m\n"
)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(render.time, "perf_counter", lambda: 100.0)


def test_without_a_terminal_the_chat_prints_the_progress_lines():
    buf = io.StringIO()
    view = LiveGather(console(buf, terminal=False))
    for event in EVENTS:
        view(event)
    assert buf.getvalue() == PLAIN


def test_on_a_terminal_each_call_stays_as_one_line_when_it_ends():
    buf = io.StringIO()
    view = LiveGather(console(buf, terminal=True))
    for event in EVENTS:
        if isinstance(event, Widen) and event.route is None:
            continue
        view(event)
    assert buf.getvalue() == LIVE


def test_on_a_terminal_a_pack_that_was_not_widened_says_why():
    buf = io.StringIO()
    LiveGather(console(buf, terminal=True))(Widen(route=None, budget=None, why="not widened: same blocks"))
    assert (
        buf.getvalue() == "\x1b[33mthe pack could not answer; not widened: same blocks\x1b[0m\n"
    )  # it raised TypeError
