"""The one interface every chat model implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agent.state import ToolCall, Usage


class Message(BaseModel):
    """A chat message. Tool results carry the call they answer."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)  # assistant only
    tool_call_id: str | None = None  # tool only
    name: str | None = None  # tool only: the tool's name
    # tool only: machine-readable hints that are also in `content` (continuation args, PDFs found)
    data: dict[str, Any] | None = None
    # For "user" messages that carry a Pack: the byte-stable prefix, kept apart so a model can
    # cache it (Gemini explicit cache) and answer from the rest.
    cacheable_prefix: str | None = None
    # assistant only: the provider's own content for this turn, replayed verbatim (see ModelTurn)
    provider: dict[str, Any] | None = None


class ToolSpec(BaseModel):
    """A tool as shown to the model: name, description, JSON schema of its arguments."""

    name: str
    description: str
    input_schema: dict[str, Any]
    server: str = ""
    read_only: bool = False  # the server's MCP annotation readOnlyHint (agent/safety/guard.py reads it)


class Reply(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    # The model's own judgement that the given context cannot answer (drives Self-Route).
    unanswerable: bool = False
    # The provider's content parts, verbatim, with the model that wrote them (see ModelTurn).
    provider: dict[str, Any] | None = None
    # Something the user should hear about this reply (e.g. another model answered).
    notice: str | None = None


@runtime_checkable
class ChatModel(Protocol):
    """generate / count_tokens / window: graph code depends on nothing else."""

    name: str
    window: int
    extractive: bool

    def generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
    ) -> Reply: ...

    def count_tokens(self, text: str) -> int: ...
