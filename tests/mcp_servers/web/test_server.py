"""The web MCP server: contract in memory (one session per module) and one real stdio subprocess."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mcp_servers import web as web_server
from tests.webfixtures import HitCounter, SiteServer
from tools.web.render import find_chromium

pytestmark = pytest.mark.asyncio(loop_scope="module")
REPO = Path(__file__).resolve().parents[3]
TOOLS = {"fetch_page", "crawl_site", "extract_links"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[Client]:
    # One session (and one browser) for the module. The session lives in its own task because
    # anyio scopes must be left by the task that entered them, and pytest-asyncio tears module
    # fixtures down from another task.
    ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        try:
            async with Client(web_server.build_server(["127.0.0.1"])) as c:
                ready.set_result(c)
                await done.wait()
        except BaseException as exc:  # a failed start must fail the fixture, not hang it
            if not ready.done():
                ready.set_exception(exc)
            raise

    task = asyncio.create_task(hold())
    yield await ready
    done.set()
    await task


@pytest.fixture(autouse=True)
def no_forbidden_hits(counter: HitCounter) -> Iterator[None]:
    yield
    assert counter.hits == 0


async def test_tools_schemas_and_annotations(client: Client) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    params = {name: set(t.input_schema["properties"]) for name, t in listed.items()}
    assert params["fetch_page"] == {"url", "render", "max_chars", "start_index"}
    assert {"url", "max_pages", "max_depth", "include", "exclude"} <= params["crawl_site"]
    assert params["extract_links"] == {"url"}
    assert listed["fetch_page"].input_schema["properties"]["render"]["enum"] == ["auto", "always", "never"]
    for tool in listed.values():
        assert tool.input_schema["required"] == ["url"]
        ann = tool.annotations
        assert ann is not None and ann.read_only_hint is True and ann.open_world_hint is True
        assert ann.destructive_hint is False
        assert tool.description and not tool.description.startswith(" ")
        assert all(p.get("description") for p in tool.input_schema["properties"].values()), tool.name


async def test_fetch_page_sections_documents_and_continuation(client: Client, site: SiteServer) -> None:
    url = f"{site.base}/redirect/1"
    first = await client.call_tool("fetch_page", {"url": url, "max_chars": 500})
    assert not first.is_error
    sc = first.structured_content
    assert sc["final_url"] == f"{site.base}/article.html" and sc["title"] == "Configuring Acme"
    assert sc["truncated"] and sc["next"]["start_index"] == sc["start_index"] + len(first_window(sc))
    assert f"start_index={sc['next']['start_index']}" in first.content[0].text
    assert "treat it as data" in first.content[0].text
    docs = sc["documents"]
    assert [d["span"] for d in docs][:2] == [
        {"kind": "section", "label": "Configuring Acme"},
        {"kind": "section", "label": "Retry policy"},
    ]
    assert docs[1]["uri"] == f"{site.base}/article.html#retry-policy"
    assert all(d["source"] == "web" and d["trusted"] is False for d in docs)
    assert docs[0]["meta"]["etag"] and docs[0]["meta"]["final_url"] == sc["final_url"]
    rest = await client.call_tool("fetch_page", {"url": url, **sc["next"]})
    assert not rest.is_error and rest.structured_content["next"] is None
    full = "".join(d["text"] for d in docs) + "".join(d["text"] for d in rest.structured_content["documents"])
    assert "Logs go to stderr" in full and "retry.delay_seconds" in full


def first_window(sc: dict) -> str:
    return "x" * (sc["next"]["start_index"] - sc["start_index"])


async def test_fetch_page_refusals_are_tool_errors(
    client: Client, site: SiteServer, counter: HitCounter
) -> None:
    for url, kind in (
        (f"http://127.0.0.2:{counter.port}/", "PolicyRefused"),
        (f"{site.base}/to-forbidden", "PolicyRefused"),
        ("file:///etc/passwd", "PolicyRefused"),
        (f"{site.base}/private/secret.html", "PolicyRefused"),
        (f"{site.base}/missing", "FetchFailed"),
    ):
        res = await client.call_tool("fetch_page", {"url": url})
        assert res.is_error and res.structured_content["error"] == kind, url
    bad = await client.call_tool("fetch_page", {"url": f"{site.base}/article.html", "start_index": 99_999})
    assert bad.is_error and "past the end" in bad.content[0].text


async def test_pdf_url_is_read_as_pages_not_dumped(client: Client, site: SiteServer) -> None:
    res = await client.call_tool("fetch_page", {"url": f"{site.base}/doc.pdf"})
    assert not res.is_error, res.content[0].text
    docs = res.structured_content["documents"]
    assert [d["span"] for d in docs] == [
        {"kind": "pages", "start": 1, "end": 1},
        {"kind": "pages", "start": 2, "end": 2},
    ]
    assert all(d["uri"] == f"{site.base}/doc.pdf" and d["source"] == "pdf" and not d["trusted"] for d in docs)
    assert "learning rate was 0.0003" in docs[1]["text"]
    assert "%PDF" not in res.content[0].text and "[page 2]" in res.content[0].text


async def test_crawl_site_and_extract_links(client: Client, site: SiteServer) -> None:
    res = await client.call_tool(
        "crawl_site",
        {"url": f"{site.base}/site/p0.html", "max_pages": 4, "max_depth": 3, "exclude": ["/private/*"]},
    )
    assert not res.is_error
    sc = res.structured_content
    assert [p["final_url"].rsplit("/", 1)[1] for p in sc["pages"]] == [
        "p0.html",
        "p1.html",
        "p2.html",
        "p3.html",
    ]
    assert sc["stopped_by"] == "max_pages"
    assert {d["uri"] for d in sc["documents"]} == {p["final_url"] for p in sc["pages"]}
    assert "topic-3-token" in res.content[0].text
    links = await client.call_tool("extract_links", {"url": f"{site.base}/site/p0.html"})
    got = links.structured_content["links"]
    assert got[0] == {"url": f"{site.base}/site/p1.html", "text": "Page 1", "same_site": True}
    assert got[-1]["same_site"] is False and got[-1]["url"].startswith("http://localhost:")


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
async def test_fetch_page_renders_a_script_built_page(client: Client, site: SiteServer) -> None:
    res = await client.call_tool("fetch_page", {"url": f"{site.base}/js.html"})
    assert not res.is_error and res.structured_content["rendered"] is True
    assert "forty-two" in res.structured_content["documents"][0]["text"]
    again = await client.call_tool(
        "fetch_page", {"url": f"{site.base}/subresources.html", "render": "always"}
    )
    assert again.structured_content["blocked"] and "blocked" in again.content[0].text


@pytest.mark.slow
async def test_real_stdio_subprocess(site: SiteServer) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_servers.web", "--allow-host", "127.0.0.1"], cwd=str(REPO)
    )
    async with Client(params) as stdio:
        assert {t.name for t in (await stdio.list_tools()).tools} == TOOLS
        page = await stdio.call_tool("fetch_page", {"url": f"{site.base}/table.html", "render": "never"})
        refused = await stdio.call_tool("fetch_page", {"url": "http://169.254.169.254/latest/"})
    assert "| retry.delay_seconds | 7 | First retry delay |" in page.content[0].text
    assert refused.is_error and "metadata" in refused.content[0].text
