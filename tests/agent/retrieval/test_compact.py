"""Compaction: comments away from the question, blank runs and long data runs leave a block; code stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.gather.documents import content_hash
from agent.isolation import file_faults
from agent.pack.packing import pack_file_parts, render_manifest
from agent.pack.routing import pack_documents
from agent.retrieval import compact as compact_module
from agent.retrieval.chunking import chunk_all
from agent.retrieval.compact import compact_span
from agent.retrieval.units import units
from agent.settings import Settings
from agent.state import Document, Span
from agent.tokens import TokenCounter
from tools.tokens import estimate_tokens

SOURCE = '''# mypy: allow-untyped-defs
"""Retries.

# Not a comment: a heading inside the module's docstring.
"""


class Retry:
    #: How many tries before giving up.
    limit = 3

    def delay(self, attempt):
        # Back off exponentially: the wait doubles each time.
        wait = 2 ** attempt


        return wait  # an inline comment stays with its code

    # Unrelated musings about the weather,
    # spread over two lines.
    def close(self):
        pass
'''


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def test_comments_outside_the_matched_span_go_and_everything_else_stays() -> None:
    weights = {"delay": 2.0, "attempt": 1.0}
    done = compact_span(SOURCE, 0, lines_of(SOURCE), "pkg/retry.py", weights)
    kept = lines_of(done.text)
    assert "# mypy: allow-untyped-defs" not in kept  # before the first line holding a question term
    assert "    # Unrelated musings about the weather," not in kept  # after the last one
    assert "# Not a comment: a heading inside the module's docstring." in kept  # inside a string
    assert "    #: How many tries before giving up." in kept  # a documentation comment
    assert "        # Back off exponentially: the wait doubles each time." in kept  # in the matched span
    code = [line for line in lines_of(SOURCE) if line.strip() and not line.lstrip().startswith("#")]
    assert all(line in kept for line in code)  # every line of code, the docstring and inline comments
    assert kept.count("") == lines_of(SOURCE).count("") - 2  # two blank lines in a row become one (twice)
    assert (done.comments, done.blanks, done.data) == (3, 2, 0)
    assert done.note == "left out 3 comment lines, 2 blank lines"


def test_without_question_terms_every_plain_comment_goes_and_a_clean_block_is_unchanged() -> None:
    done = compact_span(SOURCE, 0, lines_of(SOURCE), "pkg/retry.py", {})
    assert done.comments == 4 and "#: How many" in done.text
    clean = "def f(x):\n    return x\n"
    assert compact_span(clean, 0, lines_of(clean), "f.py", {}).text == clean
    shell = "# a comment\necho hi\n"  # a language compaction does not read is left as it is
    assert compact_span(shell, 0, lines_of(shell), "run.sh", {}).text == shell


KEYWORDS = (
    '"""SQL keywords."""\n\nreserved = """' + "\n".join(f"WORD{i}" for i in range(40)) + '\nMERGE\nZONE"""\n'
)


def test_a_long_run_of_data_keeps_its_ends_and_says_how_much_went() -> None:
    done = compact_span(KEYWORDS, 0, lines_of(KEYWORDS), "kw.py", {})
    kept = lines_of(done.text)
    assert kept[2:6] == ['reserved = """WORD0', "WORD1", "WORD2", "WORD3"]
    assert kept[6] == "… 36 more lines like these (left out by forage)"  # inside the string: no comment mark
    assert kept[7:] == ["MERGE", 'ZONE"""', ""] and done.data == 36
    asked = compact_span(KEYWORDS, 0, lines_of(KEYWORDS), "kw.py", {"word20": 3.0})
    assert "WORD20" in lines_of(asked.text)  # a line holding a question term stays
    table = "CODES = [\n" + "".join(f'    "{c}{i}",\n' for i in range(15) for c in "a") + "]\n"
    short = compact_span(table, 0, lines_of(table), "codes.py", {})
    assert "    # … 10 more lines like these (left out by forage)" in lines_of(short.text)
    assert short.text.endswith('    "a14",\n]\n')


