"""tools.pdf.extract in-process: reading order, decryption, repair, damage, outline, image-only pages."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import pdffixtures
from tools.errors import DamagedDocument, EncryptedDocument
from tools.pdf import extract as pdf
from tools.pdf.opening import OpenedPdf, open_pdf
from tools.pdf.outline import read_outline
from tools.pdf.pages import NO_TEXT_LAYER, page_block, parse_page_range


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdffixtures.corpus(tmp_path_factory.getbasetemp() / "pdf-corpus")


def _open(path: Path, **kw: str) -> OpenedPdf:
    return open_pdf(path.read_bytes(), name=path.name, **kw)


def test_zero_page_file_has_nothing_to_read(corpus: dict[str, Path]) -> None:
    opened = _open(corpus["zero"])
    assert opened.page_count == 0
    with pytest.raises(DamagedDocument, match="no pages"):
        parse_page_range(None, opened.page_count, name="zero.pdf")


def _order_score(path: Path, mode: str, truth: list[str]) -> float:
    text = PdfReader(path).pages[0].extract_text(extraction_mode=mode)
    return difflib.SequenceMatcher(None, truth, text.split(), autojunk=False).ratio()


def test_reading_order_plain_mode_measures_better_than_layout(tmp_path: Path) -> None:
    left = [f"L{i:02d} " + s[:40] for i, s in enumerate(pdffixtures.sentences(3, 30))]
    right = [f"R{i:02d} " + s[:40] for i, s in enumerate(pdffixtures.sentences(4, 30))]
    truth = " ".join(left + right).split()
    scores = {}
    for interleaved in (False, True):
        path = pdffixtures.two_column_pdf(
            tmp_path / f"cols-{interleaved}.pdf", left, right, interleaved=interleaved
        )
        scores[interleaved] = {mode: _order_score(path, mode, truth) for mode in ("plain", "layout")}
    assert pdf.EXTRACTION_MODE == "plain"
    assert scores[False]["plain"] > 0.99 > scores[False]["layout"]  # columns drawn one after the other
    assert scores[True]["plain"] >= scores[True]["layout"]  # drawn row by row: neither mode recovers it


@pytest.mark.parametrize("key", ["aes256", "aes128", "rc4"])
def test_encrypted_files_need_the_right_password(corpus: dict[str, Path], key: str) -> None:
    with pytest.raises(EncryptedDocument, match=r"is encrypted \(.+\) and needs a password.*password="):
        _open(corpus[key])
    with pytest.raises(EncryptedDocument, match="password given .* is wrong"):
        _open(corpus[key], password="nope")
    for opened in (_open(corpus[key], password="s3cret"), _open(corpus[key], default_password="s3cret")):
        assert opened.encryption in {"AES-256", "AES-128", "RC4-128"}
        assert "launch code 4417" in pdf.extract_page(opened, 1).text


def test_truncated_file_is_repaired_and_says_so(corpus: dict[str, Path]) -> None:
    opened = _open(corpus["truncated"])
    assert opened.damaged and any("rebuilt" in r for r in opened.repairs)
    pages = list(pdf.iter_pages(opened, range(1, opened.page_count + 1)))
    assert opened.page_count == 6 and all(p.status == "text" for p in pages)


def test_file_cut_in_half_recovers_the_first_pages(corpus: dict[str, Path]) -> None:
    result = pdf.extract_pdf_bytes(corpus["half"].read_bytes(), name="half.pdf")
    assert result.damaged
    assert any("lists 6 pages" in r for r in result.repairs)
    assert result.recovered_pages[:3] == [1, 2, 3]
    statuses = [p.status for p in result.pages]
    assert "unreadable" in statuses and statuses[0] == "text"


@pytest.mark.parametrize("key", ["noise"])
def test_not_a_pdf_is_a_clear_error(corpus: dict[str, Path], key: str) -> None:
    with pytest.raises(DamagedDocument, match="no PDF header"):
        _open(corpus[key])
    with pytest.raises(DamagedDocument, match="empty"):
        open_pdf(b"", name="empty.pdf")
    with pytest.raises(DamagedDocument, match="beyond repair"):
        open_pdf(b"%PDF-1.7\n" + b"garbage " * 100, name="junk.pdf")


def test_outline_has_pages_and_cycles_end(corpus: dict[str, Path]) -> None:
    info, _ = pdf.document_info(_open(corpus["paper"]))
    assert info["title"] == "Long Context Study" and info["author"] == "A. Author"
    assert [(e["title"], e["page"]) for e in info["outline"]] == [
        ("Introduction", 1),
        ("Method", 2),
        ("Results", 3),
    ]
    cyclic = read_outline(_open(corpus["cyclic_outline"]))
    assert [(e["title"], e["page"]) for e in cyclic] == [("Intro", 1), ("Loop", 1)]


def test_circular_prev_xref_reads_and_is_reported(corpus: dict[str, Path]) -> None:
    opened = _open(corpus["circular_xref"])
    assert opened.damaged and any("ircular" in r for r in opened.repairs)
    assert pdf.extract_page(opened, 1).text == "Circular xref body text."


def test_image_only_pages_are_no_text_layer_not_empty(corpus: dict[str, Path]) -> None:
    pages = pdf.extract_pdf_bytes(corpus["mixed"].read_bytes(), name="mixed.pdf").pages
    assert [p.status for p in pages] == ["text", "no_text_layer", "text"]
    assert NO_TEXT_LAYER in page_block(pages[1])


def test_flate_bomb_stops_at_pypdf_limit(corpus: dict[str, Path]) -> None:
    page = pdf.extract_page(_open(corpus["bomb"]), 1)
    assert page.status == "unreadable" and "LimitReached" in (page.note or "")
