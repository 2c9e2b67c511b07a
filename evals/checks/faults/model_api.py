"""Faults from the Gemini API, on `forage ask` and `forage chat`: retried where a retry helps, else one line.

Each case runs the real CLI against the fake Gemini server with one fault injected
(tests/fakes/gemini_faults.py). Retries are announced on stderr; a half-streamed answer ends in
the cut marker; an unreadable reply is exit 70 with its traceback in a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

QUESTION = "What is the retry delay?"
ANSWER = ("The retry delay ", "is 7 seconds, ", "set in client.py [1].")
MODEL = ("--model", "gemini-3.5-flash")
# Fast retries for the suite: the policy is the same, the waits are short.
QUICK = {"FORAGE_API_BACKOFF": "0.1", "FORAGE_API_TIMEOUT": "1"}


def _ask(tmp: Path, *faults: Any, answer: tuple[str, ...] = ANSWER) -> tuple[Any, Any, Path]:
    """Run `forage ask` over a one-file folder with the faults injected; return (process, fake, folder)."""
    from tests.fakes.gemini_faults import Fault

    root = h.code_folder(tmp)
    with h.fake_gemini() as fake:
        h.plan_one_read(fake, root)
        fake.reply_text(*answer)
        fake.inject(*(f if isinstance(f, Fault) else Fault(**f) for f in faults))
        env = h.env_for(tmp, gemini_url=fake.url, **QUICK)
        proc = h.run_cli("ask", QUESTION, str(root), *MODEL, tmp=tmp, env=env)
    return proc, fake, root


def _recovered(tmp: Path, retried: str, *faults: dict[str, Any]) -> Outcome:
    """The fault is retried away: exit 0, the whole answer, and the retry said on stderr."""
    proc, _, root = _ask(tmp, *faults)
    said = next((line for line in proc.stderr.splitlines() if "retrying in" in line), "")
    whole = "".join(ANSWER) in proc.stdout and "[answer cut" not in proc.stdout
    return h.verdict(
        exit_code=proc.returncode, expected=0, message=said, shown=proc.stderr, must_say=(retried,),
        data_kept="the whole answer; sources untouched", kept=whole and h.source_intact(root),
    )  # fmt: skip


@fault("429 with Retry-After", "ask")
def rate_limited(tmp: Path) -> Outcome:
    return _recovered(
        tmp, "rate-limited (429); retrying in 1 s (2/3)", {"kind": "status", "status": 429, "retry_after": 1}
    )


@fault("503 then recovers", "ask")
def busy(tmp: Path) -> Outcome:
    return _recovered(tmp, "Gemini API busy (503); retrying in", {"kind": "status", "status": 503})


@fault("connection reset before the reply", "ask")
def reset_before(tmp: Path) -> Outcome:
    return _recovered(tmp, "connection broke", {"kind": "reset", "action": "generateContent"})


@fault("first byte later than the deadline", "ask")
def late_first_byte(tmp: Path) -> Outcome:
    return _recovered(tmp, "too slow to answer; retrying", {"kind": "slow", "delay_s": 2.5})


@fault("500 on every try", "ask")
def always_500(tmp: Path) -> Outcome:
    proc, fake, root = _ask(tmp, *[{"kind": "status", "status": 500}] * 3)
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=("after 3 tries", "(2/3)", "(3/3)"), must_not_say=("(4/3)",),
        data_kept="sources untouched", kept=h.source_intact(root) and len(h.error_lines(proc.stderr)) == 1,
    )  # fmt: skip


def _cut(tmp: Path, kind: str, says: str) -> Outcome:
    proc, fake, root = _ask(tmp, {"kind": kind, "action": "streamGenerateContent"})
    marked = proc.stdout.rstrip().endswith("[answer cut: the stream ended early]")
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=(says,), data_kept="the part shown, marked as cut; sources untouched",
        kept=marked and ANSWER[0].strip() in proc.stdout and h.source_intact(root),
    )  # fmt: skip


@fault("connection reset mid-stream", "ask")
def reset_mid_stream(tmp: Path) -> Outcome:
    return _cut(tmp, "reset", "stream broke off")


@fault("stream cut before the end", "ask")
def stream_cut(tmp: Path) -> Outcome:
    return _cut(tmp, "cut", "ended before the answer did")


@fault("reply with an unknown part type", "ask")
def unknown_part(tmp: Path) -> Outcome:
    proc, _, root = _ask(tmp, {"kind": "unknown_part", "action": "streamGenerateContent"})
    whole = "".join(ANSWER) in proc.stdout
    return h.verdict(
        exit_code=proc.returncode, expected=0, message="(answered; the unknown part was skipped)",
        shown=proc.stderr, data_kept="the whole answer", kept=whole,
    )  # fmt: skip


def _unreadable(tmp: Path, **fault_args: Any) -> Outcome:
    proc, _, root = _ask(tmp, fault_args)
    logs = h.crash_logs(tmp)
    return h.verdict(
        exit_code=proc.returncode, expected=70, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=("the Gemini API sent a reply forage could not read", "full traceback is in", "report"),
        data_kept="the traceback, in data/logs/", kept=bool(logs) and str(logs[-1]) in proc.stderr,
    )  # fmt: skip


@fault("malformed JSON reply", "ask")
def malformed_json(tmp: Path) -> Outcome:
    return _unreadable(tmp, kind="malformed_json", action="generateContent")


@fault("thoughtSignature not valid base64", "ask")
def bad_signature(tmp: Path) -> Outcome:
    return _unreadable(tmp, kind="bad_signature", action="generateContent")


@fault("unreadable reply in one turn", "chat")
def chat_turn_unreadable(tmp: Path) -> Outcome:
    """A turn whose plan reply cannot be read: one line, and the chat goes on to answer the next one."""
    from tests.fakes.gemini_faults import Fault

    root = h.code_folder(tmp)
    with h.fake_gemini() as fake:
        fake.reply_call("read_file", {"path": str(root / "client.py")})  # lost to the fault
        h.plan_one_read(fake, root)
        fake.reply_text(*ANSWER)
        fake.inject(Fault("bad_signature", action="generateContent"))
        env = h.env_for(tmp, gemini_url=fake.url, **QUICK)
        proc = h.run_cli("chat", str(root), *MODEL, tmp=tmp, env=env, input=f"{QUESTION}\n{QUESTION}\n")
    listed = h.run_cli("sessions", "list", tmp=tmp, env=env)
    went_on = "".join(ANSWER) in proc.stdout
    return h.verdict(
        exit_code=proc.returncode, expected=0, message=h.first_error(proc.stderr), shown=proc.stderr,
        must_say=("the Gemini API sent a reply forage could not read",),
        data_kept="the chat went on and answered; the session is listed",
        kept=went_on and listed.returncode == 0 and str(root) in listed.stdout + listed.stderr,
    )  # fmt: skip
