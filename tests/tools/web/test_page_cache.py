"""The web reader's session cache: conditional requests and no re-extraction of unchanged bodies."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.web.fetch import HttpFetcher
from tools.web.netpolicy import NetPolicy
from tools.web.page import WebReader

BODY = (
    b"<html><head><title>Cached</title></head><body><main><h1>Cached page</h1>"
    b"<p>The retry delay is configured in acme.toml under retry.delay_seconds; this page is long "
    b"enough for the extractor to treat it as main content of an article.</p></main></body></html>"
)


class _Site:
    def __init__(self, *, etag: bool) -> None:
        self.etag = etag
        self.requests: list[dict[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.requests.append({k.lower(): v for k, v in self.headers.items()})
                if site.etag and self.headers.get("if-none-match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(BODY)))
                if site.etag:
                    self.send_header("etag", '"v1"')
                    self.send_header("last-modified", "Wed, 21 Oct 2026 07:28:00 GMT")
                self.end_headers()
                self.wfile.write(BODY)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/page.html"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("etag", [True, False])
async def test_second_read_is_conditional_or_reuses_extraction(etag: bool, monkeypatch: pytest.MonkeyPatch):
    site = _Site(etag=etag)
    fetcher = HttpFetcher(NetPolicy.of(["127.0.0.1"]))
    reader = WebReader(fetcher, ignore_robots=True)
    calls = []
    original = reader._extract

    async def counting(html: str, url: str):  # count our own extraction calls, not a library's
        calls.append(url)
        return await original(html, url)

    monkeypatch.setattr(reader, "_extract", counting)
    try:
        first = await reader.read(site.url, render="never")
        second = await reader.read(site.url, render="never")
    finally:
        await fetcher.aclose()
        site.close()
    assert "retry.delay_seconds" in first.markdown and second.markdown == first.markdown
    assert len(calls) == 1  # the unchanged page was extracted once
    if etag:
        assert site.requests[1].get("if-none-match") == '"v1"'
        assert "if-modified-since" in site.requests[1]
        assert any("HTTP 304" in n for n in second.notes)
    else:
        assert "if-none-match" not in site.requests[1]
