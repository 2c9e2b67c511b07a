"""What goes over the wire to Gemini: tool declarations and contents, signed turns replayed verbatim."""

from __future__ import annotations

import re
from collections.abc import Callable

from google.genai import types

from agent.models.base import Message, ToolSpec

# Documented stand-in for a function call the model did not sign itself (a turn written by
# another model, or saved before signatures were kept): Gemini 3 then skips the check.
SKIP_SIGNATURE = b"skip_thought_signature_validator"
_MAJOR = re.compile(r"^gemini-(\d+)")


def signs_calls(model: str) -> bool:
    """Gemini 3 and later require signed function calls in the replayed history."""
    m = _MAJOR.match(model.removeprefix("models/"))
    return bool(m) and int(m.group(1)) >= 3


def function_declarations(tools: list[ToolSpec]) -> list[types.Tool]:
    """Turn MCP tool specs into one Gemini Tool of function declarations (JSON schema kept as is)."""
    if not tools:
        return []
    decls = [
        types.FunctionDeclaration(
            name=t.name,
            description=t.description,
            parameters_json_schema=t.input_schema or {"type": "object"},
        )
        for t in tools
    ]
    return [types.Tool(function_declarations=decls)]


def emit_text(chunk: types.GenerateContentResponse, on_text: Callable[[str], None]) -> None:
    for cand in (chunk.candidates or [])[:1]:
        for part in (cand.content.parts if cand.content else None) or []:
            if part.text and not part.thought:
                on_text(part.text)


def model_content(m: Message, model: str) -> types.Content:
    """An assistant turn: its own parts, verbatim, when this model wrote them; else rebuilt."""
    if m.provider and m.provider.get("model") == model and m.provider.get("parts"):
        return types.Content(role="model", parts=[types.Part.model_validate(p) for p in m.provider["parts"]])
    parts = [types.Part(text=m.content)] if m.content else []
    for i, c in enumerate(m.tool_calls):
        part = types.Part(function_call=types.FunctionCall(name=c.name, args=c.args, id=c.id))
        if i == 0 and signs_calls(model):
            part.thought_signature = SKIP_SIGNATURE  # not signed by this model (see SKIP_SIGNATURE)
        parts.append(part)
    return types.Content(role="model", parts=parts or [types.Part(text="")])


def to_contents(chat: list[Message], model: str, *, drop_prefix: bool = False) -> list[types.Content]:
    """Convert chat messages to Gemini contents; the first user message may lose its cached prefix."""
    out: list[types.Content] = []
    for i, m in enumerate(chat):
        if m.role == "user":
            body = m.content
            prefix = m.cacheable_prefix
            if prefix and body.startswith(prefix):
                body = body[len(prefix) :]
            parts = []
            if prefix and not (drop_prefix and i == 0):
                parts.append(types.Part(text=prefix))
            if body or not parts:
                parts.append(types.Part(text=body))
            out.append(types.Content(role="user", parts=parts))
        elif m.role == "assistant":
            out.append(model_content(m, model))
        elif m.role == "tool":
            resp = types.FunctionResponse(
                name=m.name or "", response={"result": m.content}, id=m.tool_call_id
            )
            part = types.Part(function_response=resp)
            # Consecutive tool results answer one model turn: Gemini wants them in one content.
            if out and out[-1].role == "user" and out[-1].parts and out[-1].parts[-1].function_response:
                out[-1].parts.append(part)
            else:
                out.append(types.Content(role="user", parts=[part]))
    return out
