"""Reading a whole site: the pages it lists about itself first, link-following when it lists none.

``crawl`` asks the site for its own index (``tools.web.site_index``: llms.txt, llms-full.txt,
sitemap.xml) and reads the pages it names inside the start URL's folder; without an index it
reads breadth-first from the start URL, same site only. Either way it stays within
max_pages, and the result says which way the pages were chosen.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit, urlunsplit

from tools.errors import InvalidArgument, ToolError
from tools.web.page import Page, Render, WebReader
from tools.web.site_index import Listed, SiteIndex, find_index, scope_of, split_full_text

_SKIP_EXTENSIONS = re.compile(
    r"\.(png|jpe?g|gif|svg|webp|ico|css|js|mjs|map|woff2?|ttf|otf|eot|mp[34]|webm|avi|mov|zip|gz|tgz|bz2|xz|7z|rar|exe|dmg|iso|bin)$",
    re.I,
)


@dataclass
class Crawl:
    """The result of a crawl: pages in visit order, what failed, and how pages were chosen."""

    start: str
    pages: list[Page] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    depth_reached: int = 0
    stopped_by: str = ""  # "", "max_pages", "max_depth"
    discovery: str = "links"  # "llms.txt", "llms-full.txt", "sitemap.xml" or "links"
    index_url: str | None = None  # the index file the pages came from
    listed: int = 0  # pages the index named inside the crawl's scope


async def crawl(
    reader: WebReader,
    url: str,
    *,
    max_pages: int = 20,
    max_depth: int = 2,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    concurrency: int = 4,
    render: Render = "auto",
    use_index: bool = True,
    on_page: OnPage | None = None,
) -> Crawl:
    """Read a site from url: the pages its llms.txt or sitemap lists, else breadth-first by links.

    on_page(pages read, max_pages, url) is awaited after each page (progress reports).
    """
    if max_pages < 1 or max_depth < 0 or concurrency < 1:
        raise InvalidArgument("max_pages and concurrency must be >= 1 and max_depth >= 0")
    reader.fetcher.policy.check_url(url)
    result = Crawl(start=url)
    progress = _Progress(on_page, max_pages)
    index = None
    if use_index and max_depth > 0:
        sitemaps = await reader.sitemaps_of(url)
        index = await find_index(reader.fetcher, reader.robots, url, sitemaps=sitemaps)
    if index is not None and index.kind == "llms-full.txt":
        return _from_full_text(result, index, max_pages)
    if index is not None:
        chosen = _choose(url, index.pages, include, exclude)
        if chosen:
            result.discovery, result.index_url, result.listed = index.kind, index.url, len(chosen)
            await _read_listed(reader, result, chosen, max_pages, concurrency, render, progress)
            return result
    await _follow_links(
        reader, result, url, max_pages, max_depth, include, exclude, concurrency, render, progress
    )
    return result


def _choose(start: str, listed: list[Listed], include: Sequence[str], exclude: Sequence[str]) -> list[Listed]:
    """The listed pages of the start URL's site and folder (the start page first), filtered."""
    site, scope = _site(start), scope_of(start)
    inside = [
        item
        for item in listed
        if _site(item.url) == site
        and urlsplit(item.url).path.startswith(scope)
        and not _SKIP_EXTENSIONS.search(urlsplit(item.url).path)
        and url_matches(item.url, include, exclude)
    ]
    start_key = normalize_url(start)
    rest = [item for item in inside if normalize_url(item.url) != start_key]
    return [Listed(start), *rest]


async def _read_listed(
    reader: WebReader,
    result: Crawl,
    chosen: list[Listed],
    max_pages: int,
    concurrency: int,
    render: Render,
    progress: _Progress,
) -> None:
    batch = chosen[:max_pages]
    if len(chosen) > max_pages:
        result.stopped_by = "max_pages"
    result.depth_reached = 1
    outcomes = await _read_all(reader, [item.url for item in batch], concurrency, render, progress)
    for item, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, ToolError):
            result.failures.append(
                {"url": item.url, "error": type(outcome).__name__, "message": str(outcome)}
            )
            continue
        if outcome.method == "plain" and item.title:
            outcome.title = item.title  # a markdown page named by the index: the index names it better
        result.pages.append(outcome)


def _from_full_text(result: Crawl, index: SiteIndex, max_pages: int) -> Crawl:
    """llms-full.txt: the documentation in one file, cut into its pages (each cited by its own URL)."""
    result.discovery, result.index_url = index.kind, index.url
    pieces = split_full_text(index.full_text, index.url)
    result.listed = len(pieces)
    if len(pieces) > max_pages:
        result.stopped_by = "max_pages"
    for url, title, markdown in pieces[:max_pages]:
        result.pages.append(
            Page(url=url, final_url=url, title=title or url, markdown=markdown, method="llms-full.txt")
        )
    result.depth_reached = 1
    return result


OnPage = Callable[[int, int, str], Awaitable[None]]


@dataclass
class _Progress:
    """Counts pages read across a crawl's batches and reports each one."""

    on_page: OnPage | None
    total: int
    done: int = 0

    async def read(self, url: str) -> None:
        self.done += 1
        if self.on_page is not None:
            await self.on_page(self.done, self.total, url)


async def _read_all(
    reader: WebReader, urls: list[str], concurrency: int, render: Render, progress: _Progress
) -> list[Page | ToolError]:
    gate = asyncio.Semaphore(concurrency)

    async def visit(target: str) -> Page | ToolError:
        async with gate:
            try:
                return await reader.read(target, render)
            except ToolError as exc:
                return exc
            finally:
                await progress.read(target)

    return await asyncio.gather(*(visit(u) for u in urls))


async def _follow_links(
    reader: WebReader,
    result: Crawl,
    url: str,
    max_pages: int,
    max_depth: int,
    include: Sequence[str],
    exclude: Sequence[str],
    concurrency: int,
    render: Render,
    progress: _Progress,
) -> None:
    """Breadth-first from url, same site only, within page and depth limits."""
    frontier, seen, site, attempted = [url], {normalize_url(url)}, None, 0
    for depth in range(max_depth + 1):
        batch = frontier[: max_pages - attempted]
        attempted += len(batch)
        result.depth_reached = depth
        outcomes = await _read_all(reader, batch, concurrency, render, progress)
        frontier = []
        for target, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, ToolError):
                result.failures.append(
                    {"url": target, "error": type(outcome).__name__, "message": str(outcome)}
                )
                continue
            result.pages.append(outcome)
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
            return
        if attempted >= max_pages:
            result.stopped_by = "max_pages"
            return
    result.stopped_by = "max_depth" if frontier else ""


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
