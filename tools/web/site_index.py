"""How a site lists its own pages: llms.txt, llms-full.txt and sitemap.xml.

Many documentation sites publish ``/llms.txt`` (a markdown list of the pages worth reading,
https://llmstxt.org), ``/llms-full.txt`` (the whole documentation as one markdown file) and
a sitemap. A crawl that starts from them reads the pages the site itself chose, instead of
whatever its navigation links to. Parsing is pure; ``find_index`` fetches through the
policy-checked fetcher with tight limits, since all of this is untrusted input.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

from tools.errors import TooLarge, ToolError
from tools.web.fetch import HttpFetcher, Limits, Response, Robots

INDEX_LIMITS = Limits(max_bytes=5 * 1024 * 1024, deadline=15.0, max_redirects=5)
FULL_TEXT_LIMITS = Limits(max_bytes=10 * 1024 * 1024, deadline=30.0, max_redirects=5)
MAX_SITEMAPS = 6  # child sitemaps of an index read at most
MAX_LISTED = 50_000  # URLs taken from one index file
_MD_LINK = re.compile(r"\[([^\]\n]{0,300})\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SOURCE_LINE = re.compile(r"^(?:source|url):\s*(https?://\S+)\s*$", re.I | re.M)
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True)
class Listed:
    """A page a site index names: its URL and, when the index gives them, title and note."""

    url: str
    title: str = ""
    note: str = ""


@dataclass
class SiteIndex:
    """What a site publishes about itself: where it was found and the pages it lists."""

    kind: str  # "llms.txt", "llms-full.txt" or "sitemap.xml"
    url: str
    pages: list[Listed] = field(default_factory=list)
    full_text: str = ""  # llms-full.txt: the documentation itself
    tried: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- parsing


def parse_llms_txt(text: str, base_url: str) -> list[Listed]:
    """The links of an llms.txt file, absolute, in order, each once ("- [Title](url): note")."""
    found: dict[str, Listed] = {}
    for line in text.splitlines():
        for m in _MD_LINK.finditer(line):
            url = _absolute(m.group(2), base_url)
            if url is None or url in found:
                continue
            note = line[m.end() :].strip().lstrip(":-–— ").strip()
            found[url] = Listed(url, " ".join(m.group(1).split()), note[:300])
            if len(found) >= MAX_LISTED:
                return list(found.values())
    return list(found.values())


def looks_like_llms_txt(text: str) -> bool:
    """A markdown file (not an HTML error page served with status 200) that holds links."""
    head = text.lstrip()[:512].lower()
    return not head.startswith(("<!doctype", "<html", "<?xml")) and bool(_MD_LINK.search(text))


def split_full_text(text: str, base_url: str) -> list[tuple[str, str, str]]:
    """Cut an llms-full.txt into its pages at top-level headings: (url, title, markdown).

    A page that names its own address ("Source: https://...") is cited by it; the others by
    the llms-full.txt URL with the heading's anchor.
    """
    from tools.html.extract import slugify  # the same anchors as web page sections

    parts: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and line.startswith("# "):
            parts.append((line[2:].strip(), [line]))
        elif parts:
            parts[-1][1].append(line)
        else:
            parts.append(("", [line]))
    pages: list[tuple[str, str, str]] = []
    used: dict[str, int] = {}
    for title, lines in parts:
        body = "\n".join(lines).strip()
        if not body:
            continue
        source = _SOURCE_LINE.search("\n".join(lines[:6]))
        if source:
            url = urldefrag(source.group(1))[0]
        else:
            anchor = slugify(title) if title else "introduction"
            count = used.get(anchor, 0)
            used[anchor] = count + 1
            url = f"{base_url}#{anchor}" + (f"-{count}" if count else "")
        pages.append((url, title, body))
    return pages


def parse_sitemap(data: bytes) -> tuple[list[str], list[str]]:
    """Page URLs and child-sitemap URLs of a sitemap (or sitemap index); gzip is unpacked."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, INDEX_LIMITS.max_bytes)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    pages: list[str] = []
    children: list[str] = []
    for loc in root.iter(f"{_SITEMAP_NS}loc", "loc"):
        url = (loc.text or "").strip()
        parent = loc.getparent()
        tag = etree.QName(parent).localname if parent is not None else ""
        if not url.startswith(("http://", "https://")):
            continue
        (children if tag == "sitemap" else pages).append(url)
        if len(pages) + len(children) >= MAX_LISTED:
            break
    return pages, children


