"""Rendering pages in the system Chromium, with every browser request held to the network policy.

Chromium never talks to the network itself. It is launched with a proxy that cannot be
resolved (so anything it would fetch on its own, such as preconnects, WebSockets or favicons,
fails without a packet leaving), and every request it makes is intercepted with
``context.route`` and answered from ``HttpFetcher``, which checks the policy on each hop and
connects only to checked addresses. Redirects are followed by the fetcher, not by Chromium:
Chromium follows a fulfilled 3xx by itself, outside the route handler.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from tools.errors import FetchFailed, PolicyRefused, Timeout, TooLarge, ToolError
from tools.web.fetch import USER_AGENT, HttpFetcher, Limits, Response
from tools.web.hidden_marks import mark_hidden

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    # Defense in depth: whatever escapes interception goes to a proxy that cannot resolve.
    "--proxy-server=http://forage-no-direct-network.invalid:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]
# Resource types a text reader needs; images, fonts and media are refused unfetched.
_WANTED_TYPES = frozenset({"document", "script", "xhr", "fetch", "stylesheet"})
_DROP_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})
_FORWARD_REQUEST_HEADERS = ("accept", "content-type", "cookie", "referer", "x-requested-with")


def find_chromium(explicit: str | None = None) -> str | None:
    """Return the Chromium executable to use: the explicit path, else the first one on PATH."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """A launched Chromium (and its Playwright driver); close it once, at shutdown."""

    def __init__(self, playwright: Playwright, browser: Browser) -> None:
        self._playwright = playwright
        self.browser = browser

    @classmethod
    async def launch(cls, path: str | None = None) -> Chromium:
        executable = find_chromium(path)
        if executable is None:
            where = path or "PATH"
            raise ToolError(
                f"no Chromium found at {where}; install it with `apt-get install chromium` or pass --chromium PATH"
            )
        playwright = await async_playwright().start()
        try:
            browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            await playwright.stop()
            raise ToolError(f"Chromium at {executable} did not start: {exc.message.splitlines()[0]}") from exc
        return cls(playwright, browser)

    async def close(self) -> None:
        try:
            await self.browser.close()
        finally:
            await self._playwright.stop()


@dataclass
class Rendered:
    html: str
    final_url: str
    blocked: list[str] = field(default_factory=list)
    scroll_steps: int = 0
    scroll_steps_capped: bool = False


class _Traffic:
    """Counts the route handler's in-flight fetches so we know when the page has settled."""

    def __init__(self) -> None:
        self.inflight = 0
        self.last = time.monotonic()

    def start(self) -> None:
        self.inflight += 1
        self.last = time.monotonic()

    def done(self) -> None:
        self.inflight -= 1
        self.last = time.monotonic()

    async def settle(self, quiet: float, cap: float) -> None:
        """Wait until no fetch has been in flight for `quiet` seconds (counted from now at least)."""
        began = time.monotonic()
        deadline = began + cap
        while time.monotonic() < deadline:
            if self.inflight == 0 and time.monotonic() - max(self.last, began) >= quiet:
                return
            await asyncio.sleep(0.02)


@dataclass
class _Visit:
    """What the route handler of a context needs for the page being rendered in it."""

    first: Response
    blocked: list[str] = field(default_factory=list)
    traffic: _Traffic = field(default_factory=_Traffic)


@dataclass
class _Slot:
    """A fresh browser context with one blank page, used for exactly one render."""

    context: BrowserContext
    page: Page | None = None
    visit: _Visit | None = None


