"""A page's clean title: <title>, og:title or the first h1, without the site name or stray text.

Titles go into block headers and citations, so they must read like a title. Two kinds of
noise are common on real pages: the site name glued on ("Headline | Site"), and text from
inline SVG icons, which carry <title> elements of their own ("Search Icon", "Follow us on
Facebook") that a naive //title query picks up.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

MAX_TITLE_CHARS = 300
_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»/\\]|::)\s+|\s*[|·•»]\s*")
_NOT_WORD = re.compile(r"[\W_]+")


def page_title(tree: etree._Element, url: str = "") -> str:
    """Return the page's title: the headline alone when the <title> adds the site name."""
    head = _first(tree, "//head/title|//title[not(ancestor::svg) and not(ancestor::*[local-name()='svg'])]")
    og = _meta(tree, "og:title") or _meta(tree, "twitter:title")
    h1 = _first(tree, "//body//h1[not(ancestor::svg)]")
    site = _meta(tree, "og:site_name") or _meta(tree, "application-name")
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for candidate in (og, head):
        if not candidate:
            continue
        cleaned = _strip_site(candidate, site, host)
        if h1 and len(h1) <= MAX_TITLE_CHARS and _is_headline_of(h1, cleaned or candidate, site, host):
            return h1  # the headline as the page shows it, without what the <title> adds
        if cleaned:
            return cleaned[:MAX_TITLE_CHARS]
    return (h1 or head or og)[:MAX_TITLE_CHARS]


def _first(tree: etree._Element, xpath: str) -> str:
    for el in tree.xpath(xpath):
        text = " ".join(el.text_content().split()) if hasattr(el, "text_content") else ""
        if text:
            return text
    return ""


def _meta(tree: etree._Element, name: str) -> str:
    for el in tree.xpath(f"//meta[@property='{name}' or @name='{name}']"):
        text = " ".join((el.get("content") or "").split())
        if text:
            return text
    return ""


def _key(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def _is_headline_of(h1: str, title: str, site: str, host: str) -> bool:
    """An h1 that is most of the title (not the site's logo text, which h1 often holds)."""
    key, whole = _key(h1), _key(title)
    return bool(key) and key in whole and len(key) >= 0.6 * len(whole) and not _is_site(h1, site, host)


def _is_site(segment: str, site: str, host: str) -> bool:
    key = _key(segment)
    if not key:
        return True
    labels = [label for label in host.split(".") if label not in ("com", "org", "net", "co", "www")]
    return (
        key == _key(site) or key in (_key(label) for label in labels) or (len(key) >= 4 and key in _key(host))
    )


def _strip_site(title: str, site: str, host: str) -> str:
    """Remove the site-name segments of a title ("Headline | Site" -> "Headline")."""
    segments = [s.strip() for s in _SEPARATOR.split(title) if s.strip()]
    if len(segments) < 2:
        return title
    kept = [s for s in segments if not _is_site(s, site, host)]
    if kept and len(kept) < len(segments):
        if len(kept) == 1:
            return kept[0]
        # Keep the original text between the first and last kept segments (their separators too).
        start = title.find(kept[0])
        end = title.rfind(kept[-1]) + len(kept[-1])
        return title[start:end].strip() if 0 <= start < end else " - ".join(kept)
    # No segment names the site: drop a short trailing segment after a long headline
    # ("Long headline here - Brand"), the way readers' title bars are usually built.
    head, last = segments[:-1], segments[-1]
    head_words = sum(len(s.split()) for s in head)
    if len(last.split()) <= 3 and head_words >= 4 and head_words >= 2 * len(last.split()):
        cuts = [m.start() for m in _SEPARATOR.finditer(title) if m.end() <= title.rfind(last)]
        return title[: cuts[-1]].strip() if cuts else title
    return title
