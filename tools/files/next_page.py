"""A call worked out ahead of its request: the next page of a chain that follows `next`.

A client that reads a big folder asks for it page by page, each call naming the `next` the
previous reply gave. Between two pages the client is busy with the last one (parsing the reply,
building documents), and the server waits. `Ahead` lets the server read the page it has just
named as `next` in a thread meanwhile, and hand it over when exactly that call comes. On
100,000 small files the reading and the client's work then overlap, page after page.

The bounds: one page is held at most; a result older than `ttl` seconds (counted from when its
reading began) is read again, so a page is never staler than that; a call with other arguments
drops the page; an error while reading ahead is never shown, the call is simply made again (and
reports its own error).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL = 30.0  # seconds; a client that follows `next` at once asks within about one


class Ahead(Generic[T]):
    """At most one result computed ahead, keyed by the exact arguments of the call it answers."""

    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._future: Future[T] | None = None
        self._started = 0.0

    def start(self, key: Hashable, compute: Callable[[], T]) -> None:
        """Compute the answer to `key` in a daemon thread (any page held before is dropped)."""
        future: Future[T] = Future()
        with self._lock:
            self._key, self._future, self._started = key, future, time.monotonic()
        threading.Thread(target=_run, args=(future, compute), name="forage-ahead", daemon=True).start()

    def take(self, key: Hashable) -> T | None:
        """The result for `key` if it was started for exactly these arguments, is fresh and did
        not fail (waiting for it if it is still being computed); otherwise None. Either way, the
        page held is given up."""
        with self._lock:
            future, started, held = self._future, self._started, self._key
            self._key = self._future = None
        if future is None or held != key:
            return None
        try:
            value = future.result()
        except Exception:  # noqa: BLE001 (made again by the caller, which reports its own error)
            return None
        if time.monotonic() - started > self.ttl:
            return None
        return value


def _run(future: Future[T], compute: Callable[[], T]) -> None:
    try:
        future.set_result(compute())
    except Exception as exc:  # noqa: BLE001 (kept for take(), which drops it)
        future.set_exception(exc)
