"""Text a PDF reader does not see: white on the page, invisible render mode, off the page, tiny.

A content stream is followed as a viewer would draw it, keeping only what decides visibility:
the fill colour, the text render mode, the current and text matrices, and the areas painted so
far (filled paths, images). A text-showing operator is hidden when its glyphs would be
invisible: filled white where nothing dark was painted beneath, drawn in render mode 3/7 where
no image lies under them (an OCR layer over a scan is the page's real text and stays), placed
entirely off the visible box, or smaller than a point.

`HiddenTracker` is fed the operators of one pass (pypdf's `visitor_operand_before` during the
normal extraction, so a clean page costs no second parse). Only a page where it found something
is walked again, to drop the hidden operators and extract what is left.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
SHOW_OPS = frozenset({b"Tj", b"TJ", b"'", b'"'})
_PAINT_FILL = frozenset({b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"})
_PATH_END = frozenset({b"S", b"s", b"n"})
_WHITE = 0.97  # a component at or above this (CMYK: at or below 1 - this) counts as white
_MIN_SIZE = 1.0  # points: glyphs below this cannot be read


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _point(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])


def _nums(operands: list[Any]) -> list[float] | None:
    try:
        return [float(v) for v in operands]
    except (TypeError, ValueError):
        return None


@dataclass
class _State:
    fill_white: bool = False
    render_mode: int = 0
    cm: Matrix = IDENTITY
    size: float = 0.0
    leading: float = 0.0


@dataclass
class HiddenTracker:
    """Follows one page's operators and tells which text-showing ones a reader cannot see."""

    box: Box  # the visible page area (crop box)
    state: _State = field(default_factory=_State)
    stack: list[_State] = field(default_factory=list)
    tm: Matrix = IDENTITY
    tlm: Matrix = IDENTITY
    path: list[tuple[float, float]] = field(default_factory=list)
    painted: list[Box] = field(default_factory=list)  # dark fills: white text over them is visible
    images: list[Box] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    shows: int = 0  # text-showing operators seen, in order
    hidden_shows: list[int] = field(default_factory=list)  # their indices (this pass)

    def op(self, operator: bytes, operands: list[Any], *_: Any) -> None:
        """Feed one operator (the signature of pypdf's visitor_operand_before)."""
        s = self.state
        if operator == b"q":
            self.stack.append(_State(s.fill_white, s.render_mode, s.cm, s.size, s.leading))
        elif operator == b"Q":
            if self.stack:
                self.state = self.stack.pop()
        elif operator == b"cm":
            m = _nums(operands)
            if m and len(m) == 6:
                s.cm = _mul((m[0], m[1], m[2], m[3], m[4], m[5]), s.cm)
        elif operator in (b"g", b"rg", b"k", b"sc", b"scn"):
            s.fill_white = _is_white(operator, operands)
        elif operator == b"cs":
            s.fill_white = False  # a new colour space starts at black
        elif operator == b"Tr":
            m = _nums(operands)
            s.render_mode = int(m[0]) if m else 0
        elif operator == b"Tf" and len(operands) == 2:
            m = _nums(operands[1:])
            s.size = abs(m[0]) if m else s.size
        elif operator == b"TL":
            m = _nums(operands)
            s.leading = m[0] if m else s.leading
        elif operator == b"BT":
            self.tm = self.tlm = IDENTITY
        elif operator == b"Tm":
            m = _nums(operands)
            if m and len(m) == 6:
                self.tm = self.tlm = (m[0], m[1], m[2], m[3], m[4], m[5])
        elif operator in (b"Td", b"TD"):
            m = _nums(operands)
            if m and len(m) == 2:
                if operator == b"TD":
                    s.leading = -m[1]
                self._next_line(m[0], m[1])
        elif operator == b"T*":
            self._next_line(0.0, -s.leading)
        elif operator in SHOW_OPS:
            if operator in (b"'", b'"'):
                self._next_line(0.0, -s.leading)
            kind = self._hidden_kind(operands)
            if kind:
                self.kinds[kind] += 1
                self.hidden_shows.append(self.shows)
            self.shows += 1
        elif operator == b"re":
            m = _nums(operands)
            if m and len(m) == 4:
                x, y, w, h = m
                self.path += [_point(s.cm, x, y), _point(s.cm, x + w, y + h)]
        elif operator in (b"m", b"l", b"c", b"v", b"y"):
            m = _nums(operands)
            if m:
                self.path += [_point(s.cm, m[i], m[i + 1]) for i in range(0, len(m) - 1, 2)]
        elif operator in _PAINT_FILL:
            if self.path and not s.fill_white:
                self.painted.append(_bbox(self.path))
            self.path = []
        elif operator in _PATH_END:
            self.path = []
        elif operator == b"Do":
            corners = [_point(s.cm, x, y) for x in (0.0, 1.0) for y in (0.0, 1.0)]
            self.images.append(_bbox(corners))
        elif operator == b"sh":
            self.painted.append(self.box)

    def _next_line(self, tx: float, ty: float) -> None:
        self.tlm = _mul((1.0, 0.0, 0.0, 1.0, tx, ty), self.tlm)
        self.tm = self.tlm

    def _hidden_kind(self, operands: list[Any]) -> str | None:
        s = self.state
        full = _mul(self.tm, s.cm)
        x, y = full[4], full[5]
        scale = math.sqrt(abs(full[0] * full[3] - full[1] * full[2])) or 1.0
        size = s.size * scale
        if 0 < size < _MIN_SIZE:
            return "tiny_text"
        chars = sum(len(v) for v in _strings(operands))
        width = chars * max(size, 1.0) * 0.6
        x0, y0, x1, y1 = self.box
        if x >= x1 or x + width <= x0 or y >= y1 + size or y + size <= y0:
            return "off_page"
        if s.render_mode in (3, 7):
            return None if _inside(self.images, x, y) else "invisible_text"
        if s.fill_white and s.render_mode in (0, 2, 4, 6):
            covered = _inside(self.painted, x, y) or _inside(self.images, x, y)
            return None if covered else "white_text"
        return None


