"""tools.pdf.pages: strict page ranges, and windows that end on page boundaries."""

from __future__ import annotations

import pytest

from tools.errors import InvalidArgument
from tools.pdf.pages import PageText, format_page_list, parse_page_range, render_window


def test_page_ranges_parse_strictly() -> None:
    assert parse_page_range("1-3,9", 10) == [1, 2, 3, 9]
    assert parse_page_range(" 2 , 2-3 ", 5) == [2, 3]
    assert parse_page_range(None, 3) == [1, 2, 3]
    assert format_page_list([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"


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
        parse_page_range(spec, count)


def _pages(*texts: str) -> list[PageText]:
    return [PageText(i + 1, t, "text" if t else "no_text_layer") for i, t in enumerate(texts)]


def test_windows_end_on_page_boundaries_and_cover_everything_once() -> None:
    pages = _pages("a" * 300, "b" * 300, "", "c" * 2000)
    seen: dict[int, str] = {}
    start, windows = 0, 0
    total = render_window(pages, 0, 10**9).total
    while start < total:
        w = render_window(pages, start, 700)
        for page, text, _whole in w.parts:
            seen[page.number] = seen.get(page.number, "") + text
        assert w.end > start
        start, windows = w.end, windows + 1
    assert seen == {1: "a" * 300, 2: "b" * 300, 4: "c" * 2000}
    first = render_window(pages, 0, 700)
    assert first.text.startswith("[page 1]\n") and first.text.count("[page") == 3  # snapped after page 3
    assert all(whole for _, _, whole in first.parts)
    cut = render_window(pages, first.end + 50, 700)  # page 4 alone is longer than the window
    assert cut.text.startswith("[page 4, continued]") and cut.parts[0][2] is False