def test_c_family_comments_go_but_not_inside_template_strings() -> None:
    js = "// header\nconst help = `\n// shown to the user\n`;\nfunction go() {\n  // why\n  return 1;\n}\n"
    done = compact_span(js, 0, lines_of(js), "web/app.ts", {})
    assert lines_of(done.text) == [
        "const help = `",
        "// shown to the user",
        "`;",
        "function go() {",
        "  return 1;",
        "}",
        "",
    ]


def _doc(uri: str, text: str) -> Document:
    return Document(
        id="d-" + uri, uri=uri, text=text, hash=content_hash(text),
        span=Span(kind="lines", start=1, end=text.count("\n") + 1), tokens=estimate_tokens(text),
    )  # fmt: skip


NOTED = (
    "def shipping_rate(parcel):\n"
    + "".join(
        f"    # Historical note {i}: the board revised these figures in year {1990 + i}.\n" for i in range(12)
    )
    + "    return parcel.weight * 3\n"
)


def test_a_unit_too_big_as_written_fits_once_compacted() -> None:
    docs = {d.id: d for d in (_doc("pkg/rates.py", NOTED),)}
    ranked = chunk_all(list(docs.values()), 400)
    weights = {"shipping": 2.0, "rate": 2.0}  # held by the signature only: the comments are outside the span
    cap = 60
    assert estimate_tokens(NOTED) > cap  # as written, the function does not fit
    out = units(ranked, set(), 2000, cap, weights, docs, estimate_tokens)
    assert len(out) == 1 and out[0].meta["fidelity"] == "full"
    assert out[0].text == "def shipping_rate(parcel):\n    return parcel.weight * 3\n"
    assert out[0].meta["compacted"] == "left out 12 comment lines" and out[0].tokens <= cap


def test_the_manifest_and_the_block_say_what_compaction_left_out(tmp_path: Path) -> None:
    docs = [_doc(f"pkg/mod_{k}.py", KEYWORDS.replace("WORD", f"K{k}X") + NOTED.replace("shipping", f"s{k}"))
            for k in range(30)]  # fmt: skip
    docs.append(_doc("pkg/rates.py", KEYWORDS + NOTED))
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    pack, _ = pack_documents(
        docs, "How is the shipping rate computed?", settings=settings, counter=TokenCounter(),
        route="select", budget=2000,
    )  # fmt: skip
    entry = next(b for b in pack.manifest if b.uri == "pkg/rates.py")
    assert entry.fidelity == "full" and entry.compacted and "comment lines" in entry.compacted
    assert f"| full (compacted: {entry.compacted}) |" in render_manifest(pack)
    assert f"pkg/rates.py{entry.span.render()} (compacted: {entry.compacted})" in pack.prefix
    xml = "".join(pack_file_parts(pack, "xml"))
    assert (
        f'uri="pkg/rates.py" span="lines:{entry.span.start}-{entry.span.end}" fidelity="full" compacted='
        in xml
    )
    assert entry.model_dump(exclude_none=True)["compacted"] == entry.compacted  # the JSON manifest's row


def test_a_data_run_does_not_cross_the_end_of_its_string() -> None:
    # A string's last data line is followed at once by literal lines in code: two runs, each noted
    # in its own way (a bare note inside the string, a comment outside it).
    words = "\n".join(f"W{i}" for i in range(12))
    text = 'ITEMS = ["""' + words + '\nLAST""",\n' + "".join(f"    {i},\n" for i in range(14)) + "]\n"
    kept = lines_of(compact_span(text, 0, lines_of(text), "items.py", {}).text)
    assert "… 7 more lines like these (left out by forage)" in kept  # W1..LAST: 12 lines inside the string
    assert 'LAST""",' in kept and "    0," in kept
    assert "    # … 9 more lines like these (left out by forage)" in kept  # the 14 literals in code


def test_a_file_compaction_fails_on_is_shown_as_written_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise ValueError("unexpected line state")

    monkeypatch.setattr(compact_module, "compact", broken)
    with file_faults() as notes:
        done = compact_span(SOURCE, 0, lines_of(SOURCE), "pkg/retry.py", {})
    assert done.text == SOURCE and not done.note
    assert notes == ["pkg/retry.py: compacting failed (ValueError: unexpected line state); shown as written"]
