"""Faults from the machine: a read-only or full data dir, a second forage on the same data dir.

As root the data dir is a real tmpfs mount (read-only, or a small one filled to the last byte:
a true ENOSPC); otherwise a folder without write permission, and RLIMIT_FSIZE for "full" (the
write fails with EFBIG, which forage treats as full). Either way forage says in one line what
happened and what to do, and what was saved before is still there.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

QUESTION = "What is the retry delay?"


def _mount(point: Path, options: str) -> bool:
    """Mount a tmpfs at point (root only); False if this machine does not allow it."""
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    return done.returncode == 0


@contextlib.contextmanager
def data_dir(tmp: Path, *, full: bool = False, read_only: bool = False) -> Iterator[tuple[Path, bool]]:
    """The case's data dir, made full or read-only; yields (path, mounted)."""
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    mounted = _mount(data, "size=256k")
    try:
        yield data, mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(data)], capture_output=True)
        else:
            data.chmod(0o755)


def _fill(data: Path) -> None:
    """Write until the disk says no: what a full disk is."""
    with contextlib.suppress(OSError), (data / "filler").open("wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()


def _freeze(data: Path, mounted: bool) -> None:
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True, capture_output=True)
    else:
        data.chmod(0o555)


def _no_bigger_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write to a file fails with EFBIG


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    return next((line for line in proc.stderr.splitlines() if line.startswith("error:")), "")


def _saved_session(data: Path) -> None:
    from agent.session.store import SessionStore

    store = SessionStore(data / "sessions.sqlite")
    store.touch("before", ["/src"])
    store.ask("before", QUESTION)


def _session_kept(data: Path) -> bool:
    from agent.damaged import count_rows

    return count_rows(data / "sessions.sqlite", "SELECT count(*) FROM forage_sessions") == 1 and not list(
        data.glob("*.damaged-*")
    )


@fault("read-only data dir", "chat")
def read_only_data_dir(tmp: Path) -> Outcome:
    root = h.code_folder(tmp)
    with data_dir(tmp) as (data, mounted):
        _saved_session(data)
        _freeze(data, mounted)
        proc = h.run_cli("chat", str(root), "--model", "extractive", "-q", tmp=tmp, input=QUESTION + "\n")
        kept = _session_kept(data)
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=_one_line(proc), shown=proc.stderr,
        must_say=("read-only" if mounted else "not writable", "FORAGE_DATA_DIR"),
        data_kept="the saved session, unchanged", kept=kept and h.source_intact(root),
    )  # fmt: skip


@fault("full data dir", "chat")
def full_data_dir(tmp: Path) -> Outcome:
    root = h.code_folder(tmp)
    with data_dir(tmp) as (data, mounted):
        _saved_session(data)
        env = h.env_for(tmp)
        if mounted:
            _fill(data)
            proc = h.run_cli("chat", str(root), "--model", "extractive", "-q", tmp=tmp, input=QUESTION + "\n")
        else:
            proc = subprocess.run(
                [sys.executable, "-m", "cli.app", "chat", str(root), "--model", "extractive", "-q"],
                input=QUESTION + "\n", capture_output=True, text=True, timeout=120, cwd=h.ROOT, env=env,
                preexec_fn=_no_bigger_files,
            )  # fmt: skip
        kept = _session_kept(data)
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=_one_line(proc), shown=proc.stderr,
        must_say=("is full", "Free some space"), data_kept="the saved session, unchanged",
        kept=kept and h.source_intact(root),
    )  # fmt: skip


@fault("full data dir", "ask")
def full_data_dir_ask(tmp: Path) -> Outcome:
    """A one-shot question needs no saving: it answers (caches are skipped) or says the one line."""
    root = h.code_folder(tmp)
    with data_dir(tmp) as (data, mounted):
        if mounted:
            _fill(data)
            proc = h.run_cli("ask", QUESTION, str(root), "--model", "extractive", tmp=tmp)
        else:
            proc = subprocess.run(
                [sys.executable, "-m", "cli.app", "ask", QUESTION, str(root), "--model", "extractive"],
                capture_output=True, text=True, timeout=120, cwd=h.ROOT, env=h.env_for(tmp),
                preexec_fn=_no_bigger_files,
            )  # fmt: skip
    answered = proc.returncode == 0 and "RETRY_DELAY_SECONDS = 7" in proc.stdout
    said = "answered" if answered else _one_line(proc)
    return h.verdict(
        exit_code=0 if answered else proc.returncode, expected=0 if answered else 1, message=said,
        shown=proc.stderr, must_say=() if answered else ("is full",),
        data_kept="the sources, untouched", kept=h.source_intact(root),
    )  # fmt: skip


_HOLD = """
import sys, time
from pathlib import Path
from agent.retrieval.chroma_index import IndexLock
lock = IndexLock(Path(sys.argv[1]) / "index" / "forage.lock", timeout=5)
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
"""


@fault("two forage processes on one data dir", "index")
def second_writer(tmp: Path) -> Outcome:
    """Another forage holds the index (its lock, taken as forage takes it): the second one is refused."""
    root = h.code_folder(tmp)
    env = h.env_for(tmp)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp / "data")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, cwd=h.ROOT, env=env,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        proc = h.run_cli("index", str(root), tmp=tmp)
        waited = time.monotonic() - started
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    again = h.run_cli("index", str(root), tmp=tmp)  # once the other is done, it works
    return h.verdict(
        exit_code=proc.returncode, expected=1, message=_one_line(proc), shown=proc.stderr,
        must_say=(f"in use by pid {holder.pid}", "--data-dir"),
        data_kept=f"the other process's index; refused after {waited:.0f} s, indexed once it was free",
        kept=again.returncode == 0,
    )  # fmt: skip
