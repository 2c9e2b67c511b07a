"""An error nobody planned for, at the edge: one line in the user's terms, a log, and how to report it.

`forage mcp` answers with an is_error result (and the same line on its stderr), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

SAYS = ("the Gemini API sent a reply forage could not read", "full traceback is in", "report")


@fault("unreadable Gemini reply in a tool", "mcp")
def mcp_tool_crash(tmp: Path) -> Outcome:
    from tests.fakes.gemini_faults import Fault

    root = h.code_folder(tmp)
    with h.fake_gemini() as fake:
        h.plan_one_read(fake, root)
        fake.inject(Fault("bad_signature", action="generateContent"))
        env = h.env_for(tmp, gemini_url=fake.url, FORAGE_MODEL="gemini-3.5-flash")
        reply = h.call_forage_mcp(
            tmp,
            "ask",
            {"question": "What is the retry delay?", "sources": [str(root)]},
            roots=[str(tmp)],
            env=env,
        )
    logs = h.crash_logs(tmp)
    on_stderr = "the Gemini API sent a reply forage could not read" in reply.stderr
    return h.verdict(
        exit_code=None, expected=None, message=h.first_error(reply.text), shown=reply.text + "\n" + reply.stderr,
        must_say=SAYS, data_kept="the traceback, in data/logs/",
        kept=reply.is_error and bool(logs) and str(logs[-1]) in reply.text and on_stderr,
    )  # fmt: skip


@fault("an internal error", "ask")
def ask_crash_without_debug(tmp: Path) -> Outcome:
    """Exit 70 with one line and a log; with --debug, the traceback instead (checked, not shown)."""
    from tests.fakes.gemini_faults import Fault

    root = h.code_folder(tmp)
    runs = []
    for debug in ((), ("--debug",)):
        with h.fake_gemini() as fake:
            h.plan_one_read(fake, root)
            fake.inject(Fault("malformed_json", action="generateContent"))
            runs.append(h.run_cli(*debug, "ask", "What is the delay?", str(root), "--model", "gemini-3.5-flash",
                                  tmp=tmp, gemini_url=fake.url))  # fmt: skip
    plain, debug = runs
    return h.verdict(
        exit_code=plain.returncode, expected=70, message=h.first_error(plain.stderr), shown=plain.stderr,
        must_say=SAYS, data_kept="the traceback, in data/logs/ (and on screen with --debug)",
        kept=h.has_traceback(debug.stderr) and debug.returncode != 0 and len(h.crash_logs(tmp)) == 1,
    )  # fmt: skip
