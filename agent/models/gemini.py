"""Gemini through google-genai: function calling, streaming, explicit context caching, clear errors."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
from google import genai
from google.genai import errors, types

from agent.errors import ModelError
from agent.models.base import Message, Reply, ToolSpec
from agent.settings import Settings
from agent.state import ToolCall, Usage
from tools.tokens import estimate_tokens

DEFAULT_MODEL = "gemini-2.5-flash"
NOT_IN_CONTEXT = "NOT_IN_CONTEXT"
ANSWER_INSTRUCTION = (
    "Answer from the documents given in the conversation and cite the blocks you use. "
    f"If those documents do not contain what is needed to answer, reply with {NOT_IN_CONTEXT} "
    "on the first line, then one line saying what is missing. Do not answer from memory."
)
_RETRY_CODES = frozenset({429, 500, 502, 503, 504})
# USD per 1M tokens: (input, cached input, output). Longest matching prefix wins.
_PRICES: dict[str, tuple[float, float, float]] = {
    "gemini-2.5-pro": (1.25, 0.125, 10.0),
    "gemini-2.5-flash": (0.30, 0.03, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.01, 0.40),
    "gemini-2.0-flash": (0.10, 0.025, 0.40),
    "gemini-3-pro": (2.00, 0.20, 12.0),
    "gemini-3-flash": (0.50, 0.05, 3.00),
}

T = TypeVar("T")


def price_for(model: str) -> tuple[float, float, float] | None:
    """Return (input, cached, output) USD per 1M tokens for a model, or None when unknown."""
    name = model.removeprefix("models/")
    best = max((p for p in _PRICES if name.startswith(p)), key=len, default=None)
    return _PRICES[best] if best else None


def min_cache_tokens(model: str) -> int:
    """The smallest prefix Gemini will cache explicitly for this model."""
    return 1024 if "flash" in model else 4096


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


class GeminiModel:
    """A ChatModel over the Gemini API."""

    extractive = False

    def __init__(
        self,
        client: genai.Client,
        name: str = DEFAULT_MODEL,
        *,
        window: int | None = None,
        cache_ttl_s: int = 3600,
        cache_min_tokens: int | None = None,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.name = name
        self.cache_ttl_s = cache_ttl_s
        self.cache_min_tokens = min_cache_tokens(name) if cache_min_tokens is None else cache_min_tokens
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._caches: dict[str, str] = {}  # prefix key -> cachedContents name
        self._small: set[str] = set()  # prefix keys known to be under the cacheable size
        self.window = window or self._window_from_api()

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiModel:
        """Build the model Settings name; asks the API for the window unless Settings give one."""
        key = settings.api_key()
        if not key:
            raise ModelError(
                "No Gemini API key: set GEMINI_API_KEY, or use --model extractive to work offline."
            )
        options = types.HttpOptions(base_url=settings.gemini_base_url) if settings.gemini_base_url else None
        client = genai.Client(api_key=key, http_options=options)
        name = DEFAULT_MODEL if settings.model in ("auto", "gemini") else settings.model
        return cls(client, name, window=settings.window)

    # ------------------------------------------------------------ errors and retries

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call, retrying 429 and 5xx with exponential backoff; map failures to ModelError."""
        for attempt in range(self.max_retries + 1):
            try:
                return fn()
            except errors.APIError as exc:
                if exc.code in _RETRY_CODES and attempt < self.max_retries:
                    self._sleep(self.backoff_s * 2**attempt * (1 + random.random() / 4))
                    continue
                raise self._model_error(what, exc) from exc
            except httpx.TransportError as exc:
                if attempt < self.max_retries:
                    self._sleep(self.backoff_s * 2**attempt)
                    continue
                raise ModelError(
                    f"Cannot reach the Gemini API for {what}: {exc}. Check the network or --gemini-base-url."
                ) from exc
        raise AssertionError("unreachable")

    def _model_error(self, what: str, exc: errors.APIError) -> ModelError:
        msg = (exc.message or "").strip()
        low = msg.lower()
        if exc.code in (401, 403) or "api key" in low:
            return ModelError(f"Gemini rejected the API key ({exc.code}): {msg}. Check GEMINI_API_KEY.")
        if exc.code == 404:
            return ModelError(
                f"Gemini model {self.name!r} was not found ({what}): {msg}. Pick another with --model."
            )
        if exc.code == 400 and ("token" in low and ("exceed" in low or "limit" in low or "too long" in low)):
            return ModelError(
                f"The request is larger than {self.name}'s window of {getattr(self, 'window', '?')} tokens: {msg}. "
                "Lower --budget or use --route select."
            )
        if exc.code in _RETRY_CODES:
            return ModelError(
                f"Gemini is unavailable or rate-limited ({exc.code}) after {self.max_retries + 1} tries: {msg}"
            )
        return ModelError(f"Gemini {what} failed ({exc.code} {exc.status or ''}): {msg}")

    def _window_from_api(self) -> int:
        info = self._call("models.get", lambda: self.client.models.get(model=self.name))
        if not info.input_token_limit:
            raise ModelError(f"Gemini did not say how large {self.name}'s window is; pass --window N.")
        return int(info.input_token_limit)

    # ------------------------------------------------------------ tokens and caches

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        resp = self._call(
            "countTokens", lambda: self.client.models.count_tokens(model=self.name, contents=text)
        )
        return int(resp.total_tokens or 0)

    def _cached_prefix(self, prefix: str, system: str | None, tools: list[types.Tool]) -> str | None:
        """Return a cache name holding this exact prefix (creating it once), or None if too small."""
        tool_json = json.dumps([t.model_dump(mode="json", exclude_none=True) for t in tools], sort_keys=True)
        key = hashlib.sha256("\0".join([self.name, system or "", tool_json, prefix]).encode()).hexdigest()
        if key in self._caches:
            return self._caches[key]
        if key in self._small:
            return None
        # A cheap estimate rules out small prefixes without a countTokens round trip.
        if (
            estimate_tokens(prefix) < self.cache_min_tokens // 2
            or self.count_tokens(prefix) < self.cache_min_tokens
        ):
            self._small.add(key)
            return None
        config = types.CreateCachedContentConfig(
            contents=[types.Content(role="user", parts=[types.Part(text=prefix)])],
            system_instruction=system,
            tools=tools or None,
            ttl=f"{self.cache_ttl_s}s",
            display_name=f"forage-{key[:12]}",
        )
        cache = self._call("caches.create", lambda: self.client.caches.create(model=self.name, config=config))
        self._caches[key] = cache.name or ""
        return cache.name

    def close(self) -> None:
        """Delete the explicit caches this model created."""
        names, self._caches = list(self._caches.values()), {}
        failures = []
        for name in names:
            try:
                self._call("caches.delete", lambda n=name: self.client.caches.delete(name=n))
            except ModelError as exc:
                failures.append(str(exc))  # it expires by its TTL anyway
        if failures:
            raise ModelError(
                f"Could not delete {len(failures)} Gemini cache(s); they expire by TTL. First: {failures[0]}"
            )

    # ------------------------------------------------------------ generate

    def generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
    ) -> Reply:
        system_parts = [m.content for m in messages if m.role == "system" and m.content]
        if not tools:
            system_parts.append(ANSWER_INSTRUCTION)
        system = "\n\n".join(system_parts) or None
        decls = function_declarations(tools or [])
        chat = [m for m in messages if m.role != "system"]
        contents = _contents(chat)
        self._check_window(contents, system)

        cache_name = None
        first = chat[0] if chat else None
        if first is not None and first.role == "user" and first.cacheable_prefix:
            cache_name = self._cached_prefix(first.cacheable_prefix, system, decls)
            if cache_name:
                contents = _contents(chat, drop_prefix=True)
        if cache_name:
            config = types.GenerateContentConfig(cached_content=cache_name)
        else:
            config = types.GenerateContentConfig(system_instruction=system, tools=decls or None)

        if on_text is None:
            resp = self._call(
                "generateContent",
                lambda: self.client.models.generate_content(
                    model=self.name, contents=contents, config=config
                ),
            )
            return self._reply([resp])
        return self._stream(contents, config, on_text)

    def _stream(
        self,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        on_text: Callable[[str], None],
    ) -> Reply:
        def start() -> tuple[Iterator[types.GenerateContentResponse], types.GenerateContentResponse | None]:
            it = iter(
                self.client.models.generate_content_stream(model=self.name, contents=contents, config=config)
            )
            return it, next(it, None)  # errors surface on the first chunk: retry until then

        it, head = self._call("streamGenerateContent", start)
        chunks = [] if head is None else [head]
        if head is not None:
            _emit(head, on_text)
        try:
            for chunk in it:
                chunks.append(chunk)
                _emit(chunk, on_text)
        except errors.APIError as exc:
            raise self._model_error("streamGenerateContent", exc) from exc
        except httpx.TransportError as exc:
            raise ModelError(f"The Gemini stream broke off: {exc}. Ask again.") from exc
        return self._reply(chunks)

    def _check_window(self, contents: list[types.Content], system: str | None) -> None:
        text_len = sum(len(p.text or "") for c in contents for p in c.parts or []) + len(system or "")
        # A generous margin: the estimate is rough, and the API gives the exact verdict anyway.
        if text_len / 4.0 > self.window * 1.5:
            raise ModelError(
                f"The request (~{int(text_len / 4):,} tokens) is far over {self.name}'s window of {self.window:,} tokens. "
                "Lower --budget or use --route select."
            )

    def _reply(self, chunks: list[types.GenerateContentResponse]) -> Reply:
        text_parts: list[str] = []
        calls: list[ToolCall] = []
        meta = None
        for chunk in chunks:
            meta = chunk.usage_metadata or meta
            for cand in (chunk.candidates or [])[:1]:
                for part in (cand.content.parts if cand.content else None) or []:
                    if part.thought:
                        continue
                    if part.text:
                        text_parts.append(part.text)
                    if part.function_call:
                        fc = part.function_call
                        calls.append(ToolCall(name=fc.name or "", args=dict(fc.args or {}), id=fc.id))
        text = "".join(text_parts)
        return Reply(
            text=text,
            tool_calls=calls,
            usage=self._usage(meta),
            unanswerable=not calls and text.lstrip().startswith(NOT_IN_CONTEXT),
        )

    def _usage(self, meta: types.GenerateContentResponseUsageMetadata | None) -> Usage:
        if meta is None:
            return Usage()
        prompt = meta.prompt_token_count or 0
        cached = meta.cached_content_token_count or 0
        output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        price = price_for(self.name)
        cost = None
        if price:
            cost = ((prompt - cached) * price[0] + cached * price[1] + output * price[2]) / 1_000_000
        return Usage(prompt_tokens=prompt, cached_tokens=cached, output_tokens=output, cost_usd=cost)


def _emit(chunk: types.GenerateContentResponse, on_text: Callable[[str], None]) -> None:
    for cand in (chunk.candidates or [])[:1]:
        for part in (cand.content.parts if cand.content else None) or []:
            if part.text and not part.thought:
                on_text(part.text)


def _contents(chat: list[Message], *, drop_prefix: bool = False) -> list[types.Content]:
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
            parts = [types.Part(text=m.content)] if m.content else []
            parts += [
                types.Part(function_call=types.FunctionCall(name=c.name, args=c.args, id=c.id))
                for c in m.tool_calls
            ]
            out.append(types.Content(role="model", parts=parts or [types.Part(text="")]))
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
