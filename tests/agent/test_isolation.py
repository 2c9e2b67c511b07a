"""One odd file goes plainer and the manifest says why; it never fails the pack."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from agent.gather.documents import Read, build_documents
from agent.isolation import file_faults, isolated
from agent.pack import ladder
from agent.pack.packing import pack_file_parts, render_manifest
from agent.retrieval import chunking, symbols
from agent.state import Pack, Span
from agent.tokens import TokenCounter
from tests.agent.pack.test_ladder import doc, pack

# A docstring that is only whitespace once cleaned: `text.strip().splitlines()[0]` raised IndexError.
BLANK_DOCSTRING = 'def f(x):\n    """\n     """\n    return x\n\n\nclass C:\n    """Kept."""\n'


def test_an_outline_survives_a_docstring_of_whitespace() -> None:
    text = symbols.outline(doc("pkg/blank.py", BLANK_DOCSTRING))
    assert "def f(x)" in text and "# Kept." in text


def test_isolated_notes_the_failure_in_the_pack_being_built() -> None:
    def boom(_: str) -> str:
        raise IndexError("list index out of range")

    with file_faults() as notes:
        assert isolated("outlining", "pkg/a.py", "listed by path instead", "", boom, "x") == ""
        isolated("outlining", "pkg/a.py", "listed by path instead", "", boom, "x")  # said once
    assert notes == [
        "pkg/a.py: outlining failed (IndexError: list index out of range); listed by path instead"
    ]


def test_outside_a_pack_the_note_is_one_warning_line(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="forage.files"):
        assert isolated("chunking", "a.md", "left out", [], lambda: 1 / 0) == []
    assert [r.getMessage() for r in caplog.records] == [
        "a.md: chunking failed (ZeroDivisionError: division by zero); left out"
    ]


def test_a_file_that_fails_to_outline_or_chunk_is_listed_and_the_manifest_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_outline, real_chunk = ladder.outline, chunking.chunk_document

    def chunk_document(d, *a, **kw):
        if d.uri == "pkg/mod_5.py":
            raise ValueError("odd bytes")
        return real_chunk(d, *a, **kw)

    monkeypatch.setattr(chunking, "chunk_document", chunk_document)
    # Pick the file to break among those this very corpus outlines, so only the outline fault differs.
    sound = pack(tmp_path, ladder=True)
    odd = next(b.uri for b in sound.manifest if b.fidelity == "outline")  # one that would be outlined

    def outline(d, *a, **kw):
        if d.uri == odd:
            raise RecursionError("maximum recursion depth exceeded")
        return real_outline(d, *a, **kw)

    monkeypatch.setattr(ladder, "outline", outline)
    p = pack(tmp_path, ladder=True)
    assert p.tokens <= 3000 and "pkg/retry.py" in {b.uri for b in p.manifest if b.fidelity == "full"}
    assert odd not in {b.uri for b in p.manifest if b.fidelity == "outline"}
    assert odd.rsplit("/", 1)[1] in p.prefix  # listed by path instead
    assert p.warnings == [
        "pkg/mod_5.py: chunking failed (ValueError: odd bytes); left out of the ranked text",
        f"{odd}: outlining failed (RecursionError: maximum recursion depth exceeded); listed by path instead",
    ]
    assert "## Warnings" in render_manifest(p) and f"{odd}: outlining failed" in render_manifest(p)


def test_json_and_xml_manifests_carry_the_warnings() -> None:
    p = Pack(
        prefix="{}", question_text="", manifest=[], warnings=["a.py: outlining failed (E); listed by path"]
    )
    assert json.loads(pack_file_parts(p, "json")[0])["warnings"] == p.warnings
    assert "<warning>a.py: outlining failed (E); listed by path</warning>" in "".join(
        pack_file_parts(p, "xml")
    )


def test_a_sound_pack_has_no_warnings(tmp_path: Path) -> None:
    p = pack(tmp_path, ladder=True)
    assert p.warnings == [] and "## Warnings" not in render_manifest(p)
    assert "warnings" not in json.loads(pack_file_parts(p.model_copy(update={"prefix": "{}"}), "json")[0])


def test_a_text_screening_fails_on_is_left_out_never_packed_unscreened(
    monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    from agent.gather import documents

    real = documents.screen_text

    def screen_text(text, *a, **kw):
        if "poison" in text:
            raise UnicodeError("cannot screen")
        return real(text, *a, **kw)

    monkeypatch.setattr(documents, "screen_text", screen_text)
    reads = [
        Read(f"f{i}.txt", f"text {i}" + (" poison" if i == 1 else ""), Span(), "file", "files")
        for i in range(3)
    ]
    with caplog.at_level(logging.WARNING, logger="forage.files"):
        docs = build_documents(reads, TokenCounter(), "now")
    assert [d.uri for d in docs] == ["f0.txt", "f2.txt"]
    assert (
        caplog.records[0].getMessage() == "f1.txt: screening failed (UnicodeError: cannot screen); left out"
    )