def _strings(operands: list[Any]) -> list[bytes]:
    out: list[bytes] = []
    for v in operands:
        if isinstance(v, bytes | str):
            out.append(v.encode("latin-1", "replace") if isinstance(v, str) else v)
        elif isinstance(v, list):
            out += _strings(v)
    return out


def _is_white(operator: bytes, operands: list[Any]) -> bool:
    m = _nums(operands)
    if not m:
        return False  # a pattern or a named colour: assume it shows
    if operator == b"k" or len(m) == 4:
        return all(v <= 1 - _WHITE for v in m)
    return all(v >= _WHITE for v in m)


def _bbox(points: list[tuple[float, float]]) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _inside(boxes: list[Box], x: float, y: float) -> bool:
    return any(b[0] - 1 <= x <= b[2] + 1 and b[1] - 1 <= y <= b[3] + 1 for b in boxes)


def split_operations(
    operations: list[tuple[list[Any], bytes]], box: Box
) -> tuple[list[tuple[list[Any], bytes]], list[tuple[list[Any], bytes]], Counter[str]]:
    """Walk a page's operators; return (visible page, hidden text only, kinds of hidden text).

    The hidden-only stream keeps every state operator, so extracting it spells the hidden text.
    """
    tracker = HiddenTracker(box)
    visible: list[tuple[list[Any], bytes]] = []
    hidden: list[tuple[list[Any], bytes]] = []
    for operands, operator in operations:
        before = len(tracker.hidden_shows)
        tracker.op(operator, operands)
        if operator in SHOW_OPS:
            shown, other = (hidden, visible) if len(tracker.hidden_shows) > before else (visible, hidden)
            shown.append((operands, operator))
            if operator in (b"'", b'"'):
                other.append(([], b"T*"))  # the operator also moved to the next line
            continue
        visible.append((operands, operator))
        hidden.append((operands, operator))
    return visible, hidden, tracker.kinds


MAX_SAMPLES = 5
SAMPLE_CHARS = 160


def drop_hidden_text(page: Any, reader: Any, box: Box, extract: Any) -> tuple[str, dict[str, Any] | None]:
    """Rewrite the page without its hidden text; return the visible text and a report.

    `extract(page)` is the caller's own extraction, so both texts come out the same way. The
    report has the shape web pages use in ``meta["hidden"]``: count, chars, kinds, samples.
    """
    from pypdf.generic import ContentStream, NameObject

    contents = page.get_contents()
    if contents is None:
        return extract(page), None
    visible, hidden, kinds = split_operations(ContentStream(contents, reader).operations, box)
    if not kinds:
        return extract(page), None
    only_hidden = ContentStream(None, reader)
    only_hidden.operations = hidden
    page[NameObject("/Contents")] = only_hidden  # in memory only: the file is never written
    hidden_text = extract(page)
    shown = ContentStream(None, reader)
    shown.operations = visible
    page[NameObject("/Contents")] = shown
    text = extract(page)
    kind = "+".join(sorted(kinds))
    lines = [" ".join(ln.split()) for ln in hidden_text.splitlines() if ln.strip()]
    report = {
        "count": sum(kinds.values()),
        "chars": sum(len(ln) for ln in lines),
        "kinds": dict(kinds),
        "samples": [{"kind": kind, "text": ln[:SAMPLE_CHARS]} for ln in lines[:MAX_SAMPLES]],
    }
    return text, report


def crop_box(page: Any) -> Box:
    """The part of the page a viewer shows."""
    box = page.cropbox
    return (float(box.left), float(box.bottom), float(box.right), float(box.top))
