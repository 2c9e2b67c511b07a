"""Generators for the PDFs the pdf tests and the pdf benchmark need, good and hostile.

Well-formed files come from fpdf2 or the pypdf writer; hostile ones are written byte by byte
with ``raw_pdf`` so the damage is exactly what the test says it is.
"""

from __future__ import annotations

import io
import random
import zlib
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "theta",
    "kappa",
    "lambda",
    "sigma",
    "omega",
    "river",
    "stone",
    "cloud",
    "learning",
    "rate",
    "batch",
    "model",
    "layer",
    "token",
    "window",
    "budget",
    "context",
    "paper",
    "result",
    "method",
    "table",
]


def sentences(seed: int, count: int, words: int = 12) -> list[str]:
    """Deterministic pseudo-prose: `count` sentences of about `words` words each."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "." for _ in range(count)]


def text_pdf(
    path: Path,
    pages: Sequence[str],
    *,
    title: str | None = None,
    author: str | None = None,
    sections: Sequence[str] | None = None,
) -> Path:
    """One page per string; optional metadata and one outline entry per page."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    for i, text in enumerate(pages):
        pdf.add_page()
        if sections:
            pdf.start_section(sections[i])
        pdf.multi_cell(0, 5, text)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, method: str, password: str, text: str = "Secret launch code 4417.") -> Path:
    """A one-page file encrypted with AES_256, AES_128 or RC4 (user password = owner password)."""
    pdf = FPDF()
    pdf.set_encryption(
        owner_password=password,
        user_password=password,
        encryption_method=EncryptionMethod[method],
    )
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def image_only_pdf(path: Path) -> Path:
    """A scanned-looking page: one image, no text operators at all."""
    from PIL import Image

    img = Image.new("RGB", (120, 80), (200, 180, 160))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buf, x=10, y=10, w=120)
    pdf.output(str(path))
    return path


def mixed_pdf(path: Path) -> Path:
    """Page 1 has text, page 2 is only an image, page 3 has text."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 20, 30)).save(buf, format="PNG")
    buf.seek(0)
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 6, "First page words.")
    pdf.add_page()
    pdf.image(buf, x=10, y=10, w=100)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Third page words.")
    pdf.output(str(path))
    return path


def two_column_pdf(path: Path, left: Sequence[str], right: Sequence[str], *, interleaved: bool) -> Path:
    """A two-column page; `interleaved` draws the lines row by row across both columns.

    Column-by-column drawing is what most typesetters emit; row-by-row drawing is what some
    converters emit, and it is the case that breaks naive stream-order extraction.
    """
    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    top, step = 20.0, 4.5
    xs = (12.0, 110.0)
    rows = max(len(left), len(right))
    if interleaved:
        for i in range(rows):
            for x, col in zip(xs, (left, right), strict=True):
                if i < len(col):
                    pdf.text(x, top + i * step, col[i])
    else:
        for x, col in zip(xs, (left, right), strict=True):
            for i, line in enumerate(col):
                pdf.text(x, top + i * step, line)
    pdf.output(str(path))
    return path


def raw_pdf(
    objects: dict[int, bytes],
    *,
    root: int = 1,
    trailer_extra: bytes = b"",
    with_xref: bool = True,
) -> bytes:
    """Serialise numbered object bodies into a PDF with a correct classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    if not with_xref:
        return bytes(out)
    size = max(objects) + 1
    xref_at = len(out)
    out += _xref_table(offsets, size)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        trailer_extra,
        xref_at,
    )
    return bytes(out)


def _xref_table(offsets: dict[int, int], size: int) -> bytes:
    lines = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
    for num in range(1, size):
        if num in offsets:
            lines.append(b"%010d 00000 n \n" % offsets[num])
        else:
            lines.append(b"0000000000 65535 f \n")
    return b"".join(lines)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def many_pages_pdf(path: Path, count: int, *, label: str = "Page") -> Path:
    """`count` small text pages, written directly (fpdf2 is slow for thousands of pages)."""
    objects: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: FONT}
    kids = []
    for i in range(count):
        page, content = 4 + 2 * i, 5 + 2 * i
        kids.append(b"%d 0 R" % page)
        text = b"BT /F1 12 Tf 72 720 Td (%s %d of %d: marker-%d) Tj ET" % (
            label.encode(),
            i + 1,
            count,
            i + 1,
        )
        objects[content] = _stream(text)
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), count)
    path.write_bytes(raw_pdf(objects))
    return path