def _gunzip(data: bytes, limit: int) -> bytes:
    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit + 1)
    except zlib.error:
        return b""
    if len(out) > limit:
        raise TooLarge(f"a gzipped sitemap unpacks to over {limit:,} bytes; it was not read")
    return out


def _absolute(href: str, base_url: str) -> str | None:
    url, _ = urldefrag(urljoin(base_url, href.strip()))
    return url if urlsplit(url).scheme in ("http", "https") else None


# ---------------------------------------------------------------------------- finding them


def scope_of(url: str) -> str:
    """The path prefix a crawl from url stays in: its folder ("/docs/guide/x" -> "/docs/guide/")."""
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def candidates(url: str, name: str) -> list[str]:
    """Where a site may publish `name`: next to the start URL's folder, then at the root."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    found = []
    scope = scope_of(url)
    while True:
        found.append(origin + scope + name)
        if scope == "/":
            break
        scope = scope.rstrip("/").rsplit("/", 1)[0] + "/"
    return list(dict.fromkeys(found))


async def find_index(
    fetcher: HttpFetcher, robots: Robots | None, url: str, *, sitemaps: Sequence[str] = ()
) -> SiteIndex | None:
    """Find the best index a site publishes for url: llms.txt, then llms-full.txt, then a sitemap."""
    tried: list[str] = []
    for name in ("llms.txt", "llms-full.txt"):
        for where in candidates(url, name):
            tried.append(where)
            response = await _get(
                fetcher, robots, where, INDEX_LIMITS if name == "llms.txt" else FULL_TEXT_LIMITS
            )
            if response is None:
                continue
            text = response.text()
            if name == "llms.txt" and looks_like_llms_txt(text):
                pages = parse_llms_txt(text, response.final_url)
                return SiteIndex(name, response.final_url, pages, tried=tried)
            if name == "llms-full.txt" and text.strip() and not _is_html(response):
                return SiteIndex(name, response.final_url, full_text=text, tried=tried)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    for where in [*sitemaps, origin + "/sitemap.xml", origin + "/sitemap_index.xml"]:
        if where in tried:
            continue
        tried.append(where)
        response = await _get(fetcher, robots, where, INDEX_LIMITS)
        if response is None:
            continue
        try:
            pages, children = parse_sitemap(response.body)
        except TooLarge:
            continue
        scope = scope_of(url)
        # An index: read the child sitemaps that look closest to the start URL first.
        children.sort(key=lambda u: (scope.strip("/") not in urlsplit(u).path, u))
        for child in children[:MAX_SITEMAPS]:
            tried.append(child)
            got = await _get(fetcher, robots, child, INDEX_LIMITS)
            if got is None:
                continue
            try:
                more, _ = parse_sitemap(got.body)
            except TooLarge:
                continue
            pages += more
        if pages:
            return SiteIndex(
                "sitemap.xml", response.final_url, [Listed(p) for p in dict.fromkeys(pages)], tried=tried
            )
    return None


def _is_html(response: Response) -> bool:
    return response.is_html or response.body[:512].lstrip().lower().startswith((b"<!doctype", b"<html"))


async def _get(fetcher: HttpFetcher, robots: Robots | None, url: str, limits: Limits) -> Response | None:
    """Fetch an index file; any failure means "not published here" (the crawl goes on)."""
    try:
        if robots is not None:
            await robots.check(url)
        response = await fetcher.fetch(url, limits=limits, peek_pdf=False)
    except ToolError:  # refused, failed, slow or too big: the site does not publish it for us
        return None
    if response.status != 200 or not response.body.strip():
        return None
    return response
