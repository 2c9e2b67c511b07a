"""HTML to clean markdown: main content through trafilatura and readability, links, title, sections.

trafilatura (default precision/recall balance) does the main-content choice, after the text a
reader does not see has been dropped (tools.html.hidden). readability (the algorithm of Firefox's
reader view) gives a second opinion; its article replaces trafilatura's when it holds nearly all
of trafilatura's words and more besides: on real pages that is trafilatura stopping short of the
article (a body split in parts, a list or table it took for navigation, repeated paragraphs).
Paragraphs that are mostly a link to another article (teasers, see tools.html.link_teasers) are
dropped from whichever article won, and so are the blocks after the article that lie outside
its container on the page (an author box, a FAQ, a sign-up box; see tools.html.main_column).
Measured on real pages with ``python -m evals.checks.extraction`` against trafilatura's defaults and
readability in the same run. When neither finds main content we fall back to the full page
text and say so, never to nothing.

Everything here is a pure function of (html, url) so it can run in a worker process.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree
from readability import Document as Readability
from readability.readability import Unparseable

from tools.html.blocks import html_blocks
from tools.html.hidden import drop_hidden
from tools.html.invisible import HiddenText, strip_invisible
from tools.html.link_teasers import drop_teasers, teasers
from tools.html.main_column import drop_trailing, page_blocks
from tools.html.page_title import page_title

# Chosen on real pages (evals/checks/extraction.py): favor_recall let more boilerplate in on the 2025
# pages (precision -0.1 pt for recall +0.2) and favor_precision cost 2 points of recall.
EXTRACT_SETTINGS: dict[str, Any] = {"favor_recall": False, "favor_precision": False}
# readability logs a traceback at ERROR for every page it cannot parse; we catch the error and keep
# trafilatura's article, so the traceback would only reach the user's terminal as noise.
logging.getLogger("readability.readability").setLevel(logging.CRITICAL)
# readability's article is taken when it holds at least COVER of trafilatura's words and has
# GROWTH times as many. Chosen on the even-indexed pages of the three real-page sets (the odd
# ones held out) as the best F1 that keeps precision: cover 0.8-0.98 changed little; growth 1.1
# gained 0.005 F1 more on the even pages than 1.5 but cost a point of precision on the
# trafilatura set (the extra words were comments and sign-up boxes), 2.0 lost readability's gains.
SECOND_OPINION_COVER = 0.9
SECOND_OPINION_GROWTH = 1.5
_WORD = re.compile(r"\w+")
# Below this many characters of main text a static page is "thin": render="auto" renders it.
THIN_TEXT_CHARS = 300
_SHELL_IDS = re.compile(
    r"""<div[^>]+id=["'](root|app|__next|__nuxt|svelte|main-app)["'][^>]*>\s*</div>""", re.I
)
_NOSCRIPT_JS = re.compile(r"<noscript>[^<]{0,200}(enable|requires?)\s+javascript", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_UNDERLINE = re.compile(r"</?u>")
_SKIP_LINK_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class Section:
    """A part of the markdown under one heading; ``start`` is its offset in the markdown."""

    label: str
    anchor: str
    start: int
    text: str


@dataclass
class Extracted:
    title: str
    markdown: str
    method: str  # "trafilatura", "readability" or "fulltext"
    links: list[Link] = field(default_factory=list)
    main_chars: int = 0
    app_shell: bool = False
    has_scripts: bool = False
    hidden: dict[str, Any] | None = None  # what was dropped as invisible (tools.html.invisible.HiddenText)


def extract_html(html: str, url: str, *, rendered: bool = False) -> Extracted:
    """Turn an HTML page into markdown of what a reader sees of its main content, plus title and links.

    Hidden text (see tools.html.hidden) is dropped before extraction and reported in ``hidden``.
    Links are not written inline: they stay in ``links`` (for crawling and extract_links),
    and the markdown keeps only their anchor text, so every sentence is not doubled by URLs.
    rendered=True: the HTML comes from Chromium, which marked hidden elements from computed styles.
    """
    tree = _parse(html)
    hidden = HiddenText()
    app_shell = looks_like_app_shell(html, tree)  # before anything is dropped
    has_scripts = bool(tree.xpath("//script"))
    links = page_links(tree, url)
    drop_hidden(tree, hidden, rendered=rendered)
    title = strip_invisible(page_title(tree, url), hidden)
    # Before trafilatura, which edits the tree it extracts from.
    found_teasers, structure = teasers(tree), page_blocks(tree)
    markdown = trafilatura.extract(
        tree,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_links=False,
        include_formatting=True,
        include_images=False,
        include_comments=False,
        deduplicate=False,
        **EXTRACT_SETTINGS,
    )
    markdown = _tidy_markdown(markdown or "")
    method = "trafilatura"
    if could_hold_more(tree, markdown) and holds_more(second := readability_article(tree), markdown):
        markdown, method = second, "readability"
    markdown = drop_trailing(drop_teasers(markdown, found_teasers), structure)
    if not markdown.strip():
        markdown = full_text(tree)
        method = "fulltext"
    markdown = strip_invisible(markdown.strip(), hidden)
    return Extracted(
        title=title,
        markdown=markdown,
        method=method,
        links=links,
        main_chars=len(markdown) if method != "fulltext" else 0,
        app_shell=app_shell,
        has_scripts=has_scripts,
        hidden=hidden.as_meta(),
    )


def readability_article(tree: etree._Element) -> str:
    """Return readability's main content of a page as markdown blocks ("" when it finds none)."""
    try:
        # A string, not the tree: readability edits what it parses, and parses again on a retry.
        summary = Readability(lxml.html.tostring(tree, encoding="unicode")).summary()
    except Unparseable:
        return ""
    return html_blocks(_parse(summary)) if summary.strip() else ""


def could_hold_more(tree: etree._Element, markdown: str) -> bool:
    """Tell whether the page has words enough for readability's article to hold more than ours.

    readability only keeps text the page has, so on a page whose text trafilatura has nearly all
    taken it cannot win, and is not run (a third to a half of real pages).
    """
    body = tree.find("body")
    texts = (body if body is not None else tree).xpath(".//text()[not(ancestor::script or ancestor::style)]")
    page_words = sum(len(_WORD.findall(text)) for text in texts)
    return page_words > SECOND_OPINION_GROWTH * len(_WORD.findall(markdown))


def holds_more(candidate: str, markdown: str) -> bool:
    """Tell whether candidate holds nearly all of markdown's words and clearly more of its own."""
    theirs, ours = Counter(_WORD.findall(candidate.lower())), Counter(_WORD.findall(markdown.lower()))
    n_theirs, n_ours = theirs.total(), ours.total()
    if n_theirs <= SECOND_OPINION_GROWTH * n_ours:
        return False
    return (theirs & ours).total() >= SECOND_OPINION_COVER * n_ours


def _tidy_markdown(markdown: str) -> str:
    # trafilatura escapes underscores in text ("retry.delay\\_seconds"); the model and the
    # search index want the name as written. Underlined text is written as inline HTML
    # ("<u>YouTube</u>", markdown has no underline): the words stay, the tags go. A closing code
    # fence gets its blank line back.
    lines = markdown.strip().replace("\\_", "_").split("\n")
    out: list[str] = []
    in_fence = False
    for i, line in enumerate(lines):
        out.append(line if in_fence else _UNDERLINE.sub("", line))
        if _FENCE.match(line.lstrip()):
            in_fence = not in_fence
            if not in_fence and i + 1 < len(lines) and lines[i + 1].strip():
                out.append("")
    return "\n".join(out)


def needs_rendering(extracted: Extracted) -> bool:
    """Tell whether a statically fetched page should be rendered (render="auto").

    A page without scripts renders to what its HTML already says, however short it is.
    """
    return extracted.app_shell or (extracted.has_scripts and extracted.main_chars < THIN_TEXT_CHARS)


def looks_like_app_shell(html: str, tree: etree._Element | None = None) -> bool:
    """Tell whether HTML is a script-built app shell: scripts, an empty mount point, little text."""
    tree = tree if tree is not None else _parse(html)
    scripts = len(tree.xpath("//script"))
    if scripts == 0:
        return False
    body_text = len(" ".join(t.strip() for t in tree.xpath("//body//text()[not(ancestor::script)]")).strip())
    return bool(_SHELL_IDS.search(html) or _NOSCRIPT_JS.search(html)) or body_text < 200


def page_links(tree: etree._Element, base_url: str) -> list[Link]:
    """Return the page's http(s) links, absolute, without fragments, first occurrence kept."""
    base = tree.xpath("//base/@href")
    if base:
        # A <base href> that is no URL ("http://[x]/") leaves links resolving against the page's own.
        with contextlib.suppress(ValueError):
            base_url = urljoin(base_url, base[0].strip())
    seen: dict[str, Link] = {}
    for anchor in tree.xpath("//a[@href]"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(_SKIP_LINK_SCHEMES):
            continue
        try:
            absolute, _ = urldefrag(urljoin(base_url, href))
            if urlsplit(absolute).scheme not in ("http", "https") or absolute in seen:
                continue
        except ValueError:  # "http://[not-an-ip]/": one broken link, not a broken page
            continue
        text = " ".join(anchor.text_content().split())[:200]
        seen[absolute] = Link(absolute, text)
    return list(seen.values())


def full_text(tree: etree._Element) -> str:
    """Return the visible text of a page, one block per line (the fallback when extraction fails)."""
    for bad in tree.xpath("//script|//style|//noscript|//template|//svg"):
        bad.drop_tree() if hasattr(bad, "drop_tree") else bad.getparent().remove(bad)
    blocks = []
    body = tree.find("body")
    root = body if body is not None else tree
    for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "dt", "dd", "div"):
        if el.tag == "div" and any(child.tag in ("p", "div", "ul", "ol", "table", "pre") for child in el):
            continue
        text = " ".join(el.text_content().split())
        if not text:
            continue
        if el.tag.startswith("h") and el.tag[1:].isdigit():
            text = "#" * int(el.tag[1]) + " " + text
        elif el.tag == "li":
            text = "- " + text
        blocks.append(text)
    if not blocks:
        return " ".join(root.text_content().split())
    return "\n\n".join(dict.fromkeys(blocks))


def split_sections(markdown: str, title: str = "") -> list[Section]:
    """Split markdown at headings (levels 1-3), ignoring '#' lines inside code fences."""
    cuts: list[tuple[int, str]] = []
    offset = 0
    in_fence = False
    for line in markdown.splitlines(keepends=True):
        if _FENCE.match(line.lstrip()):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line.rstrip("\n"))) and len(m.group(1)) <= 3:
            cuts.append((offset, _plain(m.group(2))))
        offset += len(line)
    if not cuts or cuts[0][0] > 0:
        cuts.insert(0, (0, title or "Introduction"))
    sections = []
    used: dict[str, int] = {}
    for i, (start, label) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(markdown)
        text = markdown[start:end]
        if not text.strip():
            continue
        anchor = slugify(label)
        count = used.get(anchor, 0)
        used[anchor] = count + 1
        sections.append(Section(label, f"{anchor}-{count}" if count else anchor, start, text))
    return sections


def slugify(text: str) -> str:
    """Make a GitHub-style heading anchor ("Getting started!" -> "getting-started")."""
    slug = re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-")
    return slug or "section"


def _plain(heading: str) -> str:
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    return re.sub(r"[*_`]", "", heading).strip()


def _parse(html: str) -> etree._Element:
    try:
        tree = lxml.html.document_fromstring(html or "<html></html>")
    except (etree.ParserError, ValueError):
        # ValueError: a str with an XML encoding declaration; parse it as bytes instead.
        tree = lxml.html.document_fromstring((html or "<html></html>").encode("utf-8", "replace"))
    return tree
