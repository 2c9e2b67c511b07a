"""End to end: PDFs given directly or found inside folders are read with page citations."""

import json

import pytest

from tests.cli.test_cli import forage
from tests.pdffixtures import text_pdf

pytestmark = pytest.mark.slow


@pytest.fixture
def papers(tmp_path):
    root = tmp_path / "papers"
    (root / "sub").mkdir(parents=True)
    text_pdf(
        root / "sub" / "paper.pdf",
        [
            "Deep retrieval for long contexts. Abstract: we study packing.",
            "Related work covers sparse and dense retrieval methods.",
            "Training setup: we trained for 12 epochs. The learning rate was 0.0003 with cosine decay.",
        ],
    )
    (root / "notes.md").write_text("# Notes\nRead the paper in sub/.\n")
    return root


def test_pdf_in_folder_is_cited_by_page(papers, tmp_path):
    res = forage("ask", "What learning rate did they use?", str(papers), "--json", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    tools = [a["tool"] for a in data["history"]]
    assert tools[0] == "read_many" and "read_pdf" in tools
    first = data["citations"][0]
    assert first["uri"].endswith("paper.pdf") and first["span"] == {"kind": "pages", "start": 3, "end": 3}
    assert first["text"].endswith("paper.pdf p.3")
    assert "0.0003" in data["answer"]


def test_pdf_given_directly(papers, tmp_path):
    res = forage(
        "ask", "What learning rate did they use?", str(papers / "sub" / "paper.pdf"), tmp_path=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "paper.pdf p.3" in res.stdout and "0.0003" in res.stdout


def test_broken_pdf_is_a_partial_failure_and_others_go_on(papers, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf at all" * 10)
    res = forage("ask", "What learning rate did they use?", str(bad), str(papers), tmp_path=tmp_path)
    assert res.returncode == 3, res.stderr
    assert "broken.pdf" in res.stderr and "0.0003" in res.stdout
