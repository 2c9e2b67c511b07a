"""Invisible characters, and HiddenText: the report of text a reader does not see.

Zero-width, bidi-control and tag characters can carry a message no reader sees: HTML extraction
(tools/html/extract.py) and the screening of every packed document (agent/safety/screening.py)
drop them here. The same report counts what tools/html/hidden.py drops from a page.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 5
SAMPLE_CHARS = 160
_WS = re.compile(r"\s+")

# Invisible characters. Zero-width joiners (U+200C/D) are orthography in Persian, Indic
# scripts and emoji sequences, so they are kept between letters or symbols and dropped
# elsewhere; tag characters (U+E0000-E007F) can spell a whole hidden message and are decoded
# into the sample.
_ZERO_WIDTH = "\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad"
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(
    f"[{_ZERO_WIDTH}{_BIDI}\u200c\u200d\U000e0000-\U000e007f\U000e0100-\U000e01ef\ufe00-\ufe0f]"
)


@dataclass
class HiddenText:
    """What extraction dropped because a reader would not see it."""

    count: int = 0
    chars: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, str]] = field(default_factory=list)

    def add(self, kind: str, text: str) -> None:
        text = _WS.sub(" ", text).strip()
        if not text:
            return
        self.count += 1
        self.chars += len(text)
        self.kinds[kind] += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append({"kind": kind, "text": text[:SAMPLE_CHARS]})

    def as_meta(self) -> dict[str, Any] | None:
        """The report as document metadata (``meta["hidden"]``), or None when nothing was hidden."""
        if not self.count:
            return None
        return {"count": self.count, "chars": self.chars, "kinds": dict(self.kinds), "samples": self.samples}


def strip_invisible(text: str, report: HiddenText | None = None) -> str:
    """Remove zero-width, bidi-control and tag characters; joiners between letters stay."""
    if not _INVISIBLE.search(text):
        return text
    out: list[str] = []
    dropped = 0
    tags: list[str] = []
    pos = 0
    for m in _INVISIBLE.finditer(text):  # match by match: a long text is not walked per character
        i, ch = m.start(), m.group()
        code = ord(ch)
        if ch in "\u200c\u200d" and _joins(text, i):
            continue
        if 0xFE00 <= code <= 0xFE0F and i and _is_symbol(text[i - 1]):
            continue  # emoji presentation selector after a symbol: part of the glyph
        if 0xE0020 <= code <= 0xE007F and _in_flag(text, i):
            continue  # a subdivision flag emoji (England, Scotland) is spelled with tag characters
        out.append(text[pos:i])
        pos = i + 1
        if ch == "\u00ad":  # soft hyphen: a line-break hint, never a hidden message
            continue
        if 0xE0020 <= code <= 0xE007E:
            tags.append(chr(code - 0xE0000))
        dropped += 1
    out.append(text[pos:])
    if report is not None and dropped:
        message = "".join(tags).strip()
        sample = f"{dropped} invisible characters" + (f" spelling {message!r}" if message else "")
        report.count += 1
        report.chars += dropped
        report.kinds["invisible_chars"] += 1
        if len(report.samples) < MAX_SAMPLES:
            report.samples.append({"kind": "invisible_chars", "text": sample[:SAMPLE_CHARS]})
    return "".join(out)


def _in_flag(text: str, i: int) -> bool:
    """Tell whether the tag character at i follows U+1F3F4 (waving black flag) through tags only."""
    j = i
    while j > 0 and 0xE0020 <= ord(text[j - 1]) <= 0xE007E:
        j -= 1
    return j > 0 and text[j - 1] == "\U0001f3f4"


def _joins(text: str, i: int) -> bool:
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    return bool(before and after) and _letterish(before) and _letterish(after)


def _letterish(ch: str) -> bool:
    return ch.isalpha() or _is_symbol(ch) or unicodedata.category(ch) in ("Mn", "Mc")


def _is_symbol(ch: str) -> bool:
    return unicodedata.category(ch) == "So"
