"""The one interface every chat model implements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field

from agent.errors import ModelError
from agent.state import ToolCall, Usage

CUT_MARKER = "\n[answer cut: the stream ended early]\n"  # shown after a half-streamed answer


class AnswerCut(ModelError):
    """The answer's stream ended before the answer did: what was shown of it is incomplete."""


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
    """generate / count_tokens / window / close: graph code depends on nothing else."""

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

    def close(self) -> None:
        """Release what the model holds at the provider (Gemini: its context caches)."""
        ...


M = TypeVar("M", bound=ChatModel)


def close_model(model: ChatModel, warn: Callable[[str], None]) -> None:
    """Close the model; a release that fails is passed to warn, since what it holds expires anyway."""
    try:
        model.close()
    except ModelError as exc:  # Gemini's caches expire by their TTL: worth a warning, not a crash
        warn(str(exc))


@contextmanager
def closing(model: M, warn: Callable[[str], None]) -> Iterator[M]:
    """Use the model, then close it (close_model) however the block ends."""
    try:
        yield model
    finally:
        close_model(model, warn)
