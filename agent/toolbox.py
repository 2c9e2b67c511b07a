"""MCP client side: start servers as stdio subprocesses, list tools, call with deadlines.

One session per server for the whole run. A failed or timed-out call comes back as a
CallOutcome with an error text; it never raises into the graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from agent.models.base import ToolSpec
from agent.settings import Settings
from agent.sources import TOOL_SERVER, Source, local_roots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    """How to start one MCP server."""

    name: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


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


def server_configs(settings: Settings, sources: Sequence[Source]) -> dict[str, ServerConfig]:
    """The servers a run may need, with command lines built from Settings."""
    py = sys.executable
    roots = local_roots(list(sources))
    configs: dict[str, ServerConfig] = {}
    git: list[str] = []
    if any(s.kind == "git" for s in sources):  # read_repo: checkouts in the cache, host policy applies
        git = ["--git-cache", str(settings.data_dir / "git")]
        for host in settings.allow_hosts:
            git += ["--allow-host", host]
    if roots or git:
        configs["files"] = ServerConfig(
            "files",
            py,
            # compact: forage reads the structured documents, so the text need not repeat them,
            # and bigger replies mean fewer round trips on large folders.
            (
                "-m",
                "mcp_servers.files",
                *roots,
                "--max-file-bytes",
                str(settings.max_file_bytes),
                "--compact",
                "--reply-chars",
                "4000000",
                *git,
            ),
        )
    if roots:
        env = {"FORAGE_PDF_PASSWORD": settings.password()} if settings.password() else {}
        configs["pdf"] = ServerConfig("pdf", py, ("-m", "mcp_servers.pdf", *roots), env)
    if any(s.kind in ("url", "pdf_url") for s in sources):
        args = ["-m", "mcp_servers.web"]
        for host in settings.allow_hosts:
            args += ["--allow-host", host]
        if settings.ignore_robots:
            args.append("--ignore-robots")
        if settings.chromium_path:
            args += ["--chromium", settings.chromium_path]
        configs["web"] = ServerConfig("web", py, tuple(args))
    return configs


class _Running:
    """A server session held open by its own task until the toolbox closes."""

    def __init__(self, config: ServerConfig, log_dir: Path) -> None:
        self.config = config
        self.client: Client | None = None
        self.tools: list[ToolSpec] = []
        self.error: str | None = None
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.log_path = log_dir / f"{config.name}.log"
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.config.env} if self.config.env else None
        params = StdioServerParameters(command=self.config.command, args=list(self.config.args), env=env)
        log: TextIO
        with open(self.log_path, "w", encoding="utf-8") as log:
            try:
                async with Client(stdio_client(params, errlog=log)) as client:
                    listed = await client.list_tools()
                    self.tools = [
                        ToolSpec(
                            name=t.name,
                            description=t.description or "",
                            input_schema=t.input_schema,
                            server=self.config.name,
                            read_only=bool(t.annotations and t.annotations.read_only_hint),
                        )
                        for t in listed.tools
                    ]
                    self.client = client
                    self.ready.set()
                    await self.stop.wait()
            # Boundary with a child process: any failure to start or keep it is reported, not raised.
            except Exception as exc:  # noqa: BLE001
                self.error = self._describe(exc)
            finally:
                self.client = None
                self.ready.set()

    def _describe(self, exc: BaseException) -> str:
        tail = ""
        with contextlib.suppress(OSError):
            lines = [
                ln
                for ln in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                if ln.strip()
            ]
            if lines:
                tail = f": {lines[-1][:300]}"
        reason = str(exc) or type(exc).__name__
        return f"the {self.config.name} server stopped ({reason}){tail}. Its log: {self.log_path}"


class Toolbox:
    """Start, reuse and stop the MCP servers of one run."""

    def __init__(self, configs: dict[str, ServerConfig], *, timeout: float, log_dir: Path) -> None:
        self.configs = configs
        self.timeout = timeout
        self.log_dir = log_dir
        self._running: dict[str, _Running] = {}
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Toolbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, names: set[str] | Sequence[str]) -> dict[str, str]:
        """Start servers concurrently; return {name: error} for those that failed."""
        async with self._lock:
            new = []
            for name in names:
                if name in self._running or name not in self.configs:
                    continue
                running = _Running(self.configs[name], self.log_dir)
                running.task = asyncio.create_task(running.run(), name=f"mcp-{name}")
                self._running[name] = running
                new.append(running)
        for running in new:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.ready.wait(), timeout=max(30.0, self.timeout))
            if running.client is None and running.error is None:
                running.error = (
                    f"the {running.config.name} server did not start in time. Its log: {running.log_path}"
                )
        return {n: r.error for n, r in self._running.items() if n in names and r.error}

    async def reconfigure(self, configs: dict[str, ServerConfig]) -> None:
        """Take new command lines (the chat added or dropped a source); changed servers restart on use."""
        async with self._lock:
            changed = [n for n, r in self._running.items() if configs.get(n) != r.config]
            self.configs = configs
            stopping = [self._running.pop(n) for n in changed]
        for running in stopping:
            running.stop.set()
        tasks = [r.task for r in stopping if r.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    def tools(self) -> list[ToolSpec]:
        """Tools of every started server, in a stable order."""
        out: list[ToolSpec] = []
        for name in sorted(self._running):
            out.extend(self._running[name].tools)
        return out

    def server_for(self, tool: str) -> str | None:
        for name, running in self._running.items():
            if any(t.name == tool for t in running.tools):
                return name
        known = TOOL_SERVER.get(tool)
        return known if known in self.configs else None

    async def call(self, tool: str, args: dict[str, Any]) -> CallOutcome:
        """Call a tool with the deadline; errors come back as outcomes."""
        started = time.perf_counter()
        server = self.server_for(tool)
        if server is None:
            names = ", ".join(sorted(t.name for t in self.tools())) or "none"
            return CallOutcome("?", "error", f"unknown tool {tool!r}; available tools: {names}", None, 0.0)
        errors = await self.start({server})
        running = self._running[server]
        if errors or running.client is None:
            msg = errors.get(server) or running.error or f"the {server} server is not running"
            return CallOutcome(server, "error", msg, None, time.perf_counter() - started)
        try:
            res = await asyncio.wait_for(running.client.call_tool(tool, args), timeout=self.timeout)
        except TimeoutError:
            return CallOutcome(
                server,
                "timeout",
                f"{tool} did not finish within {self.timeout:g} s; try a smaller request or raise call_timeout",
                None,
                time.perf_counter() - started,
            )
        except asyncio.CancelledError:
            raise
        # Boundary with a child process: a dead pipe or protocol error is an observation.
        except Exception as exc:  # noqa: BLE001
            text = f"{tool} failed in the {server} server: {exc or type(exc).__name__}"
            if running.task is not None and running.task.done():
                text += f". {running.error or 'The server exited.'}"
            return CallOutcome(server, "error", text, None, time.perf_counter() - started)
        text = "\n".join(getattr(c, "text", "") for c in res.content if getattr(c, "type", "") == "text")
        status = "error" if res.is_error else "ok"
        return CallOutcome(server, status, text, res.structured_content, time.perf_counter() - started)

    async def close(self) -> None:
        for running in self._running.values():
            running.stop.set()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        if tasks:
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
        self._running.clear()
