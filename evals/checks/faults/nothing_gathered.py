"""Nothing gathered means no model call, on every surface: one message, exit 1 (is_error on MCP).

The sources are an empty folder and a missing path. With Gemini, the fake server's log proves
that no answer was asked for; on MCP, no progress line claims a pack.
"""

from __future__ import annotations

from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

SAYS = ("nothing could be gathered", "no model was asked")
PACK_SAYS = ("nothing could be gathered",)  # packing asks no model: the message does not mention one
ANSWER_CALLS = ("streamGenerateContent", "countTokens")  # what answering asks the API for


def _empty(tmp: Path) -> list[str]:
    empty = tmp / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    return [str(empty), str(tmp / "missing")]


@fault("nothing gathered (Gemini)", "ask")
def ask_nothing(tmp: Path) -> Outcome:
    sources = _empty(tmp)
    with h.fake_gemini() as fake:
        fake.reply_text("DONE")  # the planner finds nothing to read
        proc = h.run_cli("ask", "What is the retry delay?", *sources, "--model", "gemini-3.5-flash",
                         tmp=tmp, gemini_url=fake.url)  # fmt: skip
        asked = [r.action for r in fake.requests if r.action in ANSWER_CALLS]
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=SAYS, must_not_say=("packed",), data_kept="no paid call (the API log has no answer request)",
        kept=not asked and not proc.stdout.strip() and len(h.error_lines(proc.stderr)) == 1,
    )  # fmt: skip


@fault("nothing gathered in one turn", "chat")
def chat_nothing(tmp: Path) -> Outcome:
    sources = _empty(tmp)
    with h.fake_gemini() as fake:
        fake.reply_text("DONE")
        fake.reply_text("DONE")
        proc = h.run_cli("chat", *sources, "--model", "gemini-3.5-flash", tmp=tmp, gemini_url=fake.url,
                         input="What is the retry delay?\n/sources\n")  # fmt: skip
        asked = [r.action for r in fake.requests if r.action in ANSWER_CALLS]
    went_on = "session" in proc.stderr.split("no model was asked", 1)[-1]  # /sources ran after the turn
    return h.verdict(
        exit_code=proc.returncode, expected=0, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=SAYS, must_not_say=("packed",), data_kept="no paid call; the chat went on",
        kept=not asked and went_on,
    )  # fmt: skip


def _mcp(tmp: Path, tool: str, says: tuple[str, ...]) -> Outcome:
    sources = _empty(tmp)
    env = h.env_for(tmp, FORAGE_MODEL="extractive")
    reply = h.call_forage_mcp(
        tmp, tool, {"question": "What is the retry delay?", "sources": sources}, roots=[str(tmp)], env=env
    )
    claims = [p for p in reply.progress if "packed" in p]
    return h.verdict(
        exit_code=None, expected=None, message=h.first_error(reply.text), shown=reply.text + "\n" + reply.stderr,
        must_say=says, data_kept="no pack claimed in progress", kept=reply.is_error and not claims,
    )  # fmt: skip


@fault("nothing gathered: ask tool", "mcp")
def mcp_ask_nothing(tmp: Path) -> Outcome:
    return _mcp(tmp, "ask", SAYS)


@fault("nothing gathered: gather_context tool", "mcp")
def mcp_gather_nothing(tmp: Path) -> Outcome:
    return _mcp(tmp, "gather_context", PACK_SAYS)


@fault("nothing gathered", "pack")
def pack_nothing(tmp: Path) -> Outcome:
    out = tmp / "pack.md"
    proc = h.run_cli("pack", *_empty(tmp), "-o", str(out), tmp=tmp)
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=PACK_SAYS, must_not_say=("packed", "model"), data_kept="no empty pack file written",
        kept=not out.exists() and len(h.error_lines(proc.stderr)) == 1,
    )  # fmt: skip
