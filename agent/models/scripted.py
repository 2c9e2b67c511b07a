"""A model for tests: replays queued replies and records what it was sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agent.models.base import Message, Reply, ToolSpec
from agent.state import ToolCall
from tools.tokens import estimate_tokens


@dataclass
class Sent:
    messages: list[Message]
    tools: list[ToolSpec] | None


@dataclass
class ScriptedModel:
    """Queue replies with `reply()`/`call()`; read `sent` afterwards."""

    window: int = 1_000_000
    name: str = "scripted"
    extractive: bool = False
    queue: list[Reply] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    closed: bool = False  # set by close(), so a test can check that a command released its model

    def reply(self, text: str = "", *, unanswerable: bool = False) -> ScriptedModel:
        self.queue.append(Reply(text=text, unanswerable=unanswerable))
        return self

    def call(self, name: str, **args: object) -> ScriptedModel:
        self.queue.append(Reply(tool_calls=[ToolCall(name=name, args=dict(args), id=f"c{len(self.queue)}")]))
        return self

    def generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
    ) -> Reply:
        self.sent.append(Sent([m.model_copy(deep=True) for m in messages], tools))
        if not self.queue:
            raise AssertionError(f"ScriptedModel: no reply queued for call #{len(self.sent)}")
        reply = self.queue.pop(0)
        if on_text and reply.text:
            on_text(reply.text)
        return reply

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def close(self) -> None:
        """Record that the model was closed."""
        self.closed = True
