"""A fake Anthropic Messages API on loopback, enough to drive Claude Code (`ANTHROPIC_BASE_URL`).

It plays the model the way tests/fakes/gemini_server.py's `script_call` does: when a request
offers a tool named `tool` (Claude Code names MCP tools mcp__SERVER__TOOL) it answers with a
`tool_use` of it; once the request carries that tool's `tool_result`, it records the result and
answers with text. Any other request gets a short text. Replies stream as the API streams them
(server-sent events: message_start, content_block_start/delta/stop, message_delta, message_stop)
or come as one JSON message when the request does not ask for a stream.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import Loopback, send_json


@dataclass
class FakeAnthropic:
    """Scripted tool calls, what came back, and every request seen."""

    tool: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""

    def script_call(self, tool: str, args: dict[str, Any]) -> None:
        """Call the offered tool named `tool` (or ending in `__` + tool) with these args, once."""
        self.tool, self.args = tool, args

    def turn(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The content blocks the model answers this request with."""
        names = [t.get("name", "") for t in body.get("tools", [])]
        name = next(
            (n for n in names if self.tool and (n == self.tool or n.endswith("__" + self.tool))), None
        )
        if name is None:
            return [{"type": "text", "text": "ok"}]
        uses = {
            b["id"]: b["name"] for m in body.get("messages", []) if m.get("role") == "assistant"
            for b in _blocks(m) if b.get("type") == "tool_use"
        }  # fmt: skip
        results = [
            b for m in body.get("messages", []) if m.get("role") == "user"
            for b in _blocks(m) if b.get("type") == "tool_result" and uses.get(b.get("tool_use_id")) == name
        ]  # fmt: skip
        if not results:
            return [
                {"type": "tool_use", "id": f"toolu_{next(self._ids):08d}", "name": name, "input": self.args}
            ]
        with self.lock:
            self.tool_results.append(results[-1])
        return [{"type": "text", "text": f"Read {self.tool}'s result."}]


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content", [])
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return

    def _json(self, code: int, body: dict[str, Any]) -> None:
        send_json(self, code, body)

    def do_GET(self) -> None:
        self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake = self.fake
        with fake.lock:
            fake.requests.append({"path": self.path, "body": body})
        if self.path.split("?")[0].endswith("/count_tokens"):
            self._json(200, {"input_tokens": len(json.dumps(body)) // 4})
            return
        if not self.path.split("?")[0].endswith("/v1/messages"):
            self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
            return
        blocks = fake.turn(body)
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        message = {
            "id": f"msg_{next(fake._ids):08d}", "type": "message", "role": "assistant",
            "model": body.get("model", "claude"), "content": blocks, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": len(json.dumps(body)) // 4, "output_tokens": 10},
        }  # fmt: skip
        if not body.get("stream"):
            self._json(200, message)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        start = {**message, "content": [], "stop_reason": None}
        self._event("message_start", {"type": "message_start", "message": start})
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                self._event("content_block_start", {"type": "content_block_start", "index": i,
                                                    "content_block": {"type": "text", "text": ""}})  # fmt: skip
                delta = {"type": "text_delta", "text": block["text"]}
            else:
                empty = {**block, "input": {}}
                self._event(
                    "content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}
                )
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            self._event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta})
            self._event("content_block_stop", {"type": "content_block_stop", "index": i})
        self._event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                      "usage": {"output_tokens": 10}})  # fmt: skip
        self._event("message_stop", {"type": "message_stop"})
        self.close_connection = True

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


class AnthropicServer(Loopback):
    """Run a FakeAnthropic on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, fake: FakeAnthropic | None = None) -> None:
        super().__init__(_Handler, fake or FakeAnthropic())

    def __enter__(self) -> FakeAnthropic:
        return super().__enter__()
