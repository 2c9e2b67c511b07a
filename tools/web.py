"""Reading the web: a policy-checked static fetch, robots.txt, extraction, rendering, crawling.

Every byte forage reads from the network comes through ``HttpFetcher``: the URL policy is
checked on every redirect hop, connections are pinned to checked addresses
(``tools.netpolicy``), bodies are streamed against a byte cap, and each fetch has a total
deadline (a server that drips one byte a second cannot hold us past it).
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import fnmatch
import hashlib
import logging
import re
import urllib.robotparser
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import httpx

from tools.errors import (
    BinaryContent,
    FetchFailed,
    InvalidArgument,
    PolicyRefused,
    Timeout,
    TooLarge,
    ToolError,
)
from tools.html_extract import Extracted, Link, Section, extract_html, needs_rendering, split_sections
from tools.netpolicy import NetPolicy, PinnedTransport

if TYPE_CHECKING:
    from tools.web_render import Renderer

log = logging.getLogger(__name__)

USER_AGENT = "forage/0.1 (+https://github.com/forage; context-gathering agent)"
ROBOTS_AGENT = "forage"
Render = Literal["auto", "always", "never"]
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-yaml", "application/yaml")
_SKIP_EXTENSIONS = re.compile(
    r"\.(png|jpe?g|gif|svg|webp|ico|css|js|mjs|map|woff2?|ttf|otf|eot|mp[34]|webm|avi|mov|zip|gz|tgz|bz2|xz|7z|rar|exe|dmg|iso|bin)$",
    re.I,
)


@dataclass(frozen=True)
class Limits:
    """Per-fetch limits: a byte cap on the (decoded) body, a total deadline, redirect hops."""

    max_bytes: int = 10 * 1024 * 1024
    deadline: float = 30.0
    max_redirects: int = 10


@dataclass
class Response:
    """A fetched response: the body is complete (within the byte cap) unless ``peeked``."""

    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes
    redirects: tuple[str, ...] = ()
    peeked: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf" or self.body[:1024].lstrip().startswith(b"%PDF-")

    @property
    def is_html(self) -> bool:
        if self.content_type in _HTML_TYPES:
            return True
        head = self.body[:1024].lstrip().lower()
        return not self.content_type and (head.startswith(b"<!doctype html") or head.startswith(b"<html"))

    def text(self) -> str:
        """Decode the body: header charset, then <meta charset>, then UTF-8 (bad bytes replaced)."""
        for candidate in (_header_charset(self.headers.get("content-type", "")), _meta_charset(self.body)):
            if candidate:
                try:
                    return self.body.decode(codecs.lookup(candidate).name, errors="replace")
                except LookupError:
                    continue
        return self.body.decode("utf-8", errors="replace")

    def raise_for_status(self) -> None:
        if self.status >= 400:
            hint = "check the URL" if self.status in (404, 410) else "try again later or another URL"
            raise FetchFailed(f"{self.final_url} answered HTTP {self.status}; {hint}")


def _header_charset(content_type: str) -> str | None:
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    return m.group(1) if m else None


def _meta_charset(body: bytes) -> str | None:
    m = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.I)
    return m.group(1).decode("ascii") if m else None


class HttpFetcher:
    """The one way forage fetches over HTTP: policy on every hop, pinned connections, caps."""

    def __init__(
        self,
        policy: NetPolicy,
        *,
        limits: Limits = Limits(),
        per_host: int = 6,
        user_agent: str = USER_AGENT,
        verify_tls: bool = True,
    ) -> None:
        self.policy = policy
        self.limits = limits
        self._per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(policy, verify=verify_tls),
            follow_redirects=False,
            timeout=httpx.Timeout(limits.deadline),
            headers={"user-agent": user_agent, "accept-language": "en;q=1.0, *;q=0.5"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._slots:
            self._slots[host] = asyncio.Semaphore(self._per_host)
        return self._slots[host]

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        limits: Limits | None = None,
        peek_pdf: bool = True,
    ) -> Response:
        """Fetch a URL, following (and re-checking) redirects; return any HTTP status."""
        limits = limits or self.limits
        try:
            async with asyncio.timeout(limits.deadline):
                return await self._follow(url, method, headers or {}, content, limits, peek_pdf)
        except TimeoutError as exc:
            raise Timeout(
                f"{url} did not finish within the {limits.deadline:g} s deadline; the server is too "
                "slow. Try again later or a different page"
            ) from exc
        except httpx.TimeoutException as exc:
            raise Timeout(f"{url} timed out ({type(exc).__name__}); try again later") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{url} could not be fetched: {exc or type(exc).__name__}") from exc

    async def _follow(
        self,
        url: str,
        method: str,
        headers: dict[str, str],
        content: bytes | None,
        limits: Limits,
        peek_pdf: bool,
    ) -> Response:
        current = url
        hops: list[str] = []
        while True:
            self.policy.check_url(current)
            request = self._client.build_request(method, current, headers=headers, content=content)
            async with self._slot(current):
                response = await self._client.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        target, _ = urldefrag(urljoin(current, location.strip()))
                        if len(hops) >= limits.max_redirects:
                            raise FetchFailed(
                                f"{url} redirected more than {limits.max_redirects} times (last: {target}); "
                                "it may be a redirect loop"
                            )
                        hops.append(target)
                        if response.status_code in (301, 302, 303) and method != "HEAD":
                            method, content = "GET", None
                        current = target
                        continue
                    body, peeked = await _read_capped(response, current, limits.max_bytes, peek_pdf)
                finally:
                    await response.aclose()
            return Response(url, current, response.status_code, response.headers, body, tuple(hops), peeked)


async def _read_capped(
    response: httpx.Response, url: str, max_bytes: int, peek_pdf: bool
) -> tuple[bytes, bool]:
    """Read a streamed body, refusing to hold more than max_bytes (a PDF is only peeked at)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in response.headers:
        raise TooLarge(f"{url} is {int(declared):,} bytes, over the {max_bytes:,} byte limit; not downloaded")
    pdf = peek_pdf and response.headers.get("content-type", "").lower().startswith("application/pdf")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if pdf or (peek_pdf and size >= 5 and chunks[0][:5] == b"%PDF-"):
            return b"".join(chunks)[:4096], True
        if size > max_bytes:
            raise TooLarge(
                f"{url} is over the {max_bytes:,} byte limit; stopped reading at {size:,} bytes. "
                "Ask for a smaller page"
            )
    return b"".join(chunks), False


