"""Turn file bytes into text: BOM-aware decoding, a latin-1 fallback, and cheap binary detection."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

SNIFF_BYTES = 8192
# Control bytes that do not occur in text (tab, newlines, form feed, backspace and ESC do).
_CONTROL = bytes(b for b in range(32) if b not in (8, 9, 10, 12, 13, 27)) + b"\x7f"
_MAX_CONTROL_RATIO = 0.10
_HIGH = bytes(range(128, 256))
_MAX_HIGH_RATIO = 0.30  # latin-1 prose stays far below; compressed or random data sits near 0.5

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Sniff:
    """What the first bytes of a file say about it."""

    kind: str  # "text", "binary" or "pdf"
    encoding: str | None  # for text: the codec that will decode it
    bom: bytes = b""
    reason: str | None = None  # for binary: why it was judged binary


def sniff(head: bytes) -> Sniff:
    """Classify a file from its first bytes: text (with its encoding), PDF or binary."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return Sniff("text", encoding, bom)
    if head.startswith(b"%PDF-"):
        return Sniff("pdf", None, reason="PDF document")
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample:
        return Sniff("binary", None, reason="contains NUL bytes")
    if sample:
        controls = len(sample) - len(sample.translate(None, _CONTROL))
        if controls / len(sample) > _MAX_CONTROL_RATIO:
            return Sniff("binary", None, reason=f"{controls} control bytes in the first {len(sample)}")
        high = len(sample) - len(sample.translate(None, _HIGH))
        if high / len(sample) > _MAX_HIGH_RATIO and not _is_utf8_prefix(sample):
            return Sniff(
                "binary", None, reason=f"not UTF-8, and {high} of the first {len(sample)} bytes are non-ASCII"
            )
    return Sniff("text", "utf-8")


def _is_utf8_prefix(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, found: Sniff) -> tuple[str, str]:
    """Decode text bytes; return (text, encoding name). Falls back to latin-1 for non-UTF-8 bytes."""
    if found.bom:
        body = data[len(found.bom) :]
        encoding = found.encoding or "utf-8"
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        return body.decode(codec, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Every byte sequence is valid latin-1, so this never fails; it is the honest guess
        # for legacy Western files, and the encoding name says what was assumed.
        return data.decode("latin-1"), "latin-1"


def split_lines(text: str) -> list[str]:
    """Split text into lines as editors number them (\\n, \\r\\n or \\r), without a phantom last line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
