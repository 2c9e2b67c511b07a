"""Third-party MCP servers as configured: forage.toml `[mcp_servers.NAME]` or an editor's mcp.json.

Both spellings end as one `McpServer` entry per name. The editors' JSON format is read as they
write it (Claude Desktop, Cursor, Claude Code: `mcpServers`; VS Code: `servers`; gemini-cli:
`httpUrl`, `includeTools`, `trust`, `timeout` in milliseconds). Where an entry came from is kept
(`origin`): a server defined by the project folder runs a command only after the user accepted
it once (`forage servers trust NAME`), so cloning a repository cannot start a program.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.errors import ConfigError

Origin = Literal["user", "project"]

#: Names forage's own servers use: a third-party server may not take one (its documents would
#: be mistaken for ours).
RESERVED_NAMES = frozenset({"files", "web", "pdf", "forage", "git"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_VAR = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpServer(BaseModel):
    """How to reach one third-party MCP server and how far to trust it."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(None, description="program to start (stdio transport)")
    args: list[str] = Field(default_factory=list, description="its arguments")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables for it")
    cwd: Path | None = Field(None, description="its working folder")
    url: str | None = Field(None, description="streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers (e.g. Authorization)")
    include_tools: list[str] = Field(default_factory=list, description="offer only these tools")
    exclude_tools: list[str] = Field(default_factory=list, description="never offer these tools")
    timeout: float | None = Field(
        None, gt=0, description="seconds each call may take (default: call_timeout)"
    )
    trusted: bool = Field(
        False, description="accept changed tool definitions without review (outputs stay untrusted data)"
    )
    max_chars: int = Field(100_000, ge=1000, description="most characters kept from one result")
    enabled: bool = Field(True, description="false: configured but never started")
    origin: Origin = Field("user", description="set by forage: who defined it (user or project files)")
    defined_in: str = Field("", description="set by forage: the file that defined it")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServer:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either command (a program to start) or url (a streamable HTTP endpoint)")
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "http" if self.url else "stdio"

    def describe(self) -> str:
        """The command line or URL, for messages (header values and env values left out)."""
        if self.url:
            return self.url
        return " ".join([self.command or "", *self.args]).strip()


def check_name(name: str, origin: str) -> None:
    if not _NAME.match(name) or "__" in name:
        raise ConfigError(
            f"{origin}: MCP server name {name!r} must be 1-32 letters, digits, '-' or '_' (no '__'); rename it"
        )
    if name in RESERVED_NAMES:
        raise ConfigError(f"{origin}: MCP server name {name!r} is forage's own; choose another name")


def expand(value: str, env: Mapping[str, str], where: str) -> str:
    """Replace ${VAR}, ${env:VAR} and ${VAR:-default} with the environment's values."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{where}: ${{{name}}} is not set; export it or give a default as ${{{name}:-value}}"
        )

    return _VAR.sub(sub, value)


def _expand_entry(entry: dict[str, Any], env: Mapping[str, str], where: str) -> dict[str, Any]:
    out = dict(entry)
    for key in ("command", "url", "cwd"):
        if isinstance(out.get(key), str):
            out[key] = expand(out[key], env, where)
    if isinstance(out.get("args"), list):
        out["args"] = [expand(a, env, where) if isinstance(a, str) else a for a in out["args"]]
    for key in ("env", "headers"):
        if isinstance(out.get(key), dict):
            out[key] = {k: expand(v, env, where) if isinstance(v, str) else v for k, v in out[key].items()}
    return out


def server_entries(
    table: Any, *, origin: Origin, defined_in: str, env: Mapping[str, str]
) -> dict[str, McpServer]:
    """Validate a forage.toml `[mcp_servers]` table (or a converted mcp.json) into entries."""
    if not isinstance(table, dict):
        raise ConfigError(f"{defined_in}: mcp_servers must be a table of servers by name")
    out: dict[str, McpServer] = {}
    for name, raw in table.items():
        where = f"{defined_in}: mcp server {name!r}"
        check_name(name, defined_in)
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a table with command or url")
        for key in ("origin", "defined_in"):
            if key in raw:
                raise ConfigError(f"{where}: {key!r} is set by forage, not in config files; remove it")
        entry = _expand_entry(raw, env, where) | {"origin": origin, "defined_in": defined_in}
        try:
            out[name] = McpServer.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "entry"
            raise ConfigError(f"{where}: bad {key}: {err['msg']}") from exc
    return out


# Editor JSON key -> forage key (values converted where the units or meaning differ).
_EDITOR_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "command": ("command", lambda v: v),
    "args": ("args", lambda v: v),
    "env": ("env", lambda v: v),
    "cwd": ("cwd", lambda v: v),
    "url": ("url", lambda v: v),
    "httpUrl": ("url", lambda v: v),  # gemini-cli
    "serverUrl": ("url", lambda v: v),  # Windsurf
    "headers": ("headers", lambda v: v),
    "includeTools": ("include_tools", lambda v: v),  # gemini-cli
    "excludeTools": ("exclude_tools", lambda v: v),
    "include_tools": ("include_tools", lambda v: v),
    "exclude_tools": ("exclude_tools", lambda v: v),
    "trust": ("trusted", lambda v: v),  # gemini-cli
    "trusted": ("trusted", lambda v: v),
    "timeout": ("timeout", lambda v: v / 1000 if isinstance(v, int | float) else v),  # gemini-cli: ms
    "disabled": ("enabled", lambda v: not v if isinstance(v, bool) else v),
    "enabled": ("enabled", lambda v: v),
    "max_chars": ("max_chars", lambda v: v),
}
_STREAMABLE = {"http", "streamable-http", "streamableHttp", "streamable_http"}


def from_editor_json(data: Any, path: str) -> dict[str, dict[str, Any]]:
    """Convert an editor's mcp.json (`mcpServers` or VS Code's `servers`) to forage entries."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with mcpServers")
    servers = data.get("mcpServers", data.get("servers"))
    if not isinstance(servers, dict):
        raise ConfigError(f'{path}: no mcpServers object; write {{"mcpServers": {{"name": {{...}}}}}}')
    out: dict[str, dict[str, Any]] = {}
    for name, raw in servers.items():
        where = f"{path}: mcp server {name!r}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be an object with command or url")
        kind = raw.get("type", raw.get("transport"))
        if kind == "sse" or (kind is None and "url" in raw and "/sse" in str(raw["url"])):
            raise ConfigError(
                f"{where}: SSE servers are not supported; use the server's streamable HTTP endpoint (often /mcp)"
            )
        if kind not in (None, "stdio", *_STREAMABLE):
            raise ConfigError(f"{where}: unknown type {kind!r}; use stdio or http")
        if "envFile" in raw:
            raise ConfigError(f"{where}: envFile is not supported; list the variables under env")
        entry: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _EDITOR_KEYS:
                target, convert = _EDITOR_KEYS[key]
                entry[target] = convert(value)
            # Other keys are editor-specific (autoApprove, description, ...): not forage's business.
        out[name] = entry
    return out
