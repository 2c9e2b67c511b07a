"""Text a reader does not see in a page: hidden elements, same-colour text, comments.

Extraction keeps what a reader sees when the page is rendered. On a rendered page the browser
has already marked every hidden element with ``HIDDEN_ATTR`` from computed styles (see
``tools.web.hidden_marks``); on a static page we judge from what the HTML itself says: the
``hidden`` attribute, inline styles, and the simple rules of the page's own ``<style>``
blocks (external stylesheets are not fetched). Everything dropped is counted in a
``HiddenText`` report (tools/html/invisible.py, which also strips invisible characters),
so the safety layer can flag pages that hide text from their readers.

Content a reader can reveal with a click (a closed ``<details>``, an inactive tab panel, an
accordion a button controls) is not hidden text: it stays.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from lxml import etree

from tools.html.css import (
    RGB,
    SAME_COLOR_CONTRAST,
    StyleRules,
    contrast,
    parse_color,
    parse_style,
    px,
    zero_rect,
)
from tools.html.invisible import HiddenText

#: The attribute the renderer puts on elements it found hidden (value: the kind).
HIDDEN_ATTR = "data-forage-hidden"
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title", "meta", "link"})
_MAX_SCRIPT_CHARS = 2_000_000
_COMMENT_WORDS = 4  # a comment with fewer words is markup bookkeeping ("/.header"), not prose

# ---------------------------------------------------------------------------- the walk


@dataclass(frozen=True)
class _Inherited:
    color: RGB | None = (0, 0, 0)
    background: RGB | None = (255, 255, 255)  # None: unknown (an image, or a colour we can't read)
    visibility_hidden: bool = False


def drop_hidden(tree: etree._Element, report: HiddenText, *, rendered: bool = False) -> None:
    """Remove what a reader would not see from a parsed page, in place, recording it in report.

    rendered=True trusts the browser's marks alone (computed styles know more than we do).
    """
    _drop_comments(tree, report)
    rules = StyleRules() if rendered else StyleRules.of(tree)
    revealers = _Revealers.of(tree, rules)
    body = tree.find("body")
    root = body if body is not None else tree
    start = _Inherited()
    if not rendered:
        for el in (tree, root):
            start = _inherit(start, _style(el, rules))
        # Pages hide <html> or <body> until their scripts have run (anti-flicker snippets):
        # that is never what a reader sees, so it is not inherited.
        start = dataclasses.replace(start, visibility_hidden=False)
    total = len(root.text_content()) if not rendered else 0
    stack: list[tuple[etree._Element, _Inherited]] = [(child, start) for child in reversed(root)]
    while stack:
        el, inherited = stack.pop()
        if not isinstance(el.tag, str) or el.tag in _SKIP_TAGS:
            continue
        kind = el.get(HIDDEN_ATTR)
        style: dict[str, tuple[str, bool]] = {}
        if kind is None and not rendered:
            style = _style(el, rules)
            kind = _hidden_kind(el, style, inherited)
            if (
                kind
                and kind != "same_color"
                and (
                    revealers.reveal(el)
                    or len(el.text_content()) > 0.5 * total  # no page hides most of itself
                )
            ):
                _unhide(el)  # shown on a click or by the page's script: the extractor must keep it
                kind = None
        if kind:
            if kind == "font_size_zero":  # children may set their own size: only direct text goes
                _drop_direct_text(el, report, kind)
            else:
                report.add(kind, el.text_content())
                _remove(el)
                continue
        here = _inherit(inherited, style) if style else inherited
        stack.extend((child, here) for child in reversed(el))


def _style(el: etree._Element, rules: StyleRules) -> dict[str, tuple[str, bool]]:
    merged = rules.for_element(el)
    inline = el.get("style")
    if inline:
        for name, (value, important) in parse_style(inline).items():
            if name in merged and merged[name][1] and not important:
                continue  # a stylesheet !important beats an inline declaration
            merged[name] = (value, important)
    if el.tag == "font" and el.get("color"):
        merged.setdefault("color", (el.get("color", "").lower(), False))
    if el.get("bgcolor"):
        merged.setdefault("background-color", (el.get("bgcolor", "").lower(), False))
    return merged


def _inherit(parent: _Inherited, style: dict[str, tuple[str, bool]]) -> _Inherited:
    color, background, hidden = parent.color, parent.background, parent.visibility_hidden
    if "color" in style:
        parsed = parse_color(style["color"][0])
        color = parsed if isinstance(parsed, tuple) else None
    for prop in ("background-color", "background"):
        if prop in style:
            value = style[prop][0]
            if "url(" in value or "gradient" in value:
                background = None
                break
            parsed = parse_color(value if prop == "background-color" else value.split()[0] if value else "")
            if parsed == "transparent":
                continue
            background = parsed if isinstance(parsed, tuple) else None
            break
    if "visibility" in style:
        hidden = style["visibility"][0] in ("hidden", "collapse")
    return _Inherited(color, background, hidden)


def _hidden_kind(el: etree._Element, style: dict[str, tuple[str, bool]], inherited: _Inherited) -> str | None:
    hidden_attr = el.get("hidden")
    if hidden_attr is not None and hidden_attr.lower() != "until-found":
        return "hidden_attribute"
    if el.tag == "input" and (el.get("type") or "").lower() == "hidden":
        return None  # no text
    value = {k: v[0] for k, v in style.items()}
    if value.get("display") == "none":
        return "display_none"
    visibility = value.get("visibility")
    hidden_here = visibility in ("hidden", "collapse")
    if (hidden_here or (inherited.visibility_hidden and visibility != "visible")) and not (
        _has_visible_descendant(el)
    ):
        return "visibility_hidden"
    # opacity:0 is left to the rendered path: in static HTML it is most often the start of a
    # fade-in that a script runs (measured: it hid the whole article on 4 of 450 real pages).
    size = px(value.get("font-size", ""))
    if size is not None and size <= 0.5:
        return "font_size_zero"
    overflow_hidden = value.get("overflow", "") in ("hidden", "clip")
    for prop in ("width", "height", "max-height"):
        length = px(value.get(prop, ""))
        if length is not None and length <= 1 and overflow_hidden:
            return "zero_size"
    if zero_rect(value.get("clip", "")):
        return "clipped"
    clip_path = value.get("clip-path", "").replace(" ", "")
    if clip_path in ("inset(50%)", "inset(100%)", "circle(0)", "circle(0px)", "polygon(0000)"):
        return "clipped"
    if value.get("position") in ("absolute", "fixed"):
        for prop in ("left", "top"):
            offset = px(value.get(prop, ""))
            if offset is not None and offset <= -999:
                return "off_screen"
    indent = px(value.get("text-indent", ""))
    if indent is not None and indent <= -999:
        return "off_screen"
    transform = value.get("transform", "")
    if "scale(0)" in transform.replace(" ", "") or re.search(r"translate[xy]?\(\s*-\d{4,}", transform):
        return "off_screen"
    here = _inherit(inherited, style)
    if (
        ("color" in style or "background" in style or "background-color" in style or el.tag == "font")
        and here.color is not None
        and here.background is not None
        and _has_direct_text(el)
        and contrast(here.color, here.background) < SAME_COLOR_CONTRAST
    ):
        return "same_color"
    return None


@dataclass
class _Revealers:
    """What on a page can show a hidden element: controls naming its id, and the page's scripts."""

    ids: set[str]
    scripts: str
    rules: StyleRules

    @classmethod
    def of(cls, tree: etree._Element, rules: StyleRules) -> _Revealers:
        ids: set[str] = set()
        scripts: list[str] = []
        size = 0
        for el in tree.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag == "script" and size < _MAX_SCRIPT_CHARS:
                scripts.append(el.text or "")
                size += len(el.text or "")
            for attr in ("aria-controls", "data-target", "data-bs-target", "for"):
                value = el.get(attr)
                if value:
                    ids.update(v.lstrip("#") for v in value.split())
            href = el.get("href") if el.tag == "a" else None
            if href and href.startswith("#") and len(href) > 1:
                ids.add(href[1:])
        return cls(ids, "\n".join(scripts)[:_MAX_SCRIPT_CHARS], rules)

    def reveal(self, el: etree._Element) -> bool:
        """Tell whether a reader (or the page's own script) can show this hidden element."""
        if (el.get("role") or "").lower() in ("tabpanel", "dialog", "menu", "listbox"):
            return True
        if el.tag == "details" or any(a.tag == "details" for a in el.iterancestors()):
            return True
        ident = el.get("id")
        if ident and (ident in self.ids or f'"{ident}"' in self.scripts or f"'{ident}'" in self.scripts):
            return True  # a control names it, or a script does (streamed server rendering moves it in)
        # An accordion or a dropdown: a control right before it, or before its parent.
        for node in (el, el.getparent()):
            if node is None:
                continue
            previous = node.getprevious()
            for _ in range(2):
                if previous is None:
                    break
                if (
                    isinstance(previous.tag, str)
                    and previous.tag not in _SKIP_TAGS
                    and self._control(previous)
                ):
                    return True
                previous = previous.getprevious()
        return False

    def _control(self, el: etree._Element) -> bool:
        for i, node in enumerate(el.iter()):
            if i > 40:
                return False
            if not isinstance(node.tag, str):
                continue
            if node.tag in ("button", "summary", "label", "select"):
                return True
            if node.get("aria-expanded") is not None or node.get("onclick") is not None:
                return True
            if (node.get("role") or "").lower() in ("button", "tab", "switch"):
                return True
            if node.tag == "input" and (node.get("type") or "").lower() in ("checkbox", "radio"):
                return True
            style = parse_style(node.get("style") or "") if node.get("style") else {}
            if (
                style.get("cursor", ("",))[0] == "pointer"
                or self.rules.for_element(node).get("cursor", ("",))[0] == "pointer"
            ):
                return True
        return False