def zero_page_pdf(path: Path) -> Path:
    """A structurally valid file whose page tree is empty."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}
    path.write_bytes(raw_pdf(objects))
    return path


def _page_objects(text: bytes) -> dict[int, bytes]:
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        4: FONT,
        5: _stream(b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text),
    }


def cyclic_outline_pdf(path: Path) -> Path:
    """One page whose outline items point at each other in a /Next cycle (and /First loop)."""
    objects = _page_objects(b"Cyclic outline body text.")
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>"
    objects[6] = b"<< /Type /Outlines /First 7 0 R /Last 8 0 R /Count 2 >>"
    objects[7] = b"<< /Title (Intro) /Parent 6 0 R /Next 8 0 R /First 8 0 R /Dest [3 0 R /Fit] >>"
    objects[8] = b"<< /Title (Loop) /Parent 6 0 R /Prev 7 0 R /Next 7 0 R /First 7 0 R /Dest [3 0 R /Fit] >>"
    path.write_bytes(raw_pdf(objects))
    return path


def circular_prev_xref_pdf(path: Path) -> Path:
    """Two xref sections whose trailers name each other as /Prev."""
    body = _page_objects(b"Circular xref body text.")
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for num in sorted(body):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body[num] + b"\nendobj\n"
    first_at = len(out)
    first = _xref_table(offsets, 6)
    # The second section's offset is known once the first (with its trailer) is written;
    # the trailer's number is padded to a fixed width so the length does not depend on it.
    trailer_a_tpl = b"trailer\n<< /Size 6 /Root 1 0 R /Prev %010d >>\n"
    second_at = first_at + len(first) + len(trailer_a_tpl % 0)
    out += first + trailer_a_tpl % second_at
    out += _xref_table(offsets, 6)
    out += b"trailer\n<< /Size 6 /Root 1 0 R /Prev %010d >>\nstartxref\n%d\n%%%%EOF\n" % (first_at, second_at)
    path.write_bytes(bytes(out))
    return path


def flate_bomb_pdf(path: Path, inflated_bytes: int = 1_100_000_000) -> Path:
    """A page whose content stream inflates to `inflated_bytes` of spaces.

    The stream is compressed in 1 MiB chunks, so building it never holds the inflated data.
    """
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = []
    remaining = inflated_bytes
    while remaining > 0:
        n = min(remaining, len(chunk))
        parts.append(comp.compress(chunk[:n]))
        remaining -= n
    parts.append(comp.flush())
    data = b"".join(parts)
    objects = _page_objects(b"unused")
    objects[5] = _stream(data, b"/Filter /FlateDecode ")
    path.write_bytes(raw_pdf(objects))
    return path


def random_bytes_pdf(path: Path, size: int = 20_000, seed: int = 7) -> Path:
    """Noise with a .pdf name."""
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def truncated_copy(source: Path, dest: Path, *, keep: float | int) -> Path:
    """Copy `source` cut to `keep` bytes (int) or to that share of its length (float)."""
    data = source.read_bytes()
    n = keep if isinstance(keep, int) else int(len(data) * keep)
    dest.write_bytes(data[:n])
    return dest


def operator_flood_pdf(path: Path, inflated_bytes: int = 70_000_000) -> Path:
    """A page whose content stream (just under pypdf's 75 MB inflate limit) is millions of
    tiny text operators: cheap to store, very expensive in time and memory to parse."""
    unit = b"BT /F1 1 Tf (x) Tj ET\n"
    comp = zlib.compressobj(9)
    block = unit * ((1 << 20) // len(unit))
    parts = [comp.compress(block) for _ in range(inflated_bytes // len(block))]
    parts.append(comp.flush())
    objects = _page_objects(b"unused")
    objects[5] = _stream(b"".join(parts), b"/Filter /FlateDecode ")
    path.write_bytes(raw_pdf(objects))
    return path


def corpus(base: Path) -> dict[str, Path]:
    """Every fixture file the pdf tests use, built once into `base` (idempotent across modules)."""
    names = {
        "paper": "paper.pdf",
        "long": "long.pdf",
        "mixed": "mixed.pdf",
        "scan": "scan.pdf",
        "many": "many.pdf",
        "zero": "zero.pdf",
        "cyclic_outline": "cyclic-outline.pdf",
        "circular_xref": "circular-xref.pdf",
        "bomb": "bomb.pdf",
        "flood": "flood.pdf",
        "noise": "noise.pdf",
        "truncated": "truncated.pdf",
        "half": "half.pdf",
        "aes256": "aes256.pdf",
        "aes128": "aes128.pdf",
        "rc4": "rc4.pdf",
    }
    paths = {key: base / name for key, name in names.items()}
    done = base / ".complete"
    if done.exists():
        return paths
    base.mkdir(parents=True, exist_ok=True)
    text_pdf(
        paths["paper"],
        [
            "Introduction. We study long context models.",
            "Method. The learning rate was 3e-4 with a batch of 64.",
            "Results. Accuracy rose to 91 percent.",
        ],
        title="Long Context Study",
        author="A. Author",
        sections=["Introduction", "Method", "Results"],
    )
    text_pdf(paths["long"], [" ".join(sentences(i, 40)) for i in range(6)])
    mixed_pdf(paths["mixed"])
    image_only_pdf(paths["scan"])
    many_pages_pdf(paths["many"], 2000)
    zero_page_pdf(paths["zero"])
    cyclic_outline_pdf(paths["cyclic_outline"])
    circular_prev_xref_pdf(paths["circular_xref"])
    flate_bomb_pdf(paths["bomb"])
    operator_flood_pdf(paths["flood"])
    random_bytes_pdf(paths["noise"])
    truncated_copy(paths["long"], paths["truncated"], keep=paths["long"].stat().st_size - 300)
    truncated_copy(paths["long"], paths["half"], keep=0.5)
    for key, method in (("aes256", "AES_256"), ("aes128", "AES_128"), ("rc4", "RC4")):
        encrypted_pdf(paths[key], method, "s3cret")
    done.write_text("ok")
    return paths
