"""Office documents and notebooks: content by slide, sheet, section and cell; broken files fail alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import officefixtures as fx
from tools.errors import BinaryContent, DamagedDocument, EncryptedDocument, TooLarge
from tools.files.front import read_file, read_many
from tools.files.office import read_document
from tools.roots import Roots


def parts(path: Path) -> dict[str, str]:
    return {p.label: p.text for p in read_document(path, path.read_bytes(), path.name)}


def test_each_format_becomes_labelled_parts(tmp_path: Path) -> None:
    doc = parts(fx.docx_file(tmp_path / "report.docx"))
    assert list(doc) == ["Budget report", "Risks"]
    assert "7 million euros" in doc["Budget report"] and "| flights | 4.2M |" in doc["Risks"]
    deck = parts(fx.pptx_file(tmp_path / "deck.pptx"))
    assert list(deck) == ["slide 1", "slide 2"]
    assert "Ship the importer in May" in deck["slide 2"] and "freeze window" in deck["slide 2"]
    book = parts(fx.xlsx_file(tmp_path / "budget.xlsx"))
    assert list(book) == ["sheet Budget", "sheet Notes"] and "| flights | 4.2 |" in book["sheet Budget"]
    assert "forty-two ships" in "".join(parts(fx.epub_file(tmp_path / "tales.epub")).values())


def test_notebooks_keep_code_and_markdown_and_drop_big_outputs(tmp_path: Path) -> None:
    nb = parts(fx.notebook_file(tmp_path / "analysis.ipynb"))
    assert list(nb) == ["cell 1", "cell 2", "cell 3"]
    assert nb["cell 1"].startswith("# Load the data")
    assert "```python\nimport pandas as pd" in nb["cell 2"] and "loaded 120 rows" in nb["cell 2"]
    assert (
        "an output of 50,000 characters, left out" in nb["cell 3"]
        and "an image output, left out" in nb["cell 3"]
    )
    assert "xxxxx" not in nb["cell 3"] and "iVBOR" not in nb["cell 3"]


@pytest.mark.parametrize("name", ["a.docx", "a.pptx", "a.xlsx", "a.epub"])
def test_broken_files_get_a_clear_message(tmp_path: Path, name: str) -> None:
    bad = fx.corrupt(tmp_path / name)
    with pytest.raises(DamagedDocument, match=f"{name}.*(damaged|not a valid)"):
        read_document(bad, bad.read_bytes(), name)
    locked = fx.encrypted(tmp_path / f"locked-{name}")
    with pytest.raises(EncryptedDocument, match="password-protected"):
        read_document(locked, locked.read_bytes(), locked.name)


def test_huge_sheets_zip_bombs_and_broken_notebooks_are_refused(tmp_path: Path) -> None:
    huge = fx.xlsx_file(tmp_path / "huge.xlsx", huge=True)
    with pytest.raises(TooLarge, match="1,000,000 rows.*export"):
        read_document(huge, huge.read_bytes(), huge.name)
    bomb = fx.zip_bomb(tmp_path / "bomb.docx")
    with pytest.raises(TooLarge, match="unpacks to"):
        read_document(bomb, bomb.read_bytes(), bomb.name)
    nb = tmp_path / "broken.ipynb"
    nb.write_text('{"cells": [')
    with pytest.raises(DamagedDocument, match="not a readable notebook"):
        read_document(nb, nb.read_bytes(), nb.name)


def test_a_folder_read_goes_on_past_broken_documents(tmp_path: Path) -> None:
    fx.docx_file(tmp_path / "report.docx")
    fx.notebook_file(tmp_path / "analysis.ipynb")
    fx.corrupt(tmp_path / "broken.pptx")
    fx.encrypted(tmp_path / "locked.xlsx")
    (tmp_path / "notes.md").write_text("# Notes\n\nplain text\n")
    bundle = read_many(Roots.of([tmp_path]), ".")
    got = {(f.display, f.label) for f in bundle.files}
    assert (
        ("report.docx", "Risks") in got and ("analysis.ipynb", "cell 2") in got and ("notes.md", None) in got
    )
    why = {Path(s["path"]).name: s["detail"] for s in bundle.skipped}
    assert "damaged" in why["broken.pptx"] and "password-protected" in why["locked.xlsx"]
    assert "broken.pptx" in bundle.text and "password-protected" in bundle.text  # said, not hidden
    with pytest.raises(BinaryContent, match="read_many"):
        read_file(Roots.of([tmp_path]), "report.docx")
