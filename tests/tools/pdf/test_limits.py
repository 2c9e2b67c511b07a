"""One PdfLimits for every path: `forage pack` (in-process), the pdf server (`forage ask`), a PDF behind a URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.gather.sources import Source
from agent.mcp.server_configs import server_configs
from agent.session.direct import pack_direct
from agent.settings import Settings
from mcp_servers.pdf import server as pdf_server
from mcp_servers.web import server as web_server
from mcp_servers.web.pdf_url import UrlPdfs
from tests import pdffixtures
from tools.errors import InvalidArgument
from tools.pdf import pool as pool_module
from tools.pdf.limits import PdfLimits


def _pack_limits(monkeypatch: pytest.MonkeyPatch, folder: Path, settings: Settings) -> list[PdfLimits]:
    """The limits `forage pack` starts its PDF pool with (a real pool, recorded on the way)."""
    seen: list[PdfLimits] = []

    class Recording(pool_module.PdfPool):
        def __init__(self, limits: PdfLimits = PdfLimits(), **kw: Any) -> None:
            seen.append(limits)
            super().__init__(limits, **kw)

    monkeypatch.setattr(pool_module, "PdfPool", Recording)
    result = pack_direct("what is in the paper?", [str(folder)], settings)
    assert result is not None and "Attention" in result.pack.text
    return seen


def _server_limits(settings: Settings, root: Path) -> dict[str, PdfLimits]:
    """The limits the pdf and web servers start with, parsed from the command lines forage gives them."""
    configs = server_configs(settings, [Source(str(root), "folder", str(root))], roots=[str(root)])
    return {
        "pdf": pdf_server.parse_args(list(configs["pdf"].args[2:]))[1],
        "web": web_server.parse_args(list(configs["web"].args[2:]))[1],
    }


@pytest.mark.parametrize("changed", [False, True])
def test_every_path_reads_a_pdf_under_the_same_limits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, changed: bool
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    pdffixtures.text_pdf(folder / "paper.pdf", ["Attention is what the paper is about."])
    values = {"pdf_deadline": 45.0, "pdf_memory_mb": 700} if changed else {}
    settings = Settings(data_dir=tmp_path / "data", model="extractive", **values)
    expected = settings.pdf_limits()
    assert (expected == PdfLimits()) is not changed
    assert _pack_limits(monkeypatch, folder, settings) == [expected]
    assert _server_limits(settings, folder) == {"pdf": expected, "web": expected}


def test_servers_run_by_hand_default_to_the_same_limits(tmp_path: Path) -> None:
    assert pdf_server.parse_args([str(tmp_path)])[1] == PdfLimits()
    assert web_server.parse_args([])[1] == PdfLimits()
    assert Settings().pdf_limits() == PdfLimits()
    assert pdf_server.parse_args([str(tmp_path), "--deadline", "90", "--workers", "1"])[1] == PdfLimits(
        deadline=90.0, workers=1
    )


def test_a_pdf_behind_a_url_gets_its_pool_from_the_limits() -> None:
    limits = PdfLimits(deadline=7.0, memory_mb=300, workers=1)
    pdfs = UrlPdfs(None, limits)  # type: ignore[arg-type]  # the fetcher is not used to start the pool
    try:
        pool = pdfs.pool()
        assert (pool.limits, len(pool.worker_pids())) == (limits, 1)
    finally:
        pdfs.close()


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("deadline", 0.0, "above 0"), ("memory_mb", 32, "at least 64"), ("workers", 0, "at least one worker")],
)
def test_limits_refuse_values_a_pool_cannot_run_with(field: str, value: float, needle: str) -> None:
    with pytest.raises(InvalidArgument, match=needle):
        PdfLimits(**{field: value})
