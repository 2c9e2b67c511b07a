"""A URL that serves a PDF: downloaded under the PDF limits, then read in a PDF worker pool."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mcp_types import CallToolResult

from mcp_servers import common
from tools.pdf.limits import PdfLimits
from tools.tool_names import ToolName
from tools.web.fetch import HttpFetcher, Limits
from tools.web.page import Page

if TYPE_CHECKING:  # pypdf loads only when a URL serves a PDF
    from tools.pdf.pool import PdfPool


class UrlPdfs:
    """PDFs served by URLs: the same PdfLimits as a local PDF, and a pool started on first use."""

    def __init__(self, fetcher: HttpFetcher, limits: PdfLimits) -> None:
        self.fetcher = fetcher
        self.limits = limits
        self._pool: PdfPool | None = None

    def pool(self) -> PdfPool:
        """Start the PDF worker pool on first use (time and memory limits for untrusted bytes)."""
        if self._pool is None:
            from tools.pdf.pool import PdfPool

            self._pool = PdfPool(self.limits)
            self._pool.start()
        return self._pool

    async def read(self, page: Page, max_chars: int, start_index: int) -> CallToolResult:
        """Download the PDF a page serves (byte cap, deadline, policy on every hop) and read its
        pages in the PDF worker pool, which bounds time and memory for these untrusted bytes."""
        assert page.pdf_url is not None
        # The fetcher's own deadline is kept when it is longer: a whole PDF is bigger than a page.
        download = Limits(
            max_bytes=self.limits.max_bytes,
            deadline=max(self.fetcher.limits.deadline, self.limits.download_deadline),
        )
        response = await self.fetcher.fetch(page.pdf_url, limits=download, peek_pdf=False)
        response.raise_for_status()
        pool = self.pool()
        read = await asyncio.to_thread(
            pool.read, name=response.final_url, data=response.body, char_budget=start_index + max_chars
        )
        return common.pdf_result(
            read, response.final_url, response.final_url, None, start_index, max_chars,
            next_base={"url": page.url}, tool=ToolName.FETCH_PAGE,
        )  # fmt: skip

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def pdf_link_result(page: Page) -> CallToolResult:
    """extract_links on a URL that serves a PDF: no links, and where to read it instead."""
    text = (
        f"{page.url} serves a PDF ({page.pdf_url}), which fetch_page does not read as text. "
        "Read it with the PDF tool (read_pdf) instead; its URL is in pdf_url."
    )
    return common.result(text, url=page.url, final_url=page.final_url, pdf_url=page.pdf_url, documents=[])
