"""One MCP server as the client sees it: how to start or reach it, and its session held open.

A server is started by its own task, which keeps the session until told to stop; a failure to
start or a crash is kept as an error text (with the tail of the server's stderr), never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from agent.mcp import thirdparty
from agent.mcp.trust import Review, TrustStore, tool_fingerprint
from agent.mcp_config import McpServer
from agent.models.base import ToolSpec
from tools.tool_names import namespaced

STDERR_TAIL_LINES = 8


@dataclass(frozen=True)
class ServerConfig:
    """How to start (or reach) one MCP server."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None  # per call; None: the toolbox's
    entry: McpServer | None = None  # set for third-party servers

    @property
    def third_party(self) -> bool:
        return self.entry is not None


class RunningServer:
    """A server session held open by its own task until the toolbox closes it."""

    def __init__(
        self, config: ServerConfig, log_dir: Path, trust: TrustStore | None, *, record: bool = True
    ) -> None:
        self.config = config
        self.trust = trust
        self.record = record  # write first sightings to the trust record (not when only listing)
        self.review: Review | None = None
        self.prints: dict[str, str] = {}  # the server's own tool name -> fingerprint
        self.client: Client | None = None
        self.tools: list[ToolSpec] = []
        self.originals: dict[str, str] = {}  # offered name -> the server's own tool name
        self.blocked: dict[str, str] = {}  # offered name -> why it is not called
        self.warnings: list[str] = []
        self.error: str | None = None
        self.reported = False  # the error was told once; later calls get a short line
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.log_path = log_dir / f"{config.name}.log"
        self.task: asyncio.Task[None] | None = None

    def _transport(self, log: TextIO) -> Any:
        c = self.config
        if c.url:
            from mcp.shared._httpx_utils import create_mcp_http_client

            return streamable_http_client(
                c.url, http_client=create_mcp_http_client(headers=c.headers or None)
            )
        # env: the SDK's safe default environment plus these (never all of ours: no API keys).
        params = StdioServerParameters(command=c.command, args=list(c.args), env=c.env or None, cwd=c.cwd)
        return stdio_client(params, errlog=log)

    async def run(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log: TextIO
        with open(self.log_path, "w", encoding="utf-8") as log:
            try:
                async with Client(self._transport(log)) as client:
                    listed = await client.list_tools()
                    self._offer(listed.tools)
                    self.client = client
                    self.ready.set()
                    await self.stop.wait()
            # Boundary with a child process: any failure to start or keep it is reported, not raised.
            except Exception as exc:  # noqa: BLE001
                self.error = self.describe(exc)
            finally:
                self.client = None
                self.ready.set()

    def _offer(self, tools: Sequence[Any]) -> None:
        """Our tools as they are; a third-party server's filtered, reviewed and namespaced."""
        entry = self.config.entry
        if entry is None:
            self.tools = [
                ToolSpec(
                    name=t.name, description=t.description or "", input_schema=t.input_schema,
                    server=self.config.name, read_only=_read_only(t),
                )
                for t in tools
            ]  # fmt: skip
            return
        name = self.config.name
        kept = [t for t in tools if thirdparty.offered(t.name, entry.include_tools, entry.exclude_tools)]
        prints = {
            t.name: tool_fingerprint(
                t.name, t.description or "", t.input_schema,
                t.annotations.model_dump(exclude_none=True) if t.annotations else None,
            )
            for t in kept
        }  # fmt: skip
        review = self.trust.review(name, entry, prints, record=self.record) if self.trust else None
        self.prints, self.review = prints, review
        if review is not None:
            self.warnings = review.warnings(entry.trusted)
        for t in kept:
            offered = namespaced(name, t.name)
            self.originals[offered] = t.name
            if review is not None and t.name in review.blocked:
                self.blocked[offered] = (
                    f"{name}/{t.name} changed since you accepted this server, so it is not called; "
                    f"review it and run `forage servers trust {name}`"
                )
                continue
            self.tools.append(
                ToolSpec(
                    name=offered,
                    description=thirdparty.description(name, t.description or ""),
                    input_schema=t.input_schema,
                    server=name,
                    read_only=_read_only(t),
                )
            )

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = [
                ln.rstrip()
                for ln in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                if ln.strip()
            ]
            if lines:
                return "\n".join(ln[:300] for ln in lines[-STDERR_TAIL_LINES:])
        return ""

    def describe(self, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, BaseExceptionGroup):
            reason = "; ".join(str(e) or type(e).__name__ for e in exc.exceptions)
        tail = self.stderr_tail()
        where = self.config.url or self.config.command
        text = f"the {self.config.name} server (MCP: {where}) stopped: {reason}"
        return text + (f"\nLast lines of its stderr ({self.log_path}):\n{tail}" if tail else "")


def _read_only(tool: Any) -> bool:
    """What the server claims (the write guard trusts only our own servers' claims)."""
    return bool(tool.annotations and tool.annotations.read_only_hint)
