"""Run control for the graph's nodes: what the user asked to stop, and model calls in daemon threads."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Stop:
    """What the user asked to stop (Ctrl-C in the chat): the gathering, or the answer.

    A stopped gathering keeps every finished call and goes on to pack and answer from what
    it has; a stopped answer keeps the text that had arrived.
    """

    def __init__(self) -> None:
        self.gathering = asyncio.Event()
        self.answer = asyncio.Event()

    def clear(self) -> None:
        self.gathering.clear()
        self.answer.clear()


async def until(stop: asyncio.Event, start: Callable[[], Awaitable[T]]) -> T | None:
    """Start and await some work unless `stop` is set first: then cancel it and return None."""
    if stop.is_set():
        return None
    task = asyncio.ensure_future(start())
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            # A model call in a worker thread cannot be interrupted: it is abandoned, its reply unused.
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    await asyncio.wait({task})  # let the cancelled call unwind (an abandoned thread is not awaited)
    return None


def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
    """Run a blocking model call in a daemon thread.

    Not the default executor: a call the user stopped is abandoned, and the process must be
    able to exit without waiting for it to finish.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return  # stopped meanwhile: nobody wants this reply
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value, error = fn(*args, **kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is exiting
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name=f"forage-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return future
