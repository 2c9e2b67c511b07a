"""Gemini API failures: retries with backoff, and each error in words a user can act on.

What google-genai raises, checked against its source and the fake server's faults
(tests/fakes/gemini_faults.py): an error status is `errors.APIError` (`.response` holds the
headers, Retry-After among them); a late first byte, a reset or a body cut short is a transport
error of httpx2 (the SDK's HTTP client when installed) or httpx; a stream that stops cleanly just
ends, without a finish reason; an unreadable reply is a pydantic ValidationError, a
JSONDecodeError or `errors.UnknownApiResponseError` (cli's crash table names those).
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from google.genai import errors

from agent.errors import ModelError
from agent.models.catalog import Catalog

RETRY_CODES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_S = 60.0  # a longer Retry-After is not waited out: the command ends and says when to try again


def _transport_errors() -> tuple[type[Exception], ...]:
    """httpx's transport errors, and httpx2's where google-genai uses it (they share no base class)."""
    found: list[type[Exception]] = [httpx.TransportError]
    if importlib.util.find_spec("httpx2") is not None:
        import httpx2

        found.append(httpx2.TransportError)
    return tuple(found)


TRANSPORT_ERRORS = _transport_errors()


def is_timeout(exc: BaseException) -> bool:
    """A transport error that is a timeout (httpx's or httpx2's TimeoutException)."""
    return any(c.__name__ == "TimeoutException" for c in type(exc).__mro__)


def retry_after(exc: errors.APIError) -> float | None:
    """The seconds the API's Retry-After header asks for, if it sent one in seconds."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    raw = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def say_on_stderr(message: str) -> None:
    """The default way a retry is announced: one line on stderr (stdout carries answers and MCP)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _secs(s: float) -> str:
    return f"{s:.0f} s" if s >= 1 else f"{s:.1f} s"


T = TypeVar("T")


class ModelUnavailable(ModelError):
    """The model is retired or unknown to this key: retrying cannot help."""


def retrying(
    fn: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None],
    on_retry: Callable[[str], None] = say_on_stderr,
) -> T:
    """Call fn, retrying 429 (honouring Retry-After), 5xx, broken connections and timeouts.

    At most `retries` retries, with exponential backoff and jitter; each one is announced
    ("Gemini API busy (503); retrying in 2 s (2/3)").
    """
    tries = retries + 1
    for attempt in range(1, tries + 1):
        try:
            return fn()
        except errors.APIError as exc:
            asked = retry_after(exc)
            if exc.code not in RETRY_CODES or attempt == tries or (asked or 0) > MAX_WAIT_S:
                raise
            wait = asked if asked is not None else backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 4)
            why = "rate-limited (429)" if exc.code == 429 else f"busy ({exc.code})"
        except TRANSPORT_ERRORS as exc:
            if attempt == tries:
                raise
            wait = backoff_s * 2 ** (attempt - 1)
            why = "too slow to answer" if is_timeout(exc) else f"connection broke ({type(exc).__name__})"
        on_retry(f"Gemini API {why}; retrying in {_secs(wait)} ({attempt + 1}/{tries})")
        sleep(wait)
    raise AssertionError("unreachable")


def describe_transport_error(what: str, exc: Exception, timeout_s: float | None, tries: int) -> ModelError:
    """A connection failure or timeout, after its retries, in words a user can act on."""
    if is_timeout(exc):
        limit = f" within {timeout_s:g} s" if timeout_s else ""
        return ModelError(
            f"The Gemini API did not answer {what}{limit}, {tries} tries. Try again later, or raise "
            "api_timeout (FORAGE_API_TIMEOUT) if your requests are very large."
        )
    return ModelError(
        f"Cannot reach the Gemini API for {what} ({type(exc).__name__}: {exc}), {tries} tries. "
        "Check the network or --gemini-base-url."
    )


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
    if exc.code in RETRY_CODES and (retry_after(exc) or 0) > MAX_WAIT_S:
        return ModelError(
            f"Gemini is rate-limiting this key ({exc.code}) and asks to wait {retry_after(exc):.0f} s: {msg}. "
            "Try again then, or pick another model with --model (see `forage models`)."
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
    except TRANSPORT_ERRORS as exc:
        raise describe_transport_error("to list models", exc, None, 3) from exc