def _unhide(el: etree._Element) -> None:
    """Take the hiding out of an element's own markup (the extractor drops inline-hidden elements)."""
    el.attrib.pop("hidden", None)
    style = el.get("style")
    if style:
        kept = [d for d in style.split(";") if d.split(":", 1)[0].strip().lower() not in _HIDING]
        el.set("style", ";".join(kept))


_HIDING = frozenset({"display", "visibility", "max-height", "height", "overflow", "opacity"})


def _has_visible_descendant(el: etree._Element) -> bool:
    for child in el.iterdescendants():
        style = child.get("style") if isinstance(child.tag, str) else None
        if (
            style
            and "visible" in style.lower()
            and parse_style(style).get("visibility", ("",))[0] == "visible"
        ):
            return True
    return False


def _has_direct_text(el: etree._Element) -> bool:
    if (el.text or "").strip():
        return True
    return any((child.tail or "").strip() for child in el)


def _drop_direct_text(el: etree._Element, report: HiddenText, kind: str) -> None:
    parts = [el.text or ""] + [child.tail or "" for child in el]
    report.add(kind, " ".join(parts))
    el.text = None
    for child in el:
        child.tail = None


def _remove(el: etree._Element) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    previous = el.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _drop_comments(tree: etree._Element, report: HiddenText) -> None:
    """Remove comments; record the ones that read like prose (a message to whoever reads the source)."""
    for comment in list(tree.iter(etree.Comment)):
        text = (comment.text or "").strip()
        if text and not text.startswith("[if") and len(text.split()) >= _COMMENT_WORDS:
            report.add("comment", text)
        _remove(comment)
