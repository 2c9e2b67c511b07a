"""tools.pdf.extract in-process: page ranges, reading order, decryption, repair, outline, windows, search."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import pdffixtures
from tools.errors import DamagedDocument, EncryptedDocument, InvalidArgument
from tools.pdf import extract as pdf


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdffixtures.corpus(tmp_path_factory.getbasetemp() / "pdf-corpus")


def _open(path: Path, **kw: str) -> pdf.OpenedPdf:
    return pdf.open_pdf(path.read_bytes(), name=path.name, **kw)


def test_page_ranges_parse_strictly() -> None:
    assert pdf.parse_page_range("1-3,9", 10) == [1, 2, 3, 9]
    assert pdf.parse_page_range(" 2 , 2-3 ", 5) == [2, 3]
    assert pdf.parse_page_range(None, 3) == [1, 2, 3]
    assert pdf.format_page_list([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"


@pytest.mark.parametrize(
    ("spec", "count", "needle"),
    [
        ("0", 5, "numbered from 1"),
        ("5-3", 9, "write 3-5"),
        ("7", 5, "has 5 pages; ask for pages 1-5"),
        ("1-9", 5, "has 5 pages"),
        ("a-b", 5, "not a page or a range"),
        ("1,,2", 5, "not a page or a range"),
    ],
)
def test_page_range_errors_say_what_to_do(spec: str, count: int, needle: str) -> None:
    with pytest.raises(InvalidArgument, match=needle):
        pdf.parse_page_range(spec, count)


def test_zero_page_file_has_nothing_to_read(corpus: dict[str, Path]) -> None:
    opened = _open(corpus["zero"])
    assert opened.page_count == 0
    with pytest.raises(DamagedDocument, match="no pages"):
        pdf.parse_page_range(None, opened.page_count, name="zero.pdf")


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
        pdf.open_pdf(b"", name="empty.pdf")
    with pytest.raises(DamagedDocument, match="beyond repair"):
        pdf.open_pdf(b"%PDF-1.7\n" + b"garbage " * 100, name="junk.pdf")


def test_outline_has_pages_and_cycles_end(corpus: dict[str, Path]) -> None:
    info, _ = pdf.document_info(_open(corpus["paper"]))
    assert info["title"] == "Long Context Study" and info["author"] == "A. Author"
    assert [(e["title"], e["page"]) for e in info["outline"]] == [
        ("Introduction", 1),
        ("Method", 2),
        ("Results", 3),
    ]
    cyclic = pdf.read_outline(_open(corpus["cyclic_outline"]))
    assert [(e["title"], e["page"]) for e in cyclic] == [("Intro", 1), ("Loop", 1)]


def test_circular_prev_xref_reads_and_is_reported(corpus: dict[str, Path]) -> None:
    opened = _open(corpus["circular_xref"])
    assert opened.damaged and any("ircular" in r for r in opened.repairs)
    assert pdf.extract_page(opened, 1).text == "Circular xref body text."


def test_image_only_pages_are_no_text_layer_not_empty(corpus: dict[str, Path]) -> None:
    pages = pdf.extract_pdf_bytes(corpus["mixed"].read_bytes(), name="mixed.pdf").pages
    assert [p.status for p in pages] == ["text", "no_text_layer", "text"]
    assert pdf.NO_TEXT_LAYER in pdf.page_block(pages[1])


def test_flate_bomb_stops_at_pypdf_limit(corpus: dict[str, Path]) -> None:
    page = pdf.extract_page(_open(corpus["bomb"]), 1)
    assert page.status == "unreadable" and "LimitReached" in (page.note or "")


def _pages(*texts: str) -> list[pdf.PageText]:
    return [pdf.PageText(i + 1, t, "text" if t else "no_text_layer") for i, t in enumerate(texts)]


def test_windows_end_on_page_boundaries_and_cover_everything_once() -> None:
    pages = _pages("a" * 300, "b" * 300, "", "c" * 2000)
    seen: dict[int, str] = {}
    start, windows = 0, 0
    total = pdf.render_window(pages, 0, 10**9).total
    while start < total:
        w = pdf.render_window(pages, start, 700)
        for page, text, _whole in w.parts:
            seen[page.number] = seen.get(page.number, "") + text
        assert w.end > start
        start, windows = w.end, windows + 1
    assert seen == {1: "a" * 300, 2: "b" * 300, 4: "c" * 2000}
    first = pdf.render_window(pages, 0, 700)
    assert first.text.startswith("[page 1]\n") and first.text.count("[page") == 3  # snapped after page 3
    assert all(whole for _, _, whole in first.parts)
    cut = pdf.render_window(pages, first.end + 50, 700)  # page 4 alone is longer than the window
    assert cut.text.startswith("[page 4, continued]") and cut.parts[0][2] is False


def test_search_finds_phrases_across_line_breaks_then_all_words() -> None:
    pages = _pages("The learning\nrate was 3e-4.", "Nothing here.", "rate and learning apart")
    hits, kind = pdf.search_pages(pages, "learning rate")
    assert kind == "phrase" and [h["page"] for h in hits] == [1]
    hits, kind = pdf.search_pages(pages, "apart learning")
    assert kind == "all words" and [h["page"] for h in hits] == [3]
    with pytest.raises(InvalidArgument):
        pdf.search_pages(pages, "  ")
