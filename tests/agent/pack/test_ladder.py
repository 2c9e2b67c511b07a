"""The fidelity ladder: chunks in full, outlines for the next ring, a path list for the rest."""

from __future__ import annotations

from pathlib import Path

from agent.gather.documents import content_hash
from agent.pack.ladder import PATHS_URI, path_list_document, path_list_text
from agent.pack.routing import pack_documents
from agent.settings import Settings
from agent.state import Document, Span
from agent.tokens import TokenCounter
from tools.tokens import estimate_tokens


def doc(uri: str, text: str) -> Document:
    span = Span(kind="lines", start=1, end=text.count("\n"))
    return Document(
        id="d-" + uri, uri=uri, text=text, hash=content_hash(text), span=span, tokens=estimate_tokens(text)
    )


def module(name: str, n: int) -> str:
    return "".join(
        f"def {name}_step_{i}(value):\n    '''Advance {name} by one step.'''\n    return value + {i}\n\n\n"
        for i in range(n)
    )


def corpus() -> list[Document]:
    # More files than a 3000-token pack can show as text (whole functions reach ~40), so outlines show the next ones.
    docs = [doc(f"pkg/mod_{k}.py", module(f"part{k}", 30)) for k in range(80)]
    docs.append(doc("pkg/retry.py", module("retry_delay", 30)))
    docs += [doc(f"data/fixture_{k}.txt", "plain words without structure\n" * 40) for k in range(30)]
    return docs


def pack(tmp_path: Path, ladder: bool, budget: int = 3000):
    settings = Settings(data_dir=tmp_path / "data", embedding="none", ladder=ladder)
    return pack_documents(
        corpus(), "How is retry_delay_step_3 computed?", settings=settings, counter=TokenCounter(),
        route="select", budget=budget,
    )[0]  # fmt: skip


def test_small_budget_shows_chunks_excerpts_outlines_then_paths(tmp_path: Path) -> None:
    p = pack(tmp_path, ladder=True)
    rungs = {b.fidelity for b in p.manifest}
    assert rungs == {"full", "excerpt", "outline", "paths"} and p.tokens <= 3000
    excerpted = {b.uri for b in p.manifest if b.fidelity == "excerpt"}
    assert excerpted and not excerpted & {b.uri for b in p.manifest if b.fidelity in ("full", "outline")}
    full = [b.uri for b in p.manifest if b.fidelity == "full"]
    assert "pkg/retry.py" in full
    outlined = {b.uri for b in p.manifest if b.fidelity == "outline"}
    assert outlined and not outlined & set(full) and all(u.startswith("pkg/") for u in outlined)
    assert "(outline)" in p.prefix and "def part" in p.prefix and "return value +" in p.prefix
    paths = next(b for b in p.manifest if b.fidelity == "paths")
    assert paths.uri == PATHS_URI and "data/: fixture_0.txt" in p.prefix
    assert "| fidelity |" in __import__("agent.pack.packing", fromlist=["render_manifest"]).render_manifest(p)


def test_ladder_off_keeps_only_selected_chunks(tmp_path: Path) -> None:
    p = pack(tmp_path, ladder=False)
    assert {b.fidelity for b in p.manifest} == {"full"} and p.tokens <= 3000
    assert PATHS_URI not in p.prefix


def test_path_list_groups_by_folder_and_says_how_many_it_left_out() -> None:
    assert path_list_text(["b/x.py", "a.txt", "b/y.py"]) == (
        "(other gathered files, not shown above)\n./: a.txt\nb/: x.py y.py\n"
    )
    uris = [f"deep/folder/file_{i:05d}.py" for i in range(5000)]
    d = path_list_document(uris, 200, estimate_tokens)
    assert d is not None and estimate_tokens(d.text) <= 200
    assert "more files)" in d.text and "file_00000.py" in d.text  # the best-ranked are kept
    assert path_list_document(uris, 0, estimate_tokens) is None


def test_a_small_corpus_still_fills_its_budget(tmp_path: Path) -> None:
    # Few files: their path list and outlines need little room, and the excerpts run out of
    # files; what those rungs leave goes back to the selection (Self-Route reads a pack well
    # under its budget as "nothing more to find").
    docs = [doc(f"pkg/mod_{k}.py", module(f"part{k}", 60)) for k in range(6)]
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    for budget in (2000, 4000):
        assert sum(d.tokens for d in docs) > 1.5 * budget
        p = pack_documents(
            docs, "How is part3_step_7 computed?", settings=settings, counter=TokenCounter(),
            route="select", budget=budget,
        )[0]  # fmt: skip
        assert 0.8 * budget <= p.tokens <= budget, p.tokens  # Self-Route reads < 0.8 as "nothing more"
        assert "pkg/mod_3.py" in {b.uri for b in p.manifest if b.fidelity == "full"}
