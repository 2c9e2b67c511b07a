"""What every fault case shares: the fake Gemini server, the real CLI and `forage mcp` as subprocesses,
and the checks on what the user saw (exit code, one readable line, no traceback).

A case starts the surface exactly as a user does (`python -m cli.app ...` with FORAGE_DATA_DIR in
its scratch directory), injects its fault, and builds its Outcome with `verdict`.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.checks.faults.registry import Outcome

ROOT = Path(__file__).resolve().parents[3]
API_KEY = "test-key"  # the fake server's default key
# Python's and rich's traceback headers: either one reaching the user is a defect without --debug.
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.M)


@contextmanager
def fake_gemini() -> Iterator[Any]:
    """Start the project's fake Gemini REST server on loopback; yield its FakeGemini (state and log)."""
    from tests.fakes.gemini_server import GeminiServer  # the one fake the whole project tests against

    with GeminiServer() as fake:
        yield fake


def env_for(tmp: Path, *, gemini_url: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: data and config in tmp, the fake Gemini (or no key at all), this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        FORAGE_DATA_DIR=str(tmp / "data"), HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "cfg"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )  # fmt: skip
    if gemini_url:
        env.update(GEMINI_API_KEY=API_KEY, FORAGE_GEMINI_BASE_URL=gemini_url)
    env.update(extra)
    return env


def run_cli(
    *args: str,
    tmp: Path,
    gemini_url: str | None = None,
    input: str | None = None,  # noqa: A002 - subprocess's name for it
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `forage ARGS` as a user does, in tmp, and return what it printed and its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "cli.app", *args],
        capture_output=True, text=True, timeout=timeout, input=input, cwd=ROOT,  # servers import from cwd
        env=env if env is not None else env_for(tmp, gemini_url=gemini_url),
    )  # fmt: skip


@dataclass
class McpReply:
    """One tool call to a real `forage mcp` process: its result and what the server wrote on stderr."""

    is_error: bool
    text: str
    stderr: str
    progress: list[str]  # the progress messages the call sent before its result


def call_forage_mcp(
    tmp: Path, tool: str, arguments: dict[str, Any], *, roots: list[str], env: dict[str, str]
) -> McpReply:
    """Start `forage mcp ROOTS` over stdio with a real MCP client, call one tool, and stop it."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "cli.app", "mcp", *roots], env=env, cwd=str(ROOT)
    )

    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or f"{done}/{total}")

    async def go(errlog: Any) -> Any:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            return await client.call_tool(
                tool, arguments, read_timeout_seconds=120, progress_callback=on_progress
            )

    with tempfile.TemporaryFile("w+", dir=tmp) as errlog:
        res = asyncio.run(go(errlog))
        errlog.seek(0)
        stderr = errlog.read()
    text = "\n".join(getattr(c, "text", "") for c in res.content)
    return McpReply(is_error=bool(res.is_error), text=text, stderr=stderr, progress=progress)


def has_traceback(text: str) -> bool:
    """Python's or rich's traceback in text."""
    return bool(_TRACEBACK.search(text))


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr that report an error (`error: ...`)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def first_error(text: str) -> str:
    """The first error line of text (or its first non-blank line): what the user reads."""
    lines = error_lines(text) or [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def verdict(
    *,
    exit_code: int | None,
    expected: int | None,
    message: str,
    shown: str,
    data_kept: str,
    kept: bool = True,
    must_say: tuple[str, ...] = (),
    must_not_say: tuple[str, ...] = (),
) -> Outcome:
    """Judge one fault: the expected exit code, one error line saying must_say, no traceback, data kept.

    shown: everything the user saw (stderr, or the is_error text and the server's stderr).
    """
    problems = []
    if exit_code != expected:
        problems.append(f"exit code {exit_code}, expected {expected}")
    if not message:
        problems.append("no error line")
    low = shown.lower()
    problems += [f"does not say {s!r}" for s in must_say if s.lower() not in low]
    problems += [f"says {s!r}" for s in must_not_say if s.lower() in low]
    traceback = has_traceback(shown)
    if traceback:
        problems.append("a traceback reached the user")
    if not kept:
        problems.append(f"lost: {data_kept}")
    detail = "; ".join(problems) + (f"\n--- shown:\n{shown[-3000:]}" if problems else "")
    return Outcome(
        exit_code=exit_code, message=message, traceback=traceback, data_kept=data_kept if kept else "LOST",
        ok=not problems, detail=detail,
    )  # fmt: skip


SOURCE = '"""HTTP client."""\n\nRETRY_DELAY_SECONDS = 7  # the delay before the first retry\n'


def code_folder(tmp: Path) -> Path:
    """A one-file folder to ask about (the answer: 7 seconds, in client.py)."""
    root = tmp / "code"
    root.mkdir(parents=True, exist_ok=True)
    (root / "client.py").write_text(SOURCE)
    return root


def source_intact(root: Path) -> bool:
    """The folder the case read is as it was written: a fault never touches the user's files."""
    return (root / "client.py").read_text() == SOURCE


def plan_one_read(fake: Any, root: Path) -> None:
    """Queue the Gemini planner's turn: read client.py, then done."""
    fake.reply_call("read_file", {"path": str(root / "client.py")})
    fake.reply_text("DONE")


def crash_logs(tmp: Path) -> list[Path]:
    """The crash logs written under the case's data dir."""
    return sorted((tmp / "data" / "logs").glob("crash-*.log"))
