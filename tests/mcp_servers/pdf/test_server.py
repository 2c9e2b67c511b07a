"""The pdf MCP server: contract in memory, hostile files against one live server, one stdio subprocess."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mcp_servers import pdf as pdf_server
from tests import pdffixtures
from tools.pdf.limits import PdfLimits

REPO = Path(__file__).resolve().parents[3]
TOOLS = {"pdf_info", "read_pdf", "search_pdf"}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdffixtures.corpus(tmp_path_factory.getbasetemp() / "pdf-corpus")


@pytest.fixture
def root(corpus: dict[str, Path], tmp_path: Path) -> Path:
    """A root holding the corpus (hard links: symlinks out of a root are refused), and a PDF outside it."""
    base = tmp_path / "docs"
    base.mkdir()
    for path in corpus.values():
        os.link(path, base / path.name)
    shutil.copy(corpus["paper"], tmp_path / "outside.pdf")
    return base


def _text(res: Any) -> str:
    return res.content[0].text


async def test_tools_schemas_and_read_only_annotations(root: Path) -> None:
    async with Client(pdf_server.build_server([str(root)], limits=PdfLimits(workers=1))) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    params = {name: set(t.input_schema["properties"]) for name, t in listed.items()}
    assert params["pdf_info"] == {"path", "password"}
    assert params["read_pdf"] == {"path", "pages", "max_chars", "start_index", "password"}
    assert {"path", "query", "max_results"} <= params["search_pdf"]
    for tool in listed.values():
        assert "ctx" not in tool.input_schema["properties"]
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.description and not tool.description.startswith(" ")
        assert all(p.get("description") for p in tool.input_schema["properties"].values())


async def test_read_pdf_gives_one_document_per_page_and_continues(root: Path) -> None:
    async with Client(pdf_server.build_server([str(root)], limits=PdfLimits(workers=1))) as client:
        first = await client.call_tool("read_pdf", {"path": "long.pdf", "max_chars": 1500})
        assert not first.is_error, _text(first)
        calls, docs, res = 1, list(first.structured_content["documents"]), first
        while res.structured_content["next"]:
            res = await client.call_tool("read_pdf", res.structured_content["next"])
            assert not res.is_error, _text(res)
            docs += res.structured_content["documents"]
            calls += 1
        ranged = await client.call_tool("read_pdf", {"path": "paper.pdf", "pages": "2-3"})
    sc = first.structured_content
    assert not first.is_error and sc["truncated"] and calls > 2
    assert _text(first).count("[page ") >= 1 and "start_index=" in _text(first)
    assert sc["next"] == {
        "path": "long.pdf",
        "pages": None,
        "start_index": sc["end_index"],
        "max_chars": 1500,
    }
    pages_seen = sorted({d["span"]["start"] for d in docs})
    assert pages_seen == [1, 2, 3, 4, 5, 6]
    doc = ranged.structured_content["documents"][0]
    assert doc["uri"] == "paper.pdf" and doc["source"] == "pdf" and doc["trusted"] is False
    assert doc["span"] == {"kind": "pages", "start": 2, "end": 2}
    assert "3e-4" in doc["text"] and doc["title"] == "paper.pdf p.2"
    assert [d["span"]["start"] for d in ranged.structured_content["documents"]] == [2, 3]
    assert _text(ranged).split("\n")[1] == "[page 2]"


async def test_pdf_info_and_search(root: Path) -> None:
    async with Client(pdf_server.build_server([str(root)], limits=PdfLimits(workers=1))) as client:
        info = await client.call_tool("pdf_info", {"path": "paper.pdf"})
        found = await client.call_tool("search_pdf", {"path": "paper.pdf", "query": "learning RATE"})
        scan = await client.call_tool("pdf_info", {"path": "scan.pdf"})
    sc = info.structured_content
    assert (sc["pages"], sc["title"], sc["author"], sc["encrypted"]) == (
        3,
        "Long Context Study",
        "A. Author",
        False,
    )
    assert sc["has_text_layer"] is True
    assert [(e["title"], e["page"]) for e in sc["outline"]] == [
        ("Introduction", 1),
        ("Method", 2),
        ("Results", 3),
    ]
    assert "Method (p.2)" in _text(info)
    assert [h["page"] for h in found.structured_content["hits"]] == [2]
    assert "pages='2'" in _text(found)
    assert scan.structured_content["has_text_layer"] is False and "OCR not available" in _text(scan)


async def test_encrypted_files_and_the_default_password(root: Path) -> None:
    async with Client(pdf_server.build_server([str(root)], limits=PdfLimits(workers=1))) as client:
        info = await client.call_tool("pdf_info", {"path": "rc4.pdf"})
        opened = await client.call_tool("read_pdf", {"path": "rc4.pdf", "password": "s3cret"})
    assert not info.is_error and info.structured_content["needs_password"] is True
    assert "password=" in _text(info) and "FORAGE_PDF_PASSWORD" in _text(info)
    assert "4417" in opened.structured_content["documents"][0]["text"]
    async with Client(
        pdf_server.build_server([str(root)], password="s3cret", limits=PdfLimits(workers=1))
    ) as client:
        res = await client.call_tool("read_pdf", {"path": "aes128.pdf"})
    assert not res.is_error and res.structured_content["encryption"] == "AES-128"


# Each hostile file: the arguments, then whether the result must be an error and a phrase it must contain.
HOSTILE = [
    ("read_pdf", {"path": "aes256.pdf"}, True, "needs a password"),
    ("read_pdf", {"path": "aes256.pdf", "password": "wrong"}, True, "password given for aes256.pdf is wrong"),
    ("read_pdf", {"path": "aes128.pdf", "password": "wrong"}, True, "is wrong"),
    ("read_pdf", {"path": "rc4.pdf"}, True, "RC4"),
    ("read_pdf", {"path": "truncated.pdf"}, False, "damaged"),
    ("read_pdf", {"path": "half.pdf"}, False, "Recovered pages: 1-3"),
    ("read_pdf", {"path": "noise.pdf"}, True, "no PDF header"),
    ("read_pdf", {"path": "bomb.pdf"}, True, "Limit reached while decompressing"),
    ("pdf_info", {"path": "cyclic-outline.pdf"}, False, "Loop"),
    ("read_pdf", {"path": "circular-xref.pdf"}, False, "Circular xref body text"),
    ("read_pdf", {"path": "many.pdf", "pages": "1500-1502"}, False, "marker-1501"),
    ("read_pdf", {"path": "many.pdf", "pages": "1999-2001"}, True, "has 2000 pages"),
    ("read_pdf", {"path": "zero.pdf"}, True, "no pages"),
    ("pdf_info", {"path": "zero.pdf"}, False, "0 pages"),
    ("read_pdf", {"path": "scan.pdf"}, True, "no text layer (OCR not available)"),
    ("read_pdf", {"path": "mixed.pdf"}, False, "Page 2: no text layer (OCR not available)"),
    ("read_pdf", {"path": "paper.pdf", "pages": "0"}, True, "numbered from 1"),
    ("read_pdf", {"path": "paper.pdf", "pages": "3-1"}, True, "runs backwards"),
    ("read_pdf", {"path": "../outside.pdf"}, True, "outside the allowed roots"),
]


async def test_hostile_files_end_cleanly_and_the_server_keeps_serving(root: Path) -> None:
    # The issue's limits exactly: a 10 s deadline and 512 MB per worker. fail_after only
    # guards against a hang; it does not measure speed.
    server = pdf_server.build_server([str(root)], limits=PdfLimits(deadline=10.0, memory_mb=512, workers=2))
    async with Client(server) as client:
        for tool, args, is_error, phrase in HOSTILE:
            with anyio.fail_after(30):
                res = await client.call_tool(tool, args)
                ok = await client.call_tool("read_pdf", {"path": "paper.pdf", "pages": "2"})
            assert res.is_error is is_error, f"{tool} {args}: {_text(res)}"
            assert phrase in _text(res), f"{tool} {args}: {_text(res)}"
            assert not ok.is_error and "3e-4" in _text(ok), f"after {args}: {_text(ok)}"
        half = await client.call_tool("read_pdf", {"path": "half.pdf"})
    sc = half.structured_content
    assert sc["damaged"] and sc["recovered_pages"][:3] == [1, 2, 3]
    assert sc["unreadable_pages"] and sc["unreadable_pages"][0]["reason"]


async def test_real_stdio_subprocess_with_password_from_the_environment(root: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_servers.pdf", str(root), "--workers", "1", "--deadline", "10"],
        cwd=str(REPO),
        env={"FORAGE_PDF_PASSWORD": "s3cret", "PATH": "/usr/bin:/bin"},
    )
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        read = await client.call_tool("read_pdf", {"path": "aes256.pdf"})
        info = await client.call_tool("pdf_info", {"path": "paper.pdf"})
        bad = await client.call_tool("read_pdf", {"path": "noise.pdf"})
    assert not read.is_error and "4417" in _text(read)
    assert info.structured_content["pages"] == 3
    assert bad.is_error and bad.structured_content["error"] == "DamagedDocument"


def test_main_rejects_bad_options(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        pdf_server.main([str(tmp_path), "--deadline", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        pdf_server.main([str(tmp_path / "missing")])
    assert exc.value.code == 1


async def test_a_file_over_the_deadline_costs_one_worker_and_an_is_error(root: Path) -> None:
    async with Client(
        pdf_server.build_server([str(root)], limits=PdfLimits(deadline=1.0, workers=1))
    ) as client:
        with anyio.fail_after(30):
            slow = await client.call_tool("read_pdf", {"path": "flood.pdf"})
            ok = await client.call_tool("read_pdf", {"path": "paper.pdf", "pages": "2"})
    assert slow.is_error and "1 s deadline" in _text(slow)
    assert not ok.is_error and "3e-4" in _text(ok)
