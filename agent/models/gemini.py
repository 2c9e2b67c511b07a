"""Gemini through google-genai: function calling with thought signatures, streaming, caching, clear errors.

- The model is chosen from what the key can use today (agent/models/catalog.py), never a
  hard-coded name that can retire; a retired or unknown --model is one clear error.
- Gemini 3 signs its function calls (`thoughtSignature`) and rejects a history that drops or
  changes a signature: each reply's content parts are kept verbatim (`Reply.provider`) and
  replayed unchanged from the checkpointed state.
- Explicit context caches are created only when asked (`caching=True`: chat and MCP sessions,
  where a follow-up can reuse them), and a prefix is counted once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from google import genai
from google.genai import errors, types

from agent.errors import ModelError
from agent.models.base import AnswerCut, Message, Reply, ToolSpec
from agent.models.catalog import Catalog, list_models, load_catalog, unavailable_message
from agent.models.gemini_errors import (
    RETRY_CODES,
    TRANSPORT_ERRORS,
    ModelUnavailable,
    describe_api_error,
    describe_transport_error,
    is_gone,
    listed,
    retrying,
    say_on_stderr,
)
from agent.models.gemini_wire import emit_text, function_declarations, to_contents
from agent.models.prices import price_for
from agent.models.refusal import NOT_IN_CONTEXT, is_refusal
from agent.paths import places
from agent.settings import Price, Settings
from agent.state import ToolCall, Usage
from tools.tokens import estimate_tokens

ANSWER_INSTRUCTION = (
    "Answer from the documents given in the conversation and cite the blocks you use. "
    f"If those documents do not contain what is needed to answer, reply with {NOT_IN_CONTEXT} "
    "on the first line, then one line saying what is missing. Do not answer from memory."
)
_COUNT_MEMO = 64

T = TypeVar("T")


def min_cache_tokens(model: str) -> int:
    """The smallest prefix Gemini will cache explicitly for this model."""
    return 1024 if "flash" in model else 4096


def make_client(settings: Settings) -> genai.Client:
    key = settings.api_key()
    if not key:
        raise ModelError("No Gemini API key: set GEMINI_API_KEY, or use --model extractive to work offline.")
    # timeout: how long any read may wait (the first byte included); a late one is retried (gemini_errors).
    options = types.HttpOptions(base_url=settings.gemini_base_url, timeout=int(settings.api_timeout * 1000))
    return genai.Client(api_key=key, http_options=options)


class GeminiModel:
    """A ChatModel over the Gemini API."""

    extractive = False

    def __init__(
        self,
        client: genai.Client,
        name: str,
        *,
        window: int | None = None,
        caching: bool = False,
        cache_ttl_s: int = 3600,
        cache_min_tokens: int | None = None,
        prices: Mapping[str, Price] | None = None,
        catalog: Catalog | None = None,
        list_catalog: Callable[[], Catalog] | None = None,
        max_retries: int = 2,
        backoff_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] = say_on_stderr,
        timeout_s: float | None = None,
    ) -> None:
        self.client = client
        self.name = name.removeprefix("models/")
        self.caching = caching
        self.cache_ttl_s = cache_ttl_s
        self.cache_min_tokens = min_cache_tokens(name) if cache_min_tokens is None else cache_min_tokens
        self.prices = dict(prices or {})
        self.catalog = catalog
        self._list_catalog = list_catalog or (lambda: Catalog(list_models(client), time.time()))
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._on_retry = on_retry
        self.timeout_s = timeout_s  # the client's read timeout, for messages
        self._caches: dict[str, str] = {}  # prefix key -> cachedContents name
        self._small: set[str] = set()  # prefix keys known to be under the cacheable size
        self._counts: OrderedDict[str, int] = OrderedDict()  # text hash -> countTokens answer
        self._rerouted: set[str] = set()
        self.window = window or self._window_from_api()

    @classmethod
    def from_settings(cls, settings: Settings, *, caching: bool = False) -> GeminiModel:
        """The model Settings name, or the newest stable Flash the key can use; checked before any call."""
        client = make_client(settings)
        key = settings.api_key() or ""

        def listing(refresh: bool) -> Catalog:
            return load_catalog(
                client, data_dir=places(settings).cache, base_url=settings.gemini_base_url, api_key=key,
                refresh=refresh,
            )  # fmt: skip

        catalog = listed(lambda: listing(False))
        if settings.model in ("auto", "gemini"):
            info = catalog.default()
            if info is None:
                raise ModelError(
                    "Your Gemini key can use no model that generates text (models.list). "
                    "Check the key's project, or use --model extractive to work offline."
                )
        else:
            info = catalog.get(settings.model)
            if info is None:  # maybe released since the memo was written: ask once more
                catalog = listed(lambda: listing(True))
                info = catalog.get(settings.model)
            if info is None or not info.generates:
                raise ModelUnavailable(unavailable_message(settings.model, catalog))
        return cls(
            client,
            info.name,
            window=settings.window or info.input_token_limit or None,
            caching=caching and info.caches,
            prices=settings.prices,
            catalog=catalog,
            list_catalog=lambda: listing(True),
            max_retries=settings.api_tries - 1,
            backoff_s=settings.api_backoff,
            timeout_s=settings.api_timeout,
        )

    # ------------------------------------------------------------ errors and retries

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call with retries; map failures to ModelError (ModelUnavailable when retired)."""
        try:
            return retrying(
                fn,
                retries=self.max_retries,
                backoff_s=self.backoff_s,
                sleep=self._sleep,
                on_retry=self._on_retry,
            )
        except errors.APIError as exc:
            if is_gone(exc) or (exc.code in RETRY_CODES and self._retired()):
                raise ModelUnavailable(self._unavailable(f"{exc.code} on {what}")) from exc
            raise describe_api_error(what, exc, model=self.name, window=getattr(self, "window", None),
                                     tries=self.max_retries + 1) from exc  # fmt: skip
        except TRANSPORT_ERRORS as exc:
            raise describe_transport_error(what, exc, self.timeout_s, self.max_retries + 1) from exc

    def _retired(self) -> bool:
        """After retries ran out: is the model still listed? (Retired models may answer 503.)"""
        try:
            self.catalog = self._list_catalog()
        except (errors.APIError, *TRANSPORT_ERRORS):
            return False  # cannot tell: report the failure itself
        return self.catalog.get(self.name) is None

    def _unavailable(self, why: str) -> str:
        if self.catalog is None or time.time() - self.catalog.listed_at > 60:
            with contextlib.suppress(errors.APIError, *TRANSPORT_ERRORS):  # then say what we know
                self.catalog = self._list_catalog()
        return unavailable_message(self.name, self.catalog, why)

    def _window_from_api(self) -> int:
        info = self._call("models.get", lambda: self.client.models.get(model=self.name))
        if not info.input_token_limit:
            raise ModelError(f"Gemini did not say how large {self.name}'s window is; pass --window N.")
        return int(info.input_token_limit)

    # ------------------------------------------------------------ tokens and caches

    def count_tokens(self, text: str) -> int:
        """The API's count, asked once per distinct text (packing and caching share it)."""
        if not text:
            return 0
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if key in self._counts:
            self._counts.move_to_end(key)
            return self._counts[key]
        resp = self._call(
            "countTokens", lambda: self.client.models.count_tokens(model=self.name, contents=text)
        )
        n = self._counts[key] = int(resp.total_tokens or 0)
        if len(self._counts) > _COUNT_MEMO:
            self._counts.popitem(last=False)
        return n

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
        try:
            cache = self._call(
                "caches.create", lambda: self.client.caches.create(model=self.name, config=config)
            )
        except ModelError as exc:
            if "too small" in str(exc).lower():
                self._small.add(key)  # the API counts the system text differently: go uncached
                return None
            raise
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
        contents = to_contents(chat, self.name)
        self._check_window(contents, system)

        cache_name = None
        first = chat[0] if chat else None
        if self.caching and first is not None and first.role == "user" and first.cacheable_prefix:
            cache_name = self._cached_prefix(first.cacheable_prefix, system, decls)
            if cache_name:
                contents = to_contents(chat, self.name, drop_prefix=True)
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
            emit_text(head, on_text)
        # Text already shown cannot be taken back, so a stream that breaks is not retried: it is
        # reported as cut (the answer node marks what was shown), and the user asks again.
        try:
            for chunk in it:
                chunks.append(chunk)
                emit_text(chunk, on_text)
        except errors.APIError as exc:
            error = describe_api_error(
                "streamGenerateContent", exc, model=self.name, window=self.window, tries=1
            )
            raise AnswerCut(f"The Gemini stream broke off: {error}") from exc
        except TRANSPORT_ERRORS as exc:
            raise AnswerCut(
                f"The Gemini stream broke off ({type(exc).__name__}: {exc}): the answer is incomplete. Ask again."
            ) from exc
        if chunks and not any(c.finish_reason for ch in chunks for c in ch.candidates or []):
            raise AnswerCut(
                "The Gemini stream ended before the answer did (no finish reason): the answer is incomplete. "
                "Ask again."
            )
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
        raw: list[dict[str, Any]] = []
        meta = None
        served = None
        for chunk in chunks:
            meta = chunk.usage_metadata or meta
            served = chunk.model_version or served
            for cand in (chunk.candidates or [])[:1]:
                for part in (cand.content.parts if cand.content else None) or []:
                    raw.append(part.model_dump(mode="json", exclude_none=True))
                    if part.thought:
                        continue
                    if part.text:
                        text_parts.append(part.text)
                    if part.function_call:
                        fc = part.function_call
                        calls.append(ToolCall(name=fc.name or "", args=dict(fc.args or {}), id=fc.id))
        text = "".join(text_parts)
        notice = None
        priced_as = self.name
        if served and not served.removeprefix("models/").startswith(self.name):
            priced_as = served.removeprefix("models/")
            if priced_as not in self._rerouted:
                self._rerouted.add(priced_as)
                notice = (
                    f"Gemini answered with {priced_as}, not {self.name} (the API re-routed the request); "
                    f"costs are {priced_as}'s. Set --model to choose one yourself (`forage models`)."
                )
        return Reply(
            text=text,
            tool_calls=calls,
            usage=self._usage(meta, priced_as),
            unanswerable=not calls and is_refusal(text),
            # Kept only for planning turns: their parts carry the signatures to replay.
            provider={"model": self.name, "parts": raw} if calls else None,
            notice=notice,
        )

    def _usage(self, meta: types.GenerateContentResponseUsageMetadata | None, model: str) -> Usage:
        if meta is None:
            return Usage()
        prompt = meta.prompt_token_count or 0
        cached = meta.cached_content_token_count or 0
        thinking = meta.thoughts_token_count or 0
        output = (meta.candidates_token_count or 0) + thinking
        price = price_for(model, self.prices)
        return Usage(
            prompt_tokens=prompt,
            cached_tokens=cached,
            output_tokens=output,
            thinking_tokens=thinking,
            cost_usd=price.cost(prompt, cached, output) if price else None,
            cost_known=price is not None,
        )
