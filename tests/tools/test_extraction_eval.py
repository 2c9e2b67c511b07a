"""A guard on extraction quality: the eval's word F1 stays at the top of the published range."""

from evals.extraction import f1, forage_extract, make_page


def test_forage_extraction_keeps_the_article_and_drops_boilerplate():
    scores = []
    for i in range(9):  # three of each template
        html, truth = make_page(100 + i)
        text = forage_extract(html)
        assert "Accept all cookies" not in text and "Related posts" not in text
        scores.append(f1(text, truth))
    assert sum(scores) / len(scores) >= 0.96 and min(scores) >= 0.9
