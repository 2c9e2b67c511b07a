"""Office documents and notebooks made on the spot (python-docx, python-pptx, openpyxl), good and broken."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path


def docx_file(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_heading("Budget report", 1)
    doc.add_paragraph("The travel budget for 2026 is 7 million euros.")
    doc.add_heading("Risks", 2)
    doc.add_paragraph("Supplier delays could move the launch to June.")
    table = doc.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "item", (0, 1): "cost", (1, 0): "flights", (1, 1): "4.2M"}.items():
        table.cell(r, c).text = text
    doc.save(path)
    return path


def pptx_file(path: Path) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title, body in (("Intro", "Why we migrate"), ("Plan", "Ship the importer in May")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.slides[1].notes_slide.notes_text_frame.text = "Mention the freeze window."
    deck.save(path)
    return path


def xlsx_file(path: Path, *, huge: bool = False) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["item", "cost"])
    sheet.append(["flights", 4.2])
    book.create_sheet("Notes").append(["Prices include VAT"])
    if huge:
        sheet.cell(row=1_000_000, column=2, value="far away")
    book.save(path)
    return path


def epub_file(path: Path) -> Path:
    chapter = (
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chapter one</h1>'
        "<p>The lighthouse keeper counted forty-two ships.</p></body></html>"
    )
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Harbour tales</dc:title>'
        '<dc:identifier id="id">x</dc:identifier></metadata><manifest><item id="c1" href="c1.xhtml" '
        'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>'
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container)
        z.writestr("content.opf", opf)
        z.writestr("c1.xhtml", chapter)
    return path


def notebook_file(path: Path) -> Path:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Load the data\n", "We read sales.csv."]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "import pandas as pd\ndf = pd.read_csv('sales.csv')",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "loaded 120 rows\n"}]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "df.describe()",
         "outputs": [{"output_type": "execute_result", "data": {"text/plain": "x" * 50_000}, "metadata": {}},
                     {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo" * 1000}, "metadata": {}}]},
    ]  # fmt: skip
    nb = {
        "cells": cells,
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


def corrupt(path: Path) -> Path:
    """A file with an office name whose zip is cut short (a broken download)."""
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>" * 100)
    path.write_bytes(good.getvalue()[:60])
    return path


def encrypted(path: Path) -> Path:
    """What Office writes for a password-protected file: an OLE container with EncryptionInfo."""
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 512
    )
    return path


def zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\x00" * 20_000_000)
    return path