class Renderer:
    """Render pages in a shared browser: a bounded pool of pages, a fresh context for each.

    Creating a context and its page costs Chromium about 150 ms, so one spare is prepared in
    the background after each render; it is still used for a single page only.
    """

    def __init__(
        self,
        browser: Browser,
        fetcher: HttpFetcher,
        *,
        pages: int = 4,
        scroll_steps: int = 8,
        timeout: float = 20.0,
        quiet: float = 0.1,
        spares: int = 1,
        resource_limits: Limits = Limits(max_bytes=5 * 1024 * 1024, deadline=10.0),
    ) -> None:
        self._browser = browser
        self._fetcher = fetcher
        self._pool = asyncio.Semaphore(pages)
        self._scroll_steps = scroll_steps
        self._timeout = timeout
        self._quiet = quiet
        self._limits = resource_limits
        self._max_spares = spares
        self._spares: list[_Slot] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def render(self, first: Response) -> Rendered:
        """Load a fetched HTML page in Chromium, run its scripts, scroll a bounded amount."""
        async with self._pool:
            try:
                async with asyncio.timeout(self._timeout + 5):
                    return await self._render(first)
            except TimeoutError as exc:
                raise Timeout(
                    f"rendering {first.final_url} took over {self._timeout:g} s; try render='never'"
                ) from exc

    async def aclose(self) -> None:
        """Close the spare contexts and wait for background work (call before closing the browser)."""
        self._closed = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        while self._spares:
            await _close_quietly(self._spares.pop().context)

    async def _new_slot(self) -> _Slot:
        context = await self._browser.new_context(
            user_agent=USER_AGENT, service_workers="block", accept_downloads=False, java_script_enabled=True
        )
        slot = _Slot(context)

        async def handle(route: Route) -> None:
            visit = slot.visit
            if visit is None:  # nothing may load before the page is handed a URL
                await _abort(route, "blockedbyclient")
                return
            visit.traffic.start()
            try:
                await self._answer(route, visit.first, visit.blocked)
            finally:
                visit.traffic.done()

        await context.route("**/*", handle)
        slot.page = await context.new_page()
        return slot

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replenish(self) -> None:
        if self._closed or len(self._spares) >= self._max_spares:
            return
        try:
            slot = await self._new_slot()
        except PlaywrightError as exc:
            log.warning("could not prepare a spare browser context: %s", exc.message.splitlines()[0])
            return
        if self._closed:
            await _close_quietly(slot.context)
        else:
            self._spares.append(slot)

    async def _render(self, first: Response) -> Rendered:
        slot = self._spares.pop() if self._spares else await self._new_slot()
        self._background(self._replenish())
        visit = slot.visit = _Visit(first)
        page = slot.page
        assert page is not None
        try:
            try:
                await page.goto(first.final_url, wait_until="load", timeout=self._timeout * 1000)
            except PlaywrightError as exc:
                raise FetchFailed(
                    f"Chromium could not load {first.final_url}: {exc.message.splitlines()[0]}"
                ) from exc
            steps, capped = 0, False
            # A page without scripts is complete at "load": nothing can arrive later or on scroll.
            if await page.evaluate("document.scripts.length > 0"):
                await visit.traffic.settle(self._quiet, cap=3.0)
                if not page.url.startswith(("http://", "https://")):
                    raise _left_page(first.final_url, visit.blocked)
                steps, capped = await self._scroll(page, visit.traffic)
            try:
                await mark_hidden(page)
            except PlaywrightError as exc:  # a page that broke its own DOM: extraction goes on unmarked
                log.warning("could not mark hidden text on %s: %s", page.url, exc.message.splitlines()[0])
            html = await page.content()
            if not page.url.startswith(("http://", "https://")):
                raise _left_page(first.final_url, visit.blocked)
            return Rendered(html, page.url, visit.blocked, steps, capped)
        finally:
            self._background(_close_quietly(slot.context))

    async def _scroll(self, page: Any, traffic: _Traffic) -> tuple[int, bool]:
        """Scroll to the bottom until the page stops growing, at most scroll_steps times."""
        height = await page.evaluate("document.documentElement.scrollHeight")
        for step in range(1, self._scroll_steps + 1):
            await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            await traffic.settle(self._quiet, cap=2.0)
            new_height = await page.evaluate("document.documentElement.scrollHeight")
            if new_height <= height:
                return step - 1, False
            height = new_height
        return self._scroll_steps, True

    async def _answer(self, route: Route, first: Response, blocked: list[str]) -> None:
        """Answer one browser request from the policy-checked fetcher, or refuse it."""
        request = route.request
        if request.resource_type not in _WANTED_TYPES:
            await _abort(route, "blockedbyclient")
            return
        if (
            request.is_navigation_request()
            and request.frame.parent_frame is None
            and request.url == first.final_url
        ):
            await _fulfill(route, first)
            return
        headers = {k: v for k, v in (await request.all_headers()).items() if k in _FORWARD_REQUEST_HEADERS}
        try:
            response = await self._fetcher.fetch(
                request.url,
                method=request.method,
                headers=headers,
                content=request.post_data_buffer,
                limits=self._limits,
                peek_pdf=False,
            )
        except PolicyRefused:
            blocked.append(request.url)
            await _abort(route, "blockedbyclient")
            return
        except (FetchFailed, Timeout, TooLarge):
            await _abort(route, "failed")
            return
        await _fulfill(route, response)


def _left_page(url: str, blocked: list[str]) -> FetchFailed:
    # A script navigated the page somewhere Chromium could not show (usually a refused URL).
    why = f"; the network policy refused {blocked[-1]}" if blocked else ""
    return FetchFailed(f"{url} navigated away while rendering{why}; try render='never'")


async def _fulfill(route: Route, response: Response) -> None:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _DROP_RESPONSE_HEADERS}
    try:
        await route.fulfill(status=response.status, headers=headers, body=response.body)
    except PlaywrightError:
        # The page went away (closed or navigated) while we fetched; nothing is waiting for this.
        return


async def _close_quietly(context: BrowserContext) -> None:
    try:
        await context.close()
    except PlaywrightError as exc:  # the browser is already gone (shutdown): nothing to free
        log.debug("closing a browser context failed: %s", exc.message)


async def _abort(route: Route, reason: str) -> None:
    try:
        await route.abort(reason)
    except PlaywrightError:
        return  # the page went away while we decided; nothing is waiting for this request
