"""Reading one web page: robots.txt, a policy-checked fetch, extraction and (when needed) rendering.

``WebReader.read`` fetches through ``tools.web.fetch.HttpFetcher``, extracts the main content
with ``tools.html.extract`` (in a worker pool when given one) and renders script-built pages
in Chromium through a ``tools.web.render.Renderer``. Crawling a whole site is ``tools.web.crawl``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from tools.errors import BinaryContent, FetchFailed, InvalidArgument, Timeout, ToolError
from tools.html.extract import Extracted, Link, Section, extract_html, needs_rendering, split_sections
from tools.web.fetch import HttpFetcher, Response, Robots
from tools.web.render import Renderer

log = logging.getLogger(__name__)

Render = Literal["auto", "always", "never"]
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-yaml", "application/yaml")

SESSION_CACHE_PAGES = 512


@dataclass
class Page:
    """One web page read as markdown, or a pointer to a PDF it serves."""

    url: str
    final_url: str
    title: str = ""
    markdown: str = ""
    links: list[Link] = field(default_factory=list)
    method: str = ""  # trafilatura, fulltext, plain, pdf
    rendered: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    pdf_url: str | None = None
    blocked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hidden: dict[str, Any] | None = None  # text dropped as invisible to a reader (tools.html.hidden)

    def sections(self) -> list[Section]:
        return split_sections(self.markdown, self.title)


RendererSource = Callable[[], Awaitable[Renderer]]


class WebReader:
    """Read pages, links and sites, applying robots.txt, extraction and (when needed) rendering."""

    def __init__(
        self,
        fetcher: HttpFetcher,
        *,
        ignore_robots: bool = False,
        renderer: RendererSource | None = None,
        extract_pool: Executor | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.robots = None if ignore_robots else Robots(fetcher)
        self._renderer = renderer
        self._pool = extract_pool
        # Session cache: pages by (url, render) for conditional requests (ETag/Last-Modified),
        # and by (body hash, render) so an unchanged body is not extracted or rendered again.
        self._by_url: dict[tuple[str, str], Page] = {}
        self._by_hash: dict[tuple[str, str], Page] = {}

    async def read(self, url: str, render: Render = "auto") -> Page:
        """Fetch one page and extract it as markdown (rendering it in Chromium when needed)."""
        if render not in ("auto", "always", "never"):
            raise InvalidArgument(f"render={render!r} is not one of 'auto', 'always', 'never'")
        url = url.strip()
        self.fetcher.policy.check_url(url)
        if self.robots:
            await self.robots.check(url)
        headers = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        cached = self._by_url.get((url, render))
        if cached is not None and cached.etag:
            headers["if-none-match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["if-modified-since"] = cached.last_modified
        response = await self.fetcher.fetch(url, headers=headers)
        if cached is not None and response.status == 304:
            return dataclasses.replace(
                cached, notes=[*cached.notes, "unchanged since the last fetch (HTTP 304)"]
            )
        response.raise_for_status()
        if self.robots and response.final_url != url:
            await self.robots.check(response.final_url)
        key = (hashlib.sha256(response.body).hexdigest(), render)
        same = self._by_hash.get(key)
        if same is not None and same.final_url == response.final_url:
            page = dataclasses.replace(
                same,
                url=url,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
            self._by_url[(url, render)] = page
            return page
        page = await self._read_response(url, response, render)
        if not page.pdf_url:
            self._by_url[(url, render)] = page
            self._by_hash[key] = page
            for cache in (self._by_url, self._by_hash):
                while len(cache) > SESSION_CACHE_PAGES:  # bounded: drop the oldest entries
                    cache.pop(next(iter(cache)))
        return page

    async def _read_response(self, url: str, response: Response, render: Render) -> Page:
        page = Page(
            url=url,
            final_url=response.final_url,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            content_type=response.content_type,
        )
        if response.is_pdf:
            page.method, page.pdf_url = "pdf", response.final_url
            return page
        if not response.is_html:
            if response.content_type.startswith(_TEXT_TYPES) or _looks_textual(response.body):
                page.markdown, page.method = response.text().strip(), "plain"
                page.title = urlsplit(response.final_url).path.rsplit("/", 1)[-1] or response.final_url
                return page
            raise BinaryContent(
                f"{response.final_url} serves {response.content_type or 'binary data'}, not a web page "
                "or text; forage cannot read it"
            )
        extracted = await self._extract(response.text(), response.final_url)
        if render == "always" or (render == "auto" and needs_rendering(extracted)):
            extracted = await self._render_into(page, response, extracted, required=render == "always")
        page.title, page.markdown, page.links, page.method, page.hidden = (
            extracted.title,
            extracted.markdown,
            extracted.links,
            extracted.method,
            extracted.hidden,
        )
        if not page.markdown:
            page.notes.append("the page has no readable text")
        return page

    async def _render_into(
        self, page: Page, response: Response, static: Extracted, *, required: bool
    ) -> Extracted:
        if self._renderer is None:
            if required:
                raise ToolError(
                    "rendering is off in this web server (no Chromium); install it with "
                    "`apt-get install chromium` or pass --chromium PATH, or call with render='never'"
                )
            page.notes.append(
                "the page looks script-built, but rendering is off (no Chromium); static text shown"
            )
            return static
        renderer = await self._renderer()
        try:
            rendered = await renderer.render(response)
        except (FetchFailed, Timeout) as exc:
            if required:
                raise
            page.notes.append(f"rendering failed ({exc}); static text shown")
            return static
        page.rendered, page.final_url, page.blocked = True, rendered.final_url, rendered.blocked
        if rendered.scroll_steps_capped:
            page.notes.append(f"endless scroll stopped after {rendered.scroll_steps} steps")
        result = await self._extract(rendered.html, rendered.final_url, rendered=True)
        if not required and len(result.markdown) < len(static.markdown):
            return static  # rendering found less than the static HTML had: keep the richer text
        return result

    async def sitemaps_of(self, url: str) -> list[str]:
        """The sitemaps the site's robots.txt names (none when robots.txt is ignored)."""
        return await self.robots.sitemaps(url) if self.robots else []

    async def _extract(self, html: str, url: str, *, rendered: bool = False) -> Extracted:
        job = functools.partial(extract_html, html, url, rendered=rendered)
        if self._pool is None:
            return await asyncio.to_thread(job)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, job)
        except BrokenProcessPool:
            # A worker died (out of memory on a pathological page, or killed): say so, then
            # extract in this process so the page is still read.
            log.warning("the extraction worker pool is broken; extracting %s in-process", url)
            return await asyncio.to_thread(job)


def _looks_textual(body: bytes) -> bool:
    sample = body[:2048]
    return (
        bool(sample)
        and b"\x00" not in sample
        and sample.decode("utf-8", errors="replace").count("\ufffd") < 4
    )
