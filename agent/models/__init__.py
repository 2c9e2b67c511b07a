"""Chat models behind one protocol; `make_model` picks one from Settings."""

from __future__ import annotations

from agent.models.base import ChatModel, Message, Reply, ToolSpec
from agent.settings import Settings

__all__ = ["ChatModel", "Message", "Reply", "ToolSpec", "make_model"]


def make_model(settings: Settings) -> tuple[ChatModel, str | None]:
    """Return the model Settings ask for, and a one-line notice when falling back offline."""
    name = settings.model
    if name == "extractive" or (name == "auto" and not settings.api_key()):
        from agent.models.extractive import ExtractiveModel

        notice = None
        if name == "auto":
            notice = "No GEMINI_API_KEY set: using the offline extractive model (quotes passages, writes no prose)."
        return ExtractiveModel(window=settings.window or 1_000_000), notice
    from agent.models.gemini import GeminiModel  # needs google-genai and a key

    return GeminiModel.from_settings(settings), None
