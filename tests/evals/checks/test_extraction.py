"""Extraction on real pages (a smoke subset of evals/checks/extraction.py), with the baselines in the same run."""

from evals.checks.extraction import load_smoke, run


def test_forage_extraction_on_real_pages_keeps_up_with_trafilatura_defaults():
    pages = list(load_smoke())
    assert len(pages) >= 8
    report = run(pages, ("forage", "trafilatura_defaults"), workers=1)
    ours, theirs = report["forage"]["words"], report["trafilatura_defaults"]["words"]
    assert ours["f1"] >= 0.95 and ours["precision"] >= 0.93, ours
    assert ours["f1"] >= theirs["f1"] - 0.01, (ours, theirs)
    assert report["forage"]["pages_f1_below_0.8"] == 0


def test_real_pages_are_packed_without_inline_link_urls():
    from tools.html.extract import extract_html

    for page in load_smoke():
        extracted = extract_html(page.html, page.url or "https://example.org/")
        assert "](http" not in extracted.markdown, page.name
        assert extracted.links, page.name  # the links stay, structured, for crawling
        assert extracted.title and len(extracted.title) < 160 and "\n" not in extracted.title, page.name


def test_pages_with_types_are_scored_per_type_in_the_corpus_halves():
    from dataclasses import replace

    from evals.checks.extraction import table, tokens

    pages = list(load_smoke())[:4]
    typed = [
        replace(p, name=f"typed/{'article' if i % 3 else 'documentation'}/{i}") for i, p in enumerate(pages)
    ]
    report = run(typed, ("trafilatura_defaults",), workers=1)
    by_type = report["by_type"]
    assert by_type["article"]["trafilatura_defaults"]["pages"] == 2
    # a type's halves are the corpus's halves: pages 0 and 2 are even, 1 and 3 odd
    assert by_type["documentation"]["even"]["trafilatura_defaults"]["pages"] == 1  # page 0
    assert by_type["documentation"]["odd"]["trafilatura_defaults"]["pages"] == 1  # page 3
    assert "typed/article" in table({"typed": report})
    assert tokens("x<sup>2</sup> and <u>under</u> \\[1\\]") == ["x", "2", "and", "under", "1"]
