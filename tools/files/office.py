"""Office documents and notebooks as text parts: slide N, sheet NAME, section HEADING, cell N.

.docx, .pptx, .xlsx and .epub go through markitdown (Microsoft's maintained converter), after
checks that bound what it is handed: the zip's entry count, unpacked size and compression
ratio (zip bombs), encryption (a password-protected OOXML file is an OLE container, not a
zip) and a spreadsheet's declared size. Notebooks are JSON: their markdown and code cells are
kept in order, outputs only while they are small. Every failure is a ToolError that names
the file and says why, so a folder read goes on with its other files.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import DamagedDocument, EncryptedDocument, TooLarge, ToolError

OFFICE_EXTENSIONS = frozenset({".docx", ".pptx", ".xlsx", ".epub"})
NOTEBOOK_EXTENSIONS = frozenset({".ipynb"})
MAX_ZIP_ENTRIES = 20_000
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200  # unpacked/packed; real documents stay far below, zip bombs far above
MAX_SHEET_CELLS = 500_000  # a sheet declaring more is summarized by refusal, not loaded
MAX_OUTPUT_CHARS = 2_000  # notebook outputs longer than this are left out (with a note)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SLIDE = re.compile(r"^<!-- Slide number: (\d+) -->\s*$", re.M)
_SHEET = re.compile(r"^## (.+)$", re.M)
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+(\d+):([A-Z]+)(\d+)"')


@dataclass(frozen=True)
class Part:
    """One citable piece of a document: its label ("slide 3", "sheet Budget", "cell 4") and text."""

    label: str
    text: str


def is_document(path: Path) -> bool:
    """Tell whether a file is an office document or a notebook this module reads."""
    return path.suffix.lower() in OFFICE_EXTENSIONS | NOTEBOOK_EXTENSIONS


def read_document(path: Path, data: bytes, name: str) -> list[Part]:
    """Read an office document or notebook's bytes into parts; raise ToolError naming `name`."""
    suffix = path.suffix.lower()
    if suffix in NOTEBOOK_EXTENSIONS:
        return read_notebook(data, name)
    _check_container(data, name, suffix)
    markdown = _convert(data, name, suffix)
    if suffix == ".pptx":
        return _split(markdown, _SLIDE, lambda m: f"slide {m.group(1)}")
    if suffix == ".xlsx":
        return _split(markdown, _SHEET, lambda m: f"sheet {m.group(1).strip()}")
    return _sections(markdown)


def _check_container(data: bytes, name: str, suffix: str) -> None:
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data[:2_000_000]:
            raise EncryptedDocument(
                f"{name} is password-protected (an encrypted {suffix} file); forage cannot open it. "
                "Save an unprotected copy to read it"
            )
        raise DamagedDocument(
            f"{name} is an old binary Office file (.doc/.xls/.ppt) named {suffix}; save it in the "
            f"current {suffix} format to read it"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DamagedDocument(
            f"{name} is not a valid {suffix} file (its zip container is damaged: {exc})"
        ) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise TooLarge(f"{name} holds {len(entries):,} zip entries (over {MAX_ZIP_ENTRIES:,}); not read")
        unpacked = sum(e.file_size for e in entries)
        if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * max(1, len(data)):
            raise TooLarge(
                f"{name} unpacks to {unpacked:,} bytes from {len(data):,} (a zip bomb or a huge document); not read"
            )
        if suffix == ".xlsx":
            for entry in entries:
                if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                    with archive.open(entry) as sheet:
                        _check_sheet(sheet.read(4096), name, entry.filename)
        bad = archive.testzip() if unpacked < 50 * 1024 * 1024 else None
        if bad is not None:
            raise DamagedDocument(f"{name} is damaged: its part {bad!r} fails its checksum")


def _check_sheet(head: bytes, name: str, part: str) -> None:
    m = _DIMENSION.search(head)
    if not m:
        return
    rows = int(m.group(3))
    columns = 0
    for ch in m.group(2).decode():
        columns = columns * 26 + (ord(ch) - 64)
    if rows * columns > MAX_SHEET_CELLS:
        raise TooLarge(
            f"{name}: sheet {part.rsplit('/', 1)[-1]} spans {rows:,} rows x {columns:,} columns "
            f"(over {MAX_SHEET_CELLS:,} cells); export the part you need as CSV and read that"
        )


def _convert(data: bytes, name: str, suffix: str) -> str:
    from markitdown import MarkItDown, StreamInfo  # pandas and friends load only when needed

    converter = MarkItDown(enable_plugins=False)
    try:
        result = converter.convert_stream(io.BytesIO(data), stream_info=StreamInfo(extension=suffix))
    except ToolError:
        raise
    # markitdown wraps whatever its parsers raise on a bad file; the message says which.
    except Exception as exc:  # noqa: BLE001
        reason = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
        raise DamagedDocument(f"{name} could not be converted ({reason}); it may be damaged") from exc
    return (result.text_content or "").strip()


def _split(markdown: str, marker: re.Pattern[str], label: Any) -> list[Part]:
    cuts = list(marker.finditer(markdown))
    parts = []
    for i, m in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(markdown)
        body = markdown[m.end() : end].strip() if marker is _SLIDE else markdown[m.start() : end].strip()
        if body:
            parts.append(Part(label(m), body))
    if not cuts and markdown.strip():
        parts.append(Part("whole", markdown.strip()))
    return parts


def _sections(markdown: str) -> list[Part]:
    from tools.html.extract import split_sections  # the same heading cuts as web pages

    if not markdown:
        return []
    return [Part(s.label, s.text.strip()) for s in split_sections(markdown) if s.text.strip()]


def read_notebook(data: bytes, name: str) -> list[Part]:
    """A notebook's cells in order: markdown as written, code fenced, small outputs kept."""
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DamagedDocument(f"{name} is not a readable notebook (.ipynb JSON): {exc}") from exc
    language = (notebook.get("metadata", {}).get("language_info") or {}).get("name") or "python"
    parts = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        kind = cell.get("cell_type")
        if kind == "markdown" and source.strip():
            parts.append(Part(f"cell {number}", source.strip()))
        elif kind == "code" and (source.strip() or cell.get("outputs")):
            body = f"```{language}\n{source.rstrip()}\n```"
            out = _outputs(cell.get("outputs") or [])
            parts.append(Part(f"cell {number}", body + (f"\n\nOutput:\n{out}" if out else "")))
    return parts


def _outputs(outputs: list[Any]) -> str:
    shown: list[str] = []
    for output in outputs:
        if not isinstance(output, dict):
            continue
        data = output.get("data") or {}
        text = _text(output.get("text")) or _text(data.get("text/plain"))
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        if not text and any(k.startswith("image/") for k in data):
            shown.append("[an image output, left out]")
            continue
        if len(text) > MAX_OUTPUT_CHARS:
            shown.append(f"[an output of {len(text):,} characters, left out]")
        elif text.strip():
            shown.append(text.rstrip())
    return "\n".join(shown)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""
