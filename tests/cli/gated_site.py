"""A local web site whose pages can be held back, and a fake Gemini whose answers can be held back.

Tests kill or interrupt forage while a request is held, then count what each server received.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.gemini_server import GeminiServer


def page(title: str, fact: str, words: int = 60) -> bytes:
    filler = " ".join(f"{title.lower()}word{i}" for i in range(words))
    return (
        f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
        f"<p>{filler}</p><h2>Facts</h2><p>{fact}</p></main></body></html>"
    ).encode()


class GatedSite:
    """Pages on 127.0.0.1; `hold(path)` makes requests for a path wait until released.

    `hits` counts every request of a page, `served` those answered without being held.
    """

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        self.hits: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self._held: dict[str, tuple[threading.Event, int]] = {}
        self.arrived: dict[str, threading.Event] = {p: threading.Event() for p in pages}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                return

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                body = site.pages.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with site._lock:
                    site.hits[path] += 1
                    gate, after = site._held.get(path, (None, 0))
                    if gate is not None and site.hits[path] <= after:
                        gate = None
                if gate is None:
                    site.served[path] += 1
                else:
                    site.arrived[path].set()
                    if not gate.wait(120):
                        return
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/html; charset=utf-8")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed while this request was held

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def hold(self, path: str, *, after: int = 0) -> None:
        """Hold requests for `path` once it has been requested `after` times."""
        with self._lock:
            self._held[path] = (threading.Event(), after)
            self.arrived[path].clear()

    def release(self, path: str) -> None:
        with self._lock:
            gate, _ = self._held.pop(path, (None, 0))
        if gate is not None:
            gate.set()

    def __enter__(self) -> GatedSite:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for path in list(self._held):
            self.release(path)
        self.httpd.shutdown()
        self.httpd.server_close()


class SlowAnswers(GeminiServer):
    """The fake Gemini; while `hold` is set, answer requests (those without tools) wait for release."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.gate = threading.Event()
        self.answer_arrived = threading.Event()
        server = self
        base = self.httpd.RequestHandlerClass

        def generate(handler: Any, *args: Any) -> None:
            body = args[-1]  # (model, [spec,] action, body): the request body comes last
            if "tools" not in body and server.holding.is_set():
                server.answer_arrived.set()
                server.gate.wait(120)
            base._generate(handler, *args)  # type: ignore[attr-defined]

        self.httpd.RequestHandlerClass = type("SlowHandler", (base,), {"_generate": generate})

    def release(self) -> None:
        self.holding.clear()
        self.gate.set()


def saved_call_results(db: Path) -> int:
    """How many writes to the state's `results` (one per finished tool call, one per fold) are saved."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            (n,) = conn.execute("SELECT COUNT(*) FROM writes WHERE channel = 'results'").fetchone()
    except sqlite3.OperationalError:  # the table is created with the first checkpoint
        return 0
    return int(n)


def wait_for(predicate: Any, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def plan_requests(fake: Any) -> list[Any]:
    return [r for r in fake.requests if r.action.endswith("enerateContent") and "tools" in r.body]


def answer_requests(fake: Any) -> list[Any]:
    return [r for r in fake.requests if r.action.endswith("enerateContent") and "tools" not in r.body]
