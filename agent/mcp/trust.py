"""Fingerprints of third-party MCP servers: what the user accepted, and what changed since.

A server's tool names, descriptions and schemas are what the planning model reads and obeys,
and its annotations (readOnlyHint) are what the write guard goes by, so a server that changes
them between runs (a "rug pull") can smuggle instructions in or turn a writer into a "reader". Each
tool is fingerprinted (sha256 of its definition). The first time a server is seen its tools
are recorded; afterwards a change is named in a warning, and an untrusted server's changed or
new tools are not offered or called until the user accepts them with `forage servers trust NAME`.

Servers defined by a project folder's files also need their launch (command line or URL)
accepted once before they are started. The record lives in the data folder (agent/paths.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.mcp_config import McpServer
from agent.paths import TRUST_FILE

STORE_NAME = TRUST_FILE


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def tool_fingerprint(
    name: str, description: str, input_schema: dict[str, Any], annotations: dict[str, Any] | None = None
) -> str:
    """sha256 of one tool's definition: what the model reads, and the hints the write guard trusts."""
    return _sha(
        {
            "name": name,
            "description": description,
            "input_schema": input_schema,
            "annotations": annotations or {},
        }
    )


def launch_fingerprint(entry: McpServer) -> str:
    """sha256 of how a server is started: command line or URL (env and header names, not values)."""
    return _sha(
        {
            "command": entry.command, "args": entry.args, "cwd": str(entry.cwd or ""), "url": entry.url,
            "env": sorted(entry.env), "headers": sorted(entry.headers),
        }
    )  # fmt: skip


@dataclass
class Review:
    """How a server's tools compare with what was accepted."""

    server: str
    first_sight: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # tools not to offer or call until accepted

    @property
    def clean(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def warnings(self, trusted: bool) -> list[str]:
        out = []
        for kind, names in (("changed", self.changed), ("new", self.added)):
            for name in names:
                action = (
                    "accepted (the server is trusted)"
                    if trusted
                    else f"not called until you accept it: forage servers trust {self.server}"
                )
                out.append(
                    f"MCP server {self.server}: tool {name!r} is {kind} since you accepted it; {action}"
                )
        out += [f"MCP server {self.server}: tool {name!r} is gone since last time" for name in self.removed]
        return out

    def state(self) -> str:
        if self.first_sight:
            return "never seen before"
        if self.clean:
            return "unchanged"
        parts = [f"{k}: {', '.join(v)}" for k, v in (("changed", self.changed), ("new", self.added)) if v]
        parts += [f"gone: {', '.join(self.removed)}"] if self.removed else []
        return "; ".join(parts)


class TrustStore:
    """Read and update the accepted fingerprints (one JSON file, replaced atomically)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STORE_NAME

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{self.path}: the MCP trust record cannot be read ({exc}); fix or delete it "
                "(every server is then reviewed again)"
            ) from exc
        return data if isinstance(data, dict) else {}

    def _update(self, server: str, change: dict[str, Any]) -> None:
        data = self._load()
        data[server] = {**data.get(server, {}), **change}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".mcp-trust-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def record(self, server: str) -> dict[str, Any]:
        """What is stored for a server (empty when never seen)."""
        return dict(self._load().get(server, {}))

    def launch_accepted(self, server: str, entry: McpServer) -> bool:
        """A user-defined server may always start; a project-defined one once its launch was accepted."""
        if entry.origin == "user":
            return True
        return self.record(server).get("launch") == launch_fingerprint(entry)

    def review(self, server: str, entry: McpServer, tools: dict[str, str], *, record: bool = True) -> Review:
        """Compare tool fingerprints ({name: sha}) with the accepted ones; record a first sight.

        A trusted server's changes are accepted (and still named); an untrusted server's changed
        and new tools are blocked. With record=False nothing is written (`forage servers list`).
        """
        known = self.record(server).get("tools")
        if known is None:
            if record:
                self._update(server, {"tools": tools, "accepted_at": _now()})
            return Review(server, first_sight=True)
        review = Review(
            server,
            added=sorted(set(tools) - set(known)),
            changed=sorted(n for n in tools if n in known and known[n] != tools[n]),
            removed=sorted(set(known) - set(tools)),
        )
        if review.clean:
            return review
        if entry.trusted:
            if record:
                self._update(server, {"tools": tools, "accepted_at": _now()})
        else:
            review.blocked = set(review.added) | set(review.changed)
        return review

    def accept(self, server: str, entry: McpServer, tools: dict[str, str]) -> None:
        """The user reviewed the server: accept its launch and its current tools."""
        self._update(
            server,
            {"launch": launch_fingerprint(entry), "tools": tools, "accepted_at": _now(), "last_error": None},
        )

    def record_error(self, server: str, error: str | None) -> None:
        """Remember the last failure (or that it worked) for `forage servers list`."""
        if self.record(server).get("last_error") != error:
            self._update(server, {"last_error": error, "last_error_at": _now() if error else None})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
