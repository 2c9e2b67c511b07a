"""A crawl reads the pages a site lists about itself (llms.txt, llms-full.txt, sitemap.xml) first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.docsite import FULL_SITE, LLMS_SITE, SITEMAP_SITE, serve
from tools.web.crawl import crawl
from tools.web.fetch import HttpFetcher
from tools.web.netpolicy import NetPolicy
from tools.web.page import WebReader
from tools.web.site_index import parse_llms_txt, parse_sitemap, split_full_text


@pytest.fixture
async def reader() -> AsyncIterator[WebReader]:
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
    yield WebReader(fetcher)
    await fetcher.aclose()


async def test_llms_txt_chooses_the_pages_inside_the_docs_folder(reader: WebReader, tmp_path) -> None:
    with serve(tmp_path, LLMS_SITE) as site:
        result = await crawl(reader, f"{site.base}/docs/", max_pages=10)
    assert result.discovery == "llms.txt" and result.index_url == f"{site.base}/docs/llms.txt"
    urls = [p.final_url for p in result.pages]
    assert urls == [
        f"{site.base}/docs/",
        *(f"{site.base}/docs/{p}" for p in ("install.html", "retry.md", "guide/api.html")),
    ]
    retry = result.pages[2]
    assert retry.title == "Retry policy" and "retry.delay_seconds" in retry.markdown  # titled by the index
    assert not any("/blog/" in r for r in site.requests)  # outside the start folder: not read


async def test_max_pages_bounds_an_index_crawl(reader: WebReader, tmp_path) -> None:
    with serve(tmp_path, LLMS_SITE) as site:
        result = await crawl(reader, f"{site.base}/docs/", max_pages=2)
    assert len(result.pages) == 2 and result.stopped_by == "max_pages" and result.listed == 4


async def test_sitemap_named_by_robots_txt_through_an_index_and_gzip(reader: WebReader, tmp_path) -> None:
    with serve(tmp_path, SITEMAP_SITE) as site:
        result = await crawl(reader, f"{site.base}/docs/index.html", max_pages=10)
    assert result.discovery == "sitemap.xml" and result.index_url == f"{site.base}/sitemaps/index.xml"
    names = [p.final_url.rsplit("/", 1)[1] for p in result.pages]
    assert names == ["index.html", "retry.html", "logging.html"]  # /shop/ is outside the docs folder


async def test_llms_full_txt_becomes_one_page_per_section_cited_by_its_source(
    reader: WebReader, tmp_path
) -> None:
    with serve(tmp_path, FULL_SITE) as site:
        result = await crawl(reader, f"{site.base}/docs/index.html")
    assert result.discovery == "llms-full.txt"
    assert [p.final_url for p in result.pages] == [
        f"{site.base}/docs/install",
        f"{site.base}/docs/retry",
        f"{site.base}/llms-full.txt#logging",
    ]
    assert "# not a heading inside code" in result.pages[1].markdown


async def test_without_an_index_the_crawl_follows_links(reader: WebReader, tmp_path) -> None:
    files = {"docs/a.html": '<html><body><a href="b.html">b</a><p>Page a.</p></body></html>',
             "docs/b.html": "<html><body><p>Page b.</p></body></html>"}  # fmt: skip
    with serve(tmp_path, files) as site:
        result = await crawl(reader, f"{site.base}/docs/a.html")
        assert result.discovery == "links" and len(result.pages) == 2
        # An HTML error page served as llms.txt is not an index.
        (tmp_path / "docs" / "llms.txt").write_text("<!doctype html><html><body>Not found</body></html>")
        assert (await crawl(reader, f"{site.base}/docs/a.html")).discovery == "links"
        assert (await crawl(reader, f"{site.base}/docs/a.html", use_index=False)).discovery == "links"


def test_index_parsers_are_strict_about_what_they_take() -> None:
    listed = parse_llms_txt(
        "- [A](a.md): first\n- [B](https://x.org/b) \n- [bad](javascript:x)\n- [A](a.md)",
        "https://x.org/docs/llms.txt",
    )
    assert [(item.url, item.title, item.note) for item in listed] == [
        ("https://x.org/docs/a.md", "A", "first"),
        ("https://x.org/b", "B", ""),
    ]
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><urlset><url><loc>https://x.org/&b;</loc></url></urlset>'
    pages, _ = parse_sitemap(bomb)
    assert all("aaaa" not in p for p in pages)  # entities are not expanded
    assert (
        split_full_text("intro\n# Part\ntext", "https://x.org/llms-full.txt")[1][0]
        == "https://x.org/llms-full.txt#part"
    )
