"""Static fetching, extraction, robots.txt, limits and crawling against a real local site."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.webfixtures import CRAWL_PAGES, HitCounter, SiteServer
from tools.errors import BinaryContent, FetchFailed, PolicyRefused, Timeout, TooLarge
from tools.web.crawl import crawl as crawl_site
from tools.web.fetch import HttpFetcher, Limits
from tools.web.netpolicy import NetPolicy
from tools.web.page import WebReader


@pytest.fixture
async def reader() -> AsyncIterator[WebReader]:
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]), limits=Limits(max_bytes=1_000_000, deadline=5.0))
    yield WebReader(fetcher)
    await fetcher.aclose()


@pytest.fixture(autouse=True)
def no_forbidden_hits(counter: HitCounter) -> Iterator[None]:
    """Every test in this module must leave the forbidden listener untouched."""
    before = counter.hits
    yield
    assert counter.hits == before == 0


async def test_article_is_clean_markdown_without_boilerplate(reader: WebReader, site: SiteServer) -> None:
    page = await reader.read(f"{site.base}/article.html")
    assert page.title == "Configuring Acme"
    assert page.method == "trafilatura" and not page.rendered
    assert "## Retry policy" in page.markdown
    assert "`retry.delay_seconds`" in page.markdown and "7 seconds" in page.markdown
    assert "delay_seconds = 7" in page.markdown  # the code block survives
    assert "- Logs go to stderr by default." in page.markdown
    for boilerplate in ("cookies", "Copyright", "newsletter", "Privacy policy"):
        assert boilerplate not in page.markdown
    assert [s.label for s in page.sections()] == ["Configuring Acme", "Retry policy", "Logging"]
    assert page.etag


async def test_table_becomes_a_markdown_table(reader: WebReader, site: SiteServer) -> None:
    page = await reader.read(f"{site.base}/table.html", render="never")
    assert "| Option | Default | Meaning |" in page.markdown
    assert "| retry.delay_seconds | 7 | First retry delay |" in page.markdown


async def test_redirect_chain_is_followed_and_final_url_reported(reader: WebReader, site: SiteServer) -> None:
    page = await reader.read(f"{site.base}/redirect/9")  # exactly 10 hops
    assert page.final_url == f"{site.base}/article.html"
    assert "Retry policy" in page.markdown


async def test_more_than_ten_redirects_stop(reader: WebReader, site: SiteServer) -> None:
    with pytest.raises(FetchFailed, match="more than 10"):
        await reader.read(f"{site.base}/redirect/10")
    with pytest.raises(FetchFailed, match="redirect loop"):
        await reader.read(f"{site.base}/loop")


@pytest.mark.parametrize("path", ["/to-forbidden", "/to-metadata", "/to-file"])
async def test_redirect_to_a_forbidden_target_is_refused_before_connecting(
    reader: WebReader, site: SiteServer, path: str
) -> None:
    with pytest.raises(PolicyRefused):
        await reader.read(site.base + path)


@pytest.mark.parametrize(
    "host", ["127.0.0.2", "0x7f.0.0.2", "2130706434", "017700000002", "127.0.0.2.", "[::ffff:127.0.0.2]"]
)
async def test_forbidden_address_in_any_spelling_gets_no_connection(
    reader: WebReader, counter: HitCounter, host: str
) -> None:
    with pytest.raises(PolicyRefused):
        await reader.read(f"http://{host}:{counter.port}/")
    with pytest.raises(PolicyRefused):
        await reader.fetcher.fetch(f"http://{host}:{counter.port}/")


async def test_dns_answers_are_checked_and_the_connection_pinned(
    site: SiteServer, counter: HitCounter
) -> None:
    answers = {
        "docs.test": ["127.0.0.1"],
        "evil.test": ["127.0.0.2"],
        "mixed.test": ["127.0.0.1", "127.0.0.2"],
    }

    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    policy = NetPolicy.of(["docs.test", "127.0.0.1"], resolver=resolver)
    fetcher = HttpFetcher(policy)
    try:
        # docs.test exists nowhere but in our resolver: success proves we connected to the
        # address we checked, while the Host header still names the site.
        response = await fetcher.fetch(f"http://docs.test:{site.port}/article.html")
        assert response.status == 200 and site.hosts[-1] == f"docs.test:{site.port}"
        for host in ("evil.test", "mixed.test"):
            with pytest.raises(PolicyRefused, match="127.0.0.2"):
                await fetcher.fetch(f"http://{host}:{counter.port}/")
    finally:
        await fetcher.aclose()


async def test_robots_txt_is_obeyed_unless_ignored(site: SiteServer) -> None:
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
    try:
        before = len(site.paths("/private/"))
        obeying = WebReader(fetcher)
        with pytest.raises(PolicyRefused, match="robots.txt .* disallows"):
            await obeying.read(f"{site.base}/private/secret.html")
        assert len(site.paths("/private/")) == before  # refused without fetching the page
        robots_before = len(site.paths("/robots.txt"))
        await obeying.read(f"{site.base}/table.html")
        assert len(site.paths("/robots.txt")) == robots_before  # fetched once per origin
        page = await WebReader(fetcher, ignore_robots=True).read(f"{site.base}/private/secret.html")
        assert "secret" in page.markdown
    finally:
        await fetcher.aclose()


async def test_a_site_that_cannot_be_reached_is_said_so_not_blamed_on_robots_txt() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]), limits=Limits(max_bytes=1_000_000, deadline=5.0))
    try:
        with pytest.raises(FetchFailed, match=rf"127\.0\.0\.1:{port} cannot be reached") as caught:
            await WebReader(fetcher).read(f"http://127.0.0.1:{port}/page.html")
        assert "robots" not in str(caught.value)
    finally:
        await fetcher.aclose()


async def test_slow_drip_aborts_at_the_total_deadline(site: SiteServer) -> None:
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]), limits=Limits(deadline=1.0))
    try:
        with pytest.raises(Timeout, match="1 s deadline"):
            await fetcher.fetch(f"{site.base}/slow")  # each byte arrives well within any read timeout
    finally:
        await fetcher.aclose()


async def test_huge_body_aborts_at_the_byte_cap_without_buffering(
    reader: WebReader, site: SiteServer
) -> None:
    with pytest.raises(TooLarge, match="over the 1,000,000 byte limit; not downloaded"):
        await reader.read(f"{site.base}/huge")  # declared length: refused before reading
    with pytest.raises(TooLarge, match="stopped reading at"):
        await reader.read(f"{site.base}/huge-stream")  # no length: counted while streaming
    assert site.huge_sent < 32 * 1024 * 1024  # the server gave up long before 200 MB


@pytest.mark.parametrize("path", ["/doc.pdf", "/download"])
async def test_pdf_is_handed_over_not_dumped(reader: WebReader, site: SiteServer, path: str) -> None:
    page = await reader.read(site.base + path)
    assert page.pdf_url == site.base + path
    assert page.markdown == "" and page.method == "pdf"


async def test_binary_and_plain_text(reader: WebReader, site: SiteServer) -> None:
    with pytest.raises(BinaryContent, match="image/png"):
        await reader.read(f"{site.base}/image.png")
    page = await reader.read(f"{site.base}/plain.txt")
    assert page.markdown == "Plain text notes.\nSecond line." and page.method == "plain"
    with pytest.raises(FetchFailed, match="HTTP 404"):
        await reader.read(f"{site.base}/missing")


async def test_crawl_is_breadth_first_same_site_and_bounded(reader: WebReader, site: SiteServer) -> None:
    images_before = len(site.paths("/image"))
    crawl = await crawl_site(reader, f"{site.base}/site/p0.html", max_pages=5, max_depth=5)
    urls = [p.final_url for p in crawl.pages]
    assert urls[:3] == [f"{site.base}/site/p{i}.html" for i in range(3)]  # level by level
    assert len(crawl.pages) + len(crawl.failures) <= 5
    assert crawl.stopped_by == "max_pages"
    assert [f["error"] for f in crawl.failures] == ["PolicyRefused"]  # robots.txt: /private/
    assert not any(h.startswith("localhost") for h in site.hosts)  # another host is another site
    assert len(site.paths("/image")) == images_before  # links to images are not followed


async def test_crawl_depth_and_patterns(reader: WebReader, site: SiteServer) -> None:
    shallow = await crawl_site(
        reader, f"{site.base}/site/p0.html", max_pages=50, max_depth=1, exclude=["/private/*"]
    )
    assert sorted(p.final_url.rsplit("/", 1)[1] for p in shallow.pages) == ["p0.html", "p1.html", "p2.html"]
    assert shallow.stopped_by == "max_depth"
    pruned = await crawl_site(
        reader,
        f"{site.base}/site/p0.html",
        max_pages=50,
        max_depth=5,
        include=["/site/*"],
        exclude=["*/p2.html"],
    )
    names = {p.final_url.rsplit("/", 1)[1] for p in pruned.pages}
    assert "p2.html" not in names and "p5.html" not in names  # p5 is reachable only through p2
    assert {"p1.html", "p3.html", "p4.html"} <= names and not pruned.failures
    assert len(names) < CRAWL_PAGES


async def test_crawl_never_exceeds_its_concurrency(counter: HitCounter) -> None:
    with SiteServer(counter.port, delay=0.05) as slow_site:
        fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
        try:
            crawl = await crawl_site(
                WebReader(fetcher, ignore_robots=True),
                f"{slow_site.base}/site/p0.html",
                use_index=False,
                max_pages=9,
                max_depth=5,
                concurrency=2,
                exclude=["/private/*"],
            )
        finally:
            await fetcher.aclose()
        assert len(crawl.pages) == 9
        assert len(slow_site.paths("/site/")) == 9
        assert slow_site.max_inflight == 2