class Robots:
    """robots.txt rules per origin, fetched once through the same fetcher (RFC 9309)."""

    def __init__(self, fetcher: HttpFetcher, agent: str = ROBOTS_AGENT) -> None:
        self._fetcher = fetcher
        self._agent = agent
        self._rules: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, url: str) -> None:
        """Raise PolicyRefused when robots.txt disallows the URL for forage."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._rules:
                self._rules[origin] = await self._load(origin)
        rules = self._rules[origin]
        if isinstance(rules, str):
            raise PolicyRefused(
                f"robots.txt of {origin} could not be read ({rules}), so the site counts as closed "
                "to robots; start the web server with --ignore-robots if you have the right to read it"
            )
        if not rules.can_fetch(self._agent, url):
            raise PolicyRefused(
                f"robots.txt of {origin} disallows {url} for crawlers; pick another page, or start "
                "the web server with --ignore-robots if you have the right to read it"
            )

    async def _load(self, origin: str) -> urllib.robotparser.RobotFileParser | str:
        parser = urllib.robotparser.RobotFileParser()
        try:
            response = await self._fetcher.fetch(
                origin + "/robots.txt", limits=Limits(max_bytes=512 * 1024, deadline=10.0, max_redirects=5)
            )
        except (FetchFailed, Timeout, TooLarge, PolicyRefused) as exc:
            return str(exc)
        if response.status >= 500:
            return f"HTTP {response.status}"
        if response.status >= 400:  # RFC 9309: 4xx means no rules
            parser.parse([])
        else:
            parser.parse(response.text().splitlines())
        return parser


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

    def sections(self) -> list[Section]:
        return split_sections(self.markdown, self.title)


@dataclass
class Crawl:
    """The result of a breadth-first crawl: pages in visit order, and what failed."""

    start: str
    pages: list[Page] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    depth_reached: int = 0
    stopped_by: str = ""  # "", "max_pages", "max_depth"


RendererSource = Callable[[], Awaitable["Renderer"]]


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
        page.title, page.markdown, page.links, page.method = (
            extracted.title,
            extracted.markdown,
            extracted.links,
            extracted.method,
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
        result = await self._extract(rendered.html, rendered.final_url)
        if not required and len(result.markdown) < len(static.markdown):
            return static  # rendering found less than the static HTML had: keep the richer text
        return result

    async def _extract(self, html: str, url: str) -> Extracted:
        if self._pool is None:
            return await asyncio.to_thread(extract_html, html, url)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, extract_html, html, url)
        except BrokenProcessPool:
            # A worker died (out of memory on a pathological page, or killed): say so, then
            # extract in this process so the page is still read.
            log.warning("the extraction worker pool is broken; extracting %s in-process", url)
            return await asyncio.to_thread(extract_html, html, url)

    async def crawl(
        self,
        url: str,
        *,
        max_pages: int = 20,
        max_depth: int = 2,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        concurrency: int = 4,
        render: Render = "auto",
    ) -> Crawl:
        """Read a site breadth-first from url: same host only, within page and depth limits."""
        if max_pages < 1 or max_depth < 0 or concurrency < 1:
            raise InvalidArgument("max_pages and concurrency must be >= 1 and max_depth >= 0")
        self.fetcher.policy.check_url(url)
        crawl = Crawl(start=url)
        gate = asyncio.Semaphore(concurrency)

        async def visit(target: str) -> Page | ToolError:
            async with gate:
                try:
                    return await self.read(target, render)
                except ToolError as exc:
                    return exc

        frontier, seen, site, attempted = [url], {normalize_url(url)}, None, 0
        for depth in range(max_depth + 1):
            batch = frontier[: max_pages - attempted]
            attempted += len(batch)
            crawl.depth_reached = depth
            results = await asyncio.gather(*(visit(u) for u in batch))
            frontier = []
            for target, outcome in zip(batch, results, strict=True):
                if isinstance(outcome, ToolError):
                    crawl.failures.append(
                        {"url": target, "error": type(outcome).__name__, "message": str(outcome)}
                    )
                    continue
                crawl.pages.append(outcome)
                site = site or _site(outcome.final_url)
                seen.add(normalize_url(outcome.final_url))
                for link in outcome.links:
                    key = normalize_url(link.url)
                    if key in seen or _site(link.url) != site or _SKIP_EXTENSIONS.search(urlsplit(key).path):
                        continue
                    if not url_matches(link.url, include, exclude):
                        continue
                    seen.add(key)
                    frontier.append(link.url)
            if not frontier:
                break
            if attempted >= max_pages:
                crawl.stopped_by = "max_pages"
                break
        else:
            crawl.stopped_by = "max_depth" if frontier else ""
        return crawl


def _looks_textual(body: bytes) -> bool:
    sample = body[:2048]
    return (
        bool(sample)
        and b"\x00" not in sample
        and sample.decode("utf-8", errors="replace").count("\ufffd") < 4
    )


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    port = urlsplit(url).port
    host = host.removeprefix("www.")
    return f"{host}:{port}" if port else host


def normalize_url(url: str) -> str:
    """Canonical form for de-duplication: no fragment, lower-case scheme and host, no default port."""
    parts = urlsplit(urldefrag(url)[0])
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


def url_matches(url: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Apply include/exclude glob patterns; a pattern starting with '/' matches the path only."""

    def hit(pattern: str) -> bool:
        parts = urlsplit(url)
        subject = (
            (parts.path + (f"?{parts.query}" if parts.query else "")) if pattern.startswith("/") else url
        )
        return fnmatch.fnmatchcase(subject, pattern)

    if include and not any(hit(p) for p in include):
        return False
    return not any(hit(p) for p in exclude)
