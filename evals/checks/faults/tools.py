"""Faults from the MCP servers forage gathers through: the agent goes on with its other sources.

A real third-party MCP server (tests/fakes/thirdparty_server.py), configured as the user's own,
crashes mid-call or writes non-JSON lines to stdout; the local folder is the other source. The
answer uses what the other sources gave, and the dead server gets one line (with its stderr tail).
"""

from __future__ import annotations

import sys
from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

NOTES_SOURCE = "mcp:notes/search?query=retry"
FAKE = h.ROOT / "tests" / "fakes" / "thirdparty_server.py"


def notes_server(tmp: Path, mode: str) -> None:
    """Configure the fake notes server in the user's own config (trusted without approval)."""
    config = tmp / "cfg" / "forage" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[mcp_servers.notes]\ncommand = {sys.executable!r}\nargs = [{str(FAKE)!r}, '--mode', {mode!r}]\n"
    )


def _ask(tmp: Path, mode: str) -> tuple[object, Path]:
    root = h.code_folder(tmp)
    notes_server(tmp, mode)
    proc = h.run_cli(
        "ask", "What is the retry delay?", str(root), NOTES_SOURCE, "--model", "extractive", tmp=tmp
    )
    return proc, root


@fault("MCP server crashes mid-call", "ask")
def server_crashes(tmp: Path) -> Outcome:
    proc, root = _ask(tmp, "crash")
    said = next((line for line in proc.stderr.splitlines() if "exited during" in line), "")  # type: ignore[attr-defined]
    answered = "RETRY_DELAY_SECONDS = 7" in proc.stdout  # type: ignore[attr-defined]
    return h.verdict(
        exit_code=proc.returncode, expected=3, message=said.strip(), shown=proc.stderr,  # type: ignore[attr-defined]
        must_say=("notes server (MCP) exited during notes/search", "notes.log"),
        data_kept="the answer from the folder; the server's stderr in logs/notes.log",
        kept=answered and h.source_intact(root),
    )  # fmt: skip


@fault("MCP server writes garbage to stdout", "ask")
def server_garbage(tmp: Path) -> Outcome:
    proc, root = _ask(tmp, "garbage")
    said = next((line for line in proc.stderr.splitlines() if "notes__search" in line), "")  # type: ignore[attr-defined]
    both = "RETRY_DELAY_SECONDS = 7" in proc.stdout and "retry_delay_seconds (default 7)" in proc.stdout  # type: ignore[attr-defined]
    return h.verdict(
        exit_code=proc.returncode, expected=0, message=said.strip(), shown=proc.stderr,  # type: ignore[attr-defined]
        data_kept="both sources in the answer (the stray lines are skipped)", kept=both and h.source_intact(root),
    )  # fmt: skip


@fault("MCP server crashes mid-call", "mcp")
def server_crashes_under_forage_mcp(tmp: Path) -> Outcome:
    root = h.code_folder(tmp)
    notes_server(tmp, "crash")
    reply = h.call_forage_mcp(
        tmp, "gather_context", {"question": "What is the retry delay?", "sources": [str(root), NOTES_SOURCE]},
        roots=[str(root)], env=h.env_for(tmp),
    )  # fmt: skip
    said = next((line for line in reply.text.splitlines() if "exited during" in line), "")
    return h.verdict(
        exit_code=None, expected=None, message=said.strip(), shown=reply.text + reply.stderr,
        must_say=("notes server (MCP) exited during notes/search",),
        data_kept="the pack of the folder", kept=not reply.is_error and "RETRY_DELAY_SECONDS = 7" in reply.text,
    )  # fmt: skip
