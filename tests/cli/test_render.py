"""Progress: the stderr lines of ask, pack and index, pinned byte for byte."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cli import render
from cli.render import Progress
from tests.fakes.events import EVENTS

PLAIN = (
    "starting MCP servers: files, web\n"
    "  ✓ read_file(path=/x/[a].py) → 1 doc(s), 321 tokens 0.25s\n"
    "  1 document(s), 321 tokens, 0.0s\n"
    "  ✗ search(n=3) → error 1.50s\n"
    "    bad [thing]\n"
    "  1 document(s), 321 tokens, 0.0s\n"
    "line one [b]\n"
    "line two\n"
    "✗ /missing: no such file [x]\n"
    "route: full (1,234 tokens gathered, budget no limit): it fits [all]\n"
    "route: select (50,000 tokens gathered, budget 8,000)\n"
    "trimmed [n]\n"
    "packed 2,400 tokens in 2 block(s)\n"
    "redacted 1 secret(s): a.py:3 (aws_key)\n"
    "left out 1 item(s) (see the manifest)\n"
    "packed 2,400 tokens in 2 block(s)\n"
    "the pack could not answer; widening to select @ 16,000\n"
    "the pack could not answer; not widened: same blocks\n"
)
STYLED = (
    "\x1b[2mstarting MCP servers: files, web\x1b[0m\n"
    "  \x1b[32m✓\x1b[0m read_file(path=/x/[a].py) → 1 doc(s), 321 tokens \x1b[2m0.25s\x1b[0m\n"
    "  \x1b[2m1 document(s), 321 tokens, 0.0s\x1b[0m\n"
    "  \x1b[31m✗\x1b[0m search(n=3) → error \x1b[2m1.50s\x1b[0m\n"
    "    \x1b[31mbad [thing]\x1b[0m\n"
    "  \x1b[2m1 document(s), 321 tokens, 0.0s\x1b[0m\n"
    "\x1b[33mline one [b]\x1b[0m\n"
    "\x1b[33mline two\x1b[0m\n"
    "\x1b[31m✗ /missing: no such file [x]\x1b[0m\n"
    "\x1b[2mroute: full (1,234 tokens gathered, budget no limit): it fits [all]\x1b[0m\n"
    "\x1b[2mroute: select (50,000 tokens gathered, budget 8,000)\x1b[0m\n"
    "\x1b[33mtrimmed [n]\x1b[0m\n"
    "\x1b[2mpacked 2,400 tokens in 2 block(s)\x1b[0m\n"
    "\x1b[33mredacted 1 secret(s): a.py:3 (aws_key)\x1b[0m\n"
    "\x1b[33mleft out 1 item(s) (see the manifest)\x1b[0m\n"
    "\x1b[2mpacked 2,400 tokens in 2 block(s)\x1b[0m\n"
    "\x1b[33mthe pack could not answer; widening to select @ 16,000\x1b[0m\n"
    "\x1b[33mthe pack could not answer; not widened: same blocks\x1b[0m\n"
)


def console(buf: io.StringIO, *, terminal: bool) -> Console:
    """A console like the CLI's stderr one, writing to buf (styled as a terminal when asked)."""
    color = "standard" if terminal else None
    return Console(
        file=buf, width=100, force_terminal=terminal, color_system=color, highlight=False, soft_wrap=True
    )


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(render.time, "perf_counter", lambda: 100.0)


@pytest.mark.parametrize(("terminal", "quiet", "expected"), [
    (False, False, PLAIN),
    (True, False, STYLED),
    (False, True, "✗ /missing: no such file [x]\n"),  # --quiet keeps only the failures
])  # fmt: skip
def test_progress_prints_each_event_as_today(terminal, quiet, expected):
    buf = io.StringIO()
    progress = Progress(console(buf, terminal=terminal), quiet=quiet)
    for event in EVENTS:
        progress(event)
    assert buf.getvalue() == expected
