"""Gemini API failures: retries with backoff, and each error in words a user can act on."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from google.genai import errors

from agent.errors import ModelError
from agent.models.catalog import Catalog

RETRY_CODES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class ModelUnavailable(ModelError):
    """The model is retired or unknown to this key: retrying cannot help."""


def retrying(fn: Callable[[], T], *, retries: int, backoff_s: float, sleep: Callable[[float], None]) -> T:
    """Call fn, retrying 429, 5xx and broken connections with exponential backoff and jitter."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except errors.APIError as exc:
            if exc.code not in RETRY_CODES or attempt == retries:
                raise
            sleep(backoff_s * 2**attempt * (1 + random.random() / 4))
        except httpx.TransportError:
            if attempt == retries:
                raise
            sleep(backoff_s * 2**attempt)
    raise AssertionError("unreachable")


def is_gone(exc: errors.APIError) -> bool:
    """A 404 naming a model (not a cache or a file): the model itself does not exist."""
    msg = (exc.message or "").lower()
    return exc.code == 404 and "models/" in msg and "cached" not in msg


def describe_api_error(
    what: str, exc: errors.APIError, *, model: str, window: int | None, tries: int
) -> ModelError:
    """A Gemini API error in words a user can act on."""
    msg = (exc.message or "").strip()
    low = msg.lower()
    if exc.code in (401, 403) or "api key" in low:
        return ModelError(f"Gemini rejected the API key ({exc.code}): {msg}. Check GEMINI_API_KEY.")
    if exc.code == 404:
        return ModelError(f"Gemini {what} failed: not found ({msg}).")
    if exc.code == 400 and ("token" in low and ("exceed" in low or "limit" in low or "too long" in low)):
        return ModelError(
            f"The request is larger than {model}'s window of {window or '?'} tokens: {msg}. "
            "Lower --budget or use --route select."
        )
    if exc.code == 400 and "thought_signature" in low:
        return ModelError(
            f"Gemini refused the planning history ({msg}). This is a forage bug: please report it; "
            "--max-steps 1 avoids multi-round planning meanwhile."
        )
    if exc.code in RETRY_CODES:
        return ModelError(
            f"Gemini is unavailable or rate-limited ({exc.code}) after {tries} tries: {msg}. "
            "Try again later, or pick another model with --model (see `forage models`)."
        )
    return ModelError(f"Gemini {what} failed ({exc.code} {exc.status or ''}): {msg}")


def listed(fn: Callable[[], Catalog]) -> Catalog:
    """models.list with retries, its failures in words."""
    try:
        return retrying(fn, retries=2, backoff_s=1.0, sleep=time.sleep)
    except errors.APIError as exc:
        raise describe_api_error("models.list", exc, model="?", window=None, tries=3) from exc
    except httpx.TransportError as exc:
        raise ModelError(
            f"Cannot reach the Gemini API to list models: {exc}. Check the network or --gemini-base-url."
        ) from exc
