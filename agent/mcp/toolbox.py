"""MCP client side: start servers (ours and third-party, stdio or streamable HTTP), call with deadlines.

One session per server for the whole run (or, in `forage mcp`, the whole editor session). A
failed, hung or crashed call comes back as a CallOutcome with an error text that names the
server and ends with the tail of its stderr; it never raises into the graph. A call past its
deadline is abandoned and the server is sent `notifications/cancelled`.

Third-party servers are configured in Settings.mcp_servers. Their tools are offered as
`server__tool`, filtered by include_tools/exclude_tools, checked against the accepted
fingerprints (agent/mcp/trust.py), and their results become untrusted documents (agent/mcp/thirdparty.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_types import CONNECTION_CLOSED

from agent.events import CallProgress, EventSink, Notice, ignore
from agent.gather.sources import TOOL_SERVER
from agent.mcp import thirdparty
from agent.mcp.connection import RunningServer, ServerConfig
from agent.mcp.trust import TrustStore
from agent.models.base import ToolSpec
from tools.tool_names import SEPARATOR

__all__ = ["CallOutcome", "Toolbox"]

log = logging.getLogger(__name__)


@dataclass(repr=False)
class CallOutcome:
    """What one tool call produced."""

    server: str
    status: str  # ok | error | timeout | cancelled
    text: str
    structured: dict[str, Any] | None
    duration_s: float

    def __repr__(self) -> str:
        # Short on purpose: asyncio and anyio repr futures that hold outcomes of many MB.
        return (
            f"CallOutcome({self.server!r}, {self.status!r}, {len(self.text)} chars, {self.duration_s:.3f}s)"
        )


class Toolbox:
    """Start, reuse and stop the MCP servers of one run (or of one forage mcp session)."""

    def __init__(
        self,
        configs: dict[str, ServerConfig],
        *,
        timeout: float,
        log_dir: Path,
        trust: TrustStore | None = None,
        on_event: EventSink | None = None,
        record: bool = True,
        check_launch: bool = True,
    ) -> None:
        self.configs = configs
        self.record = record
        self.check_launch = check_launch  # False only for `forage servers trust`, which asks to run it
        self.timeout = timeout
        self.log_dir = log_dir
        self.trust = trust
        self.emit: EventSink = on_event or ignore  # owners may re-point it per run
        self._running: dict[str, RunningServer] = {}
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Toolbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def third_party(self) -> set[str]:
        """Configured third-party servers: their tools are shown to the planner next to ours."""
        return {n for n, c in self.configs.items() if c.third_party}

    def running(self) -> set[str]:
        return {n for n, r in self._running.items() if r.client is not None}

    def server(self, name: str) -> RunningServer | None:
        """A started (or failed) server: its tools, review and error."""
        return self._running.get(name)

    def _refused(self, name: str) -> str | None:
        entry = self.configs[name].entry
        if (
            entry is None
            or self.trust is None
            or not self.check_launch
            or self.trust.launch_accepted(name, entry)
        ):
            return None
        return (
            f"the {name} server (MCP) is defined by the project ({entry.defined_in}) and runs "
            f"`{entry.describe()}`; it is not started until you review and accept it: "
            f"forage servers trust {name}"
        )

    async def start(self, names: set[str] | Sequence[str]) -> dict[str, str]:
        """Start servers concurrently; return {name: error} for those that failed."""
        async with self._lock:
            new = []
            for name in names:
                if name not in self.configs:
                    continue
                if name in self._running:
                    continue  # running, or failed already (reported once; forget_failed retries)
                running = RunningServer(self.configs[name], self.log_dir, self.trust, record=self.record)
                self._running[name] = running
                refused = self._refused(name)
                if refused:
                    running.error = refused
                    running.ready.set()
                    continue
                running.task = asyncio.create_task(running.run(), name=f"mcp-{name}")
                new.append(running)
        for running in new:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.ready.wait(), timeout=max(30.0, self.timeout))
            if running.client is None and running.error is None:
                tail = running.stderr_tail()
                running.error = f"the {running.config.name} server (MCP) did not start in time" + (
                    f"\nLast lines of its stderr ({running.log_path}):\n{tail}" if tail else ""
                )
                running.stop.set()
            for text in running.warnings:
                self.emit(Notice(text=text))
            if running.config.third_party and self.trust is not None and self.record:
                self.trust.record_error(running.config.name, running.error)
        return {n: r.error for n, r in self._running.items() if n in names and r.error}

    async def reconfigure(self, configs: dict[str, ServerConfig]) -> None:
        """Take new command lines (the chat added or dropped a source); changed servers restart on use."""
        async with self._lock:
            changed = [n for n, r in self._running.items() if configs.get(n) != r.config]
            self.configs = configs
            stopping = [self._running.pop(n) for n in changed]
        await self._finish(stopping)

    def forget_failed(self) -> None:
        """Let servers that failed or died start again on their next use (a new question)."""
        for name, running in list(self._running.items()):
            if running.error is not None and (running.task is None or running.task.done()):
                del self._running[name]

    def unavailable(self, tool: str) -> str | None:
        """Why a started server does not offer this tool (changed, excluded, unknown), if it does not."""
        server = self.server_for(tool)
        running = self._running.get(server or "")
        if running is None or running.client is None:
            return None  # not started: the call itself reports why
        if tool in running.blocked:
            return running.blocked[tool]
        if any(t.name == tool for t in running.tools):
            return None
        original = tool.split(SEPARATOR, 1)[-1]
        offered = ", ".join(sorted(running.originals.get(t.name, t.name) for t in running.tools)) or "none"
        if original in running.prints or running.config.entry is None:
            return f"{server} offers no tool {original!r} here (offered: {offered})"
        return f"{server} offers no tool {original!r} (excluded by include_tools/exclude_tools, or unknown); offered: {offered}"

    def tools(self) -> list[ToolSpec]:
        """Tools of every started server, in a stable order (changed third-party tools left out)."""
        out: list[ToolSpec] = []
        for name in sorted(self._running):
            out.extend(self._running[name].tools)
        return out

    def server_for(self, tool: str) -> str | None:
        for name, running in self._running.items():
            if tool in running.originals or any(t.name == tool for t in running.tools):
                return name
        known = TOOL_SERVER.get(tool)
        if known in self.configs:
            return known
        prefix = tool.split(SEPARATOR, 1)[0]
        return prefix if SEPARATOR in tool and prefix in self.configs else None

    async def call(self, tool: str, args: dict[str, Any]) -> CallOutcome:
        """Call a tool with its server's deadline; errors come back as outcomes."""
        started = time.perf_counter()
        server = self.server_for(tool)
        if server is None:
            names = ", ".join(sorted(t.name for t in self.tools())) or "none"
            return CallOutcome("?", "error", f"unknown tool {tool!r}; available tools: {names}", None, 0.0)
        await self.start({server})
        running = self._running[server]
        if running.client is None:
            msg = running.error or f"the {server} server is not running"
            if running.reported:
                msg = f"the {server} server is not available (it failed earlier: {msg.splitlines()[0]})"
            running.reported = True
            return CallOutcome(server, "error", msg, None, time.perf_counter() - started)
        if tool in running.blocked:
            return CallOutcome(server, "error", running.blocked[tool], None, 0.0)
        name = running.originals.get(tool, tool)
        if running.config.third_party:
            schema = next((t.input_schema for t in running.tools if t.name == tool), {})
            args = thirdparty.coerce_args(schema, args)
        timeout = running.config.timeout or self.timeout

        async def progress(done: float, total: float | None, message: str | None) -> None:
            self.emit(CallProgress(tool=tool, progress=done, total=total, message=message or ""))

        try:
            # Abandoning the call at the deadline makes the SDK send notifications/cancelled.
            res = await asyncio.wait_for(
                running.client.call_tool(name, args, progress_callback=progress), timeout=timeout
            )
        except TimeoutError:
            text = (
                f"{tool} did not finish within {timeout:g} s, so it was cancelled; "
                + ("raise this server's timeout" if running.config.third_party else "try a smaller request or raise call_timeout")
            )  # fmt: skip
            return CallOutcome(server, "timeout", text, None, time.perf_counter() - started)
        except asyncio.CancelledError:
            raise
        # Boundary with a child process: a dead pipe or protocol error is an observation.
        except Exception as exc:  # noqa: BLE001
            shown = f"{server}/{name}" if running.config.third_party else tool
            text = f"{shown} failed in the {server} server: {getattr(exc, 'message', '') or exc or type(exc).__name__}"
            if getattr(exc, "code", None) == CONNECTION_CLOSED:
                # The server died mid-call: say so once, with its stderr, and stop using it.
                if running.reported:
                    text = f"the {server} server is not available (it exited during an earlier call)"
                    return CallOutcome(server, "error", text, None, time.perf_counter() - started)
                running.error, running.reported = f"the {server} server (MCP) exited", True
                running.stop.set()
                await asyncio.sleep(0.2)  # its last words may still be on their way to the log
                text = f"the {server} server (MCP) exited during {shown}"
            tail = running.stderr_tail()
            text += f"\nLast lines of its stderr ({running.log_path}):\n{tail}" if tail else ""
            if running.reported:
                running.error = text
            if running.config.third_party and self.trust is not None:
                self.trust.record_error(server, text)
            return CallOutcome(server, "error", text, None, time.perf_counter() - started)
        took = time.perf_counter() - started
        if running.config.entry is not None:
            status, text, structured = thirdparty.outcome(
                server, name, args, res, max_chars=running.config.entry.max_chars
            )
            return CallOutcome(server, status, text, structured, took)
        text = "\n".join(getattr(c, "text", "") for c in res.content if getattr(c, "type", "") == "text")
        return CallOutcome(server, "error" if res.is_error else "ok", text, res.structured_content, took)

    async def stop(self, names: set[str]) -> None:
        """Stop these servers now (their children too); the next use starts them again."""
        stopping = [self._running.pop(n) for n in names if n in self._running]
        await self._finish(stopping)

    async def close(self) -> None:
        stopping = list(self._running.values())
        self._running.clear()
        await self._finish(stopping)

    async def _finish(self, stopping: list[RunningServer]) -> None:
        for running in stopping:
            running.stop.set()
        tasks = [r.task for r in stopping if r.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        for task in pending:
            try:
                await task
            except asyncio.CancelledError:
                pass  # we cancelled it: a server that would not stop in 10 s
            # Shutting down a child that hung: its failure changes nothing now, but say it.
            except Exception as exc:  # noqa: BLE001
                log.warning("MCP server task ended with %s while stopping", exc)
