"""Chat models behind one protocol: Gemini, the offline extractive model, a scripted one for tests.

Modules: base, catalog, extractive, gemini, gemini_errors, gemini_wire, prices, refusal, scripted, suggestions.
"""

from __future__ import annotations

from agent.models.base import ChatModel, Message, Reply, ToolSpec
from agent.settings import Settings

__all__ = ["ChatModel", "Message", "Reply", "ToolSpec", "make_model"]


def make_model(settings: Settings, *, caching: bool = False) -> tuple[ChatModel, str | None]:
    """Return the model Settings ask for, and a one-line notice about the choice, if any.

    caching: let Gemini keep the packed prefix in an explicit context cache. Only sessions that
    can ask a follow-up (chat, an MCP server) gain from one; a one-shot ask would pay for a
    count, a create and a delete that nothing reuses.
    """
    name = settings.model
    if name == "extractive" or (name == "auto" and not settings.api_key()):
        from agent.models.extractive import ExtractiveModel

        notice = None
        if name == "auto":
            notice = "No GEMINI_API_KEY set: using the offline extractive model (quotes passages, writes no prose)."
        return ExtractiveModel(window=settings.window or 1_000_000), notice
    from agent.models.gemini import GeminiModel  # needs google-genai and a key

    model = GeminiModel.from_settings(settings, caching=caching)
    notice = None
    if name in ("auto", "gemini"):
        notice = f"Using {model.name}, the newest stable Gemini Flash your key can use (--model to choose; `forage models` lists them)."
    return model, notice
