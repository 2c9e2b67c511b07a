"""HTML to clean markdown: main content through trafilatura, links, title, sections.

trafilatura was picked by measurement (F1 about 0.96 on news and blog pages against about
0.86 for readability + markdownify; see evals/perf/bench_web.py for our own check). When it
finds no main content we fall back to the full page text and say so, never to nothing.

Everything here is a pure function of (html, url) so it can run in a worker process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree

# Below this many characters of main text a static page is "thin": render="auto" renders it.
THIN_TEXT_CHARS = 300
_SHELL_IDS = re.compile(
    r"""<div[^>]+id=["'](root|app|__next|__nuxt|svelte|main-app)["'][^>]*>\s*</div>""", re.I
)
_NOSCRIPT_JS = re.compile(r"<noscript>[^<]{0,200}(enable|requires?)\s+javascript", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")
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
    method: str  # "trafilatura" or "fulltext"
    links: list[Link] = field(default_factory=list)
    main_chars: int = 0
    app_shell: bool = False
    has_scripts: bool = False


def extract_html(html: str, url: str) -> Extracted:
    """Turn an HTML page into markdown of its main content, plus its title and links."""
    tree = _parse(html)
    title = page_title(tree)
    links = page_links(tree, url)
    app_shell = looks_like_app_shell(html, tree)  # before full_text(), which drops scripts
    has_scripts = bool(tree.xpath("//script"))
    markdown = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_links=True,
        include_formatting=True,
        include_images=False,
        include_comments=False,
        deduplicate=False,
        # Measured (evals/extraction.py): recall mode keeps headings inside div-soup templates
        # that precision mode drops (mean word F1 0.984 -> 0.993), without letting boilerplate in.
        favor_recall=True,
    )
    method = "trafilatura"
    if not markdown or not markdown.strip():
        markdown = full_text(tree)
        method = "fulltext"
    # trafilatura escapes underscores in text ("retry.delay\\_seconds"); the model and the
    # search index want the name as written.
    markdown = markdown.strip().replace("\\_", "_")
    return Extracted(
        title=title,
        markdown=markdown,
        method=method,
        links=links,
        main_chars=len(markdown) if method == "trafilatura" else 0,
        app_shell=app_shell,
        has_scripts=has_scripts,
    )


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


def page_title(tree: etree._Element) -> str:
    """Return the page title (<title>, og:title, or the first h1)."""
    for xpath in ("//title/text()", "//meta[@property='og:title']/@content", "//h1//text()"):
        found = " ".join(" ".join(tree.xpath(xpath)).split())
        if found:
            return found[:300]
    return ""


def page_links(tree: etree._Element, base_url: str) -> list[Link]:
    """Return the page's http(s) links, absolute, without fragments, first occurrence kept."""
    base = tree.xpath("//base/@href")
    base_url = urljoin(base_url, base[0].strip()) if base else base_url
    seen: dict[str, Link] = {}
    for anchor in tree.xpath("//a[@href]"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(_SKIP_LINK_SCHEMES):
            continue
        absolute, _ = urldefrag(urljoin(base_url, href))
        if urlsplit(absolute).scheme not in ("http", "https") or absolute in seen:
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
