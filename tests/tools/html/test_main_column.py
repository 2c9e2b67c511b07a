"""Blocks after the article that sit outside its container are cut; everything else stays."""

from __future__ import annotations

import lxml.html

from tools.html.extract import extract_html
from tools.html.main_column import drop_trailing, page_blocks, split_blocks

PART = (
    "Acme reads its settings from a TOML file called acme.toml in the project folder, and every option "
    "has a default value so that an empty file is a valid configuration for most projects. "
)
BIO = (
    "Jane Doe has written about configuration files for a decade and lives in Lisbon with two cats, "
    "a piano and far too many books about typography and old maps."
)


def body(n: int = 8) -> str:
    return "".join(f"<p>{PART * 2}Part {i}.</p>" for i in range(n))


def test_an_author_box_after_the_article_is_cut_from_the_page():
    html = (
        "<html><head><title>Configuring Acme</title></head><body><div class='page'>"
        f"<div class='body'><h1>Configuring Acme</h1>{body()}</div>"
        f"<div class='more'><p>{BIO}</p><p>{BIO.replace('Jane', 'John')}</p></div></div></body></html>"
    )
    got = extract_html(html, "https://docs.acme.example/config").markdown
    assert "Part 0." in got and "Part 7." in got
    assert "Jane Doe" not in got and "John Doe" not in got


def cut(html: str, markdown: str) -> str:
    return drop_trailing(markdown, page_blocks(lxml.html.document_fromstring(html)))


def test_only_traced_blocks_after_the_container_and_outside_it_go():
    paragraphs = [f"{PART}Part {i}." for i in range(6)]
    html = (
        f"<html><body><header><p>Standfirst before the article body.</p></header><article>"
        f"{''.join(f'<p>{p}</p>' for p in paragraphs[:5])}</article>"
        f"<aside><p>{paragraphs[5]}</p></aside><article><p>{BIO}</p></article></body></html>"
    )
    standfirst, untraced = "Standfirst before the article body.", "A closing line no element of the page has."
    markdown = "\n\n".join([standfirst, *paragraphs[:5], untraced, BIO])
    # The standfirst (before the container) and the untraced line stay; the box after it goes.
    assert cut(html, markdown) == "\n\n".join([standfirst, *paragraphs[:5], untraced])
    # A part of the article between the container's blocks stays, whatever box holds it.
    between = "\n\n".join([*paragraphs[:2], paragraphs[5], *paragraphs[2:5]])
    assert cut(html, between) == between


def test_an_article_without_one_container_of_most_words_is_left_whole():
    halves = f"<div><p>{PART}One.</p><p>{PART}Two.</p></div><div><p>{PART}Three.</p><p>{PART}Four.</p></div>"
    markdown = "\n\n".join(f"{PART}{n}." for n in ("One", "Two", "Three", "Four"))
    assert cut(f"<html><body>{halves}</body></html>", markdown) == markdown


def test_one_long_paragraph_is_not_the_container():
    html = f"<html><body><main><h1>Colour</h1><p>{PART * 3}</p><h2>Facts</h2><p>It is ochre.</p></main></body></html>"
    markdown = "\n\n".join(["# Colour", PART * 3, "## Facts", "It is ochre."])
    assert cut(html, markdown) == markdown


def test_blocks_are_found_by_their_words_not_markup_and_code_fences_stay_whole():
    html = "<html><body><ul><li>First <b>item</b></li></ul><script>var hidden = 1;</script></body></html>"
    page = page_blocks(lxml.html.document_fromstring(html))
    assert ("2", "first", "item") in page.index and not any("hidden" in key for key in page.index)
    li = page.find(("first", "item"))
    assert li is not None and len(page.ancestry(li)) == 4  # li, ul, body, html
    fenced = "Intro\n\n```\nline one\n\nline two\n```\n\n- a\n- b"
    assert split_blocks(fenced) == ["Intro", "```\nline one\n\nline two\n```", "- a\n- b"]
