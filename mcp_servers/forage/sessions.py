"""forage mcp's per-client machinery: one Workspace per session, progress relay, cancellation.

A client is a user (their bearer token's name, team.py) and one MCP session of theirs: its
sources and last pack are never another's. Resources carry no request context in the SDK, so a
server middleware (ClientScope) names the calling client for the length of each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from agent.errors import AgentError
from agent.events import Cancelled, Event, describe_event
from agent.session.workspace import LastPack, Workspace
from agent.settings import Settings
from mcp_servers import common

MAX_SESSIONS = 8  # workspaces kept for streamable HTTP clients; the least recently used is closed
STDIO = "stdio"  # the one client of a stdio server
_CLIENT: ContextVar[str] = ContextVar("forage_client", default=STDIO)


def client_key(request: Any) -> str:
    """Whose workspace a request uses: the person its token names (or '-') and its MCP session."""
    if request is None:
        return STDIO
    user = getattr(request, "scope", {}).get("user")
    token = user.access_token if isinstance(user, AuthenticatedUser) else None
    # OAuth: many people share one client_id (their editor's), so the subject names the person
    name = (token.subject or token.client_id) if token is not None else "-"
    return f"{name}/{request.headers.get('mcp-session-id') or '-'}"


class ClientScope:
    """Server middleware (the SDK's ServerMiddleware): the calling client, for code that has no ctx."""

    async def __call__(self, ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        token = _CLIENT.set(client_key(ctx.request))
        try:
            return await call_next(ctx)
        finally:
            _CLIENT.reset(token)


class Relay:
    """Agent events -> progress notifications. Thread-safe: packing emits from a worker thread."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.cancelled = threading.Event()
        self.sent = 0

    def __call__(self, event: Event) -> None:
        if self.cancelled.is_set():
            raise Cancelled("the request was cancelled")
        message = describe_event(event)
        if message:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, message)

    async def pump(self) -> None:
        while (message := await self.queue.get()) is not None:
            self.sent += 1
            await self.ctx.report_progress(self.sent, None, message)


class Sessions:
    """One Workspace per client (stdio: one; streamable HTTP: by user and Mcp-Session-Id)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.by_key: dict[str, Workspace] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def last(self) -> LastPack | None:
        """The calling client's last pack (ClientScope names the client)."""
        workspace = self.by_key.get(_CLIENT.get())
        return workspace.last if workspace is not None else None

    def get(self, ctx: Context) -> Workspace:
        key = client_key(ctx.request_context.request)
        workspace = self.by_key.pop(key, None) or Workspace(self.settings)
        self.by_key[key] = workspace  # most recently used last
        while len(self.by_key) > MAX_SESSIONS:  # HTTP clients that went away without a word
            oldest = next(iter(self.by_key))
            self._closing.add(asyncio.create_task(self.by_key.pop(oldest).close()))
        return workspace

    async def close(self) -> None:
        for workspace in self.by_key.values():
            await workspace.close()
        self.by_key.clear()
        if self._closing:
            await asyncio.wait(self._closing)


async def work(
    workspace: Workspace, ctx: Context, job: Callable[[Relay], Awaitable[CallToolResult]]
) -> CallToolResult:
    """Run a job with progress notifications; an agent error becomes a failed tool result.

    On cancellation the browser and workers are freed."""
    relay = Relay(ctx)
    pump = asyncio.create_task(relay.pump())
    try:
        return await job(relay)
    except AgentError as exc:  # the one place forage mcp turns agent errors into tool results
        return common.error_result(exc)
    except asyncio.CancelledError:
        relay.cancelled.set()
        with anyio.CancelScope(shield=True):
            await workspace.release()
        raise
    finally:
        relay.queue.put_nowait(None)
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await asyncio.wait_for(pump, timeout=5)
