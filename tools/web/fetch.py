"""The one way forage fetches over HTTP: policy-checked hops, pinned connections, caps, robots.txt.

Every byte forage reads from the network comes through ``HttpFetcher``: the URL policy is
checked on every redirect hop, connections are pinned to checked addresses
(``tools.web.netpolicy``), bodies are streamed against a byte cap, and each fetch has a total
deadline (a server that drips one byte a second cannot hold us past it).
"""

from __future__ import annotations

import asyncio
import codecs
import re
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from tools.errors import FetchFailed, PolicyRefused, Timeout, TooLarge
from tools.web.netpolicy import NetPolicy, PinnedTransport

USER_AGENT = "forage/0.1 (+https://github.com/forage; context-gathering agent)"
ROBOTS_AGENT = "forage"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


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


@dataclass(frozen=True)
class _Unreachable:
    """robots.txt got no answer at all: the site itself cannot be reached."""

    why: str


class Robots:
    """robots.txt rules per origin, fetched once through the same fetcher (RFC 9309)."""

    def __init__(self, fetcher: HttpFetcher, agent: str = ROBOTS_AGENT) -> None:
        self._fetcher = fetcher
        self._agent = agent
        self._rules: dict[str, urllib.robotparser.RobotFileParser | str | _Unreachable] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _rules_for(self, url: str) -> urllib.robotparser.RobotFileParser | str | _Unreachable:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._rules:
                self._rules[origin] = await self._load(origin)
        return self._rules[origin]

    async def sitemaps(self, url: str) -> list[str]:
        """The sitemaps robots.txt of url's site names (``Sitemap:`` lines)."""
        rules = await self._rules_for(url)
        if isinstance(rules, str | _Unreachable):
            return []
        return [urljoin(url, found.strip()) for found in rules.site_maps() or []]

    async def check(self, url: str) -> None:
        """Raise PolicyRefused when robots.txt disallows the URL for forage."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = await self._rules_for(url)
        if isinstance(rules, _Unreachable):  # the page would fail the same way: say what is wrong
            raise FetchFailed(f"{origin} cannot be reached ({rules.why}); check the address and the network")
        if isinstance(rules, str):
            raise PolicyRefused(
                f"robots.txt of {origin} could not be read ({rules}), so the site counts as closed "
                "to robots; use --ignore-robots if you have the right to read it"
            )
        if not rules.can_fetch(self._agent, url):
            raise PolicyRefused(
                f"robots.txt of {origin} disallows {url} for crawlers; pick another page, or use "
                "--ignore-robots if you have the right to read it"
            )

    async def _load(self, origin: str) -> urllib.robotparser.RobotFileParser | str | _Unreachable:
        parser = urllib.robotparser.RobotFileParser()
        try:
            response = await self._fetcher.fetch(
                origin + "/robots.txt", limits=Limits(max_bytes=512 * 1024, deadline=10.0, max_redirects=5)
            )
        except FetchFailed as exc:
            if isinstance(exc.__cause__, httpx.TransportError):  # no answer at all: DNS, refused, reset
                return _Unreachable(str(exc.__cause__) or type(exc.__cause__).__name__)
            return str(exc)
        except (Timeout, TooLarge, PolicyRefused) as exc:
            return str(exc)
        if response.status >= 500:
            return f"HTTP {response.status}"
        if response.status >= 400:  # RFC 9309: 4xx means no rules
            parser.parse([])
        else:
            parser.parse(response.text().splitlines())
        return parser
