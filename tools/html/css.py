"""The little of CSS that tells whether text shows: declarations, simple page rules, colours.

No CSS engine: a declaration list, the plain rules of a page's own <style> blocks with
selectors we can match without one (tag, .class, #id), lengths in px, and colour contrast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

MAX_RULES = 5000  # selectors read from <style> blocks; a page with more is not a page
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_BRACE = re.compile(r"[{}]")
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(px|em|rem|%|vw|vh|pt)?$")

Declarations = dict[str, tuple[str, bool]]


def parse_style(style: str) -> dict[str, tuple[str, bool]]:
    """Parse a CSS declaration list into {property: (value, important)} (lower-cased)."""
    out: dict[str, tuple[str, bool]] = {}
    for decl in style.split(";"):
        name, sep, value = decl.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        if not name or not name.replace("-", "").isalpha():
            continue  # "*display" and other hacks are not properties
        value = value.strip().lower()
        important = value.endswith("!important")
        if important:
            value = value[: -len("!important")].strip()
        out[name] = (value, important)
    return out


_RULE = re.compile(r"([^{}@]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?((?:[.#][\w-]+)*)$", re.I)
_HIDING_PROPERTIES = ("display", "visibility", "opacity", "font-size", "clip", "clip-path", "color",
                      "background", "background-color", "position", "left", "top", "text-indent",
                      "width", "height", "overflow", "max-height", "transform", "cursor")  # fmt: skip


@dataclass
class StyleRules:
    """The simple rules of a page's <style> blocks: tag, .class, #id and tag.class selectors."""

    by_key: dict[str, list[dict[str, tuple[str, bool]]]] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: etree._Element) -> StyleRules:
        rules = cls()
        seen = 0
        for style in tree.iter("style"):
            css = _strip_blocks(style.text or "")
            for selectors, body in _RULE.findall(css):
                decls = {k: v for k, v in parse_style(body).items() if k in _HIDING_PROPERTIES}
                if not decls:
                    continue
                for selector in selectors.split(","):
                    key = _selector_key(selector.strip())
                    if key is None:
                        continue
                    rules.by_key.setdefault(key, []).append(decls)
                    seen += 1
                    if seen > MAX_RULES:
                        return rules
        return rules

    def for_element(self, el: etree._Element) -> dict[str, tuple[str, bool]]:
        if not self.by_key:
            return {}
        out: dict[str, tuple[str, bool]] = {}
        tag = el.tag if isinstance(el.tag, str) else ""
        keys = [tag]
        keys += ["." + c for c in (el.get("class") or "").split()]
        if el.get("id"):
            keys.append("#" + el.get("id", ""))
        for key in keys:
            for decls in self.by_key.get(key, ()):
                out.update(decls)
        return out


def _strip_blocks(css: str) -> str:
    """Drop comments and every @-block (media queries, keyframes, supports): only plain rules stay."""
    css = _COMMENT.sub("", css)
    # str.find and a regex over the braces: pages inline hundreds of kB of CSS, and a loop over
    # every character cost as much as the extraction itself.
    out, i = [], 0
    while (at := css.find("@", i)) != -1:
        out.append(css[i:at])
        j, k = css.find("{", at), css.find(";", at)
        if j == -1 or (k != -1 and k < j):  # @import ...;
            i = (k + 1) if k != -1 else len(css)
            continue
        depth, i = 1, len(css)
        for brace in _BRACE.finditer(css, j + 1):
            depth += 1 if brace.group() == "{" else -1
            if not depth:
                i = brace.end()
                break
    out.append(css[i:])
    return "".join(out)


def _selector_key(selector: str) -> str | None:
    """A key for a selector we can match without a CSS engine: one tag, class or id (or tag.class)."""
    m = _SIMPLE_SELECTOR.match(selector)
    if not m or not selector:
        return None
    tag, rest = m.group(1), m.group(2)
    parts = re.findall(r"[.#][\w-]+", rest)
    if len(parts) > 1:
        return None
    if parts and tag:
        return None if parts[0][0] == "#" else parts[0]  # div.hidden behaves like .hidden here
    return parts[0] if parts else (tag.lower() if tag else None)


def px(value: str) -> float | None:
    m = _NUMBER.match(value.strip())
    if not m:
        return None
    number = float(m.group(1))
    unit = m.group(2) or "px"
    return number * {"px": 1, "pt": 1.33, "em": 16, "rem": 16}.get(unit, 1)


# ---------------------------------------------------------------------------- colours

_NAMED = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "silver": (192, 192, 192), "whitesmoke": (245, 245, 245), "snow": (255, 250, 250),
    "ivory": (255, 255, 240), "navy": (0, 0, 128), "orange": (255, 165, 0),
}  # fmt: skip
RGB = tuple[int, int, int]


def parse_color(value: str) -> RGB | None | str:
    """An (r, g, b) tuple, "transparent", or None when the value is not a colour we know."""
    value = value.strip().lower()
    if value in ("transparent", "rgba(0,0,0,0)"):
        return "transparent"
    if value in _NAMED:
        return _NAMED[value]
    if value.startswith("#"):
        h = value[1:]
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h)
        if len(h) in (6, 8) and all(c in "0123456789abcdef" for c in h):
            if len(h) == 8 and h[6:] == "00":
                return "transparent"
            return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
        return None
    m = re.match(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$", value)
    if m:
        alpha = m.group(4)
        if alpha is not None and float(alpha.rstrip("%")) == 0:
            return "transparent"
        return (int(float(m.group(1))), int(float(m.group(2))), int(float(m.group(3))))
    return None


def _luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio (1 = the same colour, 21 = black on white)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


#: Below this contrast text is unreadable: WCAG asks 4.5 for body text; 1.15 is "the same colour".
SAME_COLOR_CONTRAST = 1.15


def zero_rect(clip: str) -> bool:
    """clip: rect(t r b l) that shows (almost) nothing, as the visually-hidden pattern uses."""
    clip = clip.strip()
    if not clip.startswith("rect(") or not clip.endswith(")"):
        return False
    sizes = [px(p) for p in re.split(r"[,\s]+", clip[5:-1].strip()) if p]
    if len(sizes) != 4 or any(s is None for s in sizes):
        return False
    top, right, bottom, left = (s or 0.0 for s in sizes)
    return bottom - top <= 1 or right - left <= 1
