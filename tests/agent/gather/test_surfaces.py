"""The same sources give the same corpus on every surface: ask, chat's first turn, pack, index, gather_context.

One folder (nested folders, a .gitignore'd file, a PDF, an office document, and enough text that
the files server's read_many answers in three pages), read through each surface the way its
command reads it. The planner may take two steps (a user's limit): reading the folder's pages
must take none of them, and only the planner's choices or the user's limits may change what is read.
"""

from __future__ import annotations

from pathlib import Path

from agent.models.extractive import ExtractiveModel
from agent.session.checkpoints import sqlite_checkpointer
from agent.session.direct import pack_direct
from agent.session.session import Session, run
from agent.session.workspace import Workspace
from agent.settings import Settings
from agent.state import Document
from cli.commands.index import gather
from tests.officefixtures import docx_file
from tests.pdffixtures import text_pdf

QUESTION = "Which module sets the retry delay?"
Key = tuple[str, str, int | None, int | None, str | None, str]


def _folder(base: Path) -> Path:
    root = base / "project"
    for n in range(240):  # ~2.4 MB of text: three pages of the files server's 1 MB replies
        where = root / "pkg" / ("deep/er" if n % 3 == 0 else "") / f"mod_{n:03d}.py"
        where.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"value_{n}_{i} = {i * n}  # module {n}, line {i}\n" for i in range(300))
        where.write_text(f'"""Module {n}."""\n' + body)
    (root / "pkg" / "retry.py").write_text("RETRY_DELAY = 7  # seconds between attempts\n")
    (root / ".gitignore").write_text("secret-notes.txt\n")
    (root / "secret-notes.txt").write_text("never read: the .gitignore leaves it out\n")
    (root / "docs").mkdir()
    text_pdf(root / "docs" / "paper.pdf", ["The retry delay is seven seconds.", "Backoff doubles it."])
    docx_file(root / "docs" / "report.docx")
    return root


def _keys(docs: list[Document]) -> set[Key]:
    return {(d.uri, d.span.kind, d.span.start, d.span.end, d.span.label, d.hash) for d in docs}


async def test_every_surface_gathers_the_same_documents(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", embedding="none", model="extractive", max_steps=2)
    spec = [str(root)]

    packed = pack_direct(QUESTION, spec, settings, unbounded=True)
    assert packed is not None
    want = _keys(packed.gathered)
    uris = {k[0] for k in want}
    assert "pkg/deep/er/mod_000.py" in uris and "pkg/retry.py" in uris
    assert not [u for u in uris if "secret-notes" in u]
    assert {k[1] for k in want if k[0] == "docs/paper.pdf"} == {"pages"}
    assert {k[1] for k in want if k[0] == "docs/report.docx"} == {"section"}
    assert len(want) == 241 + 1 + 2 + 2  # modules, .gitignore, PDF pages, document sections

    asked = await run(QUESTION, spec, settings, ExtractiveModel())
    pages = [a for a in asked.history if a.tool == "read_many"]
    assert len(pages) >= 3  # the folder came in pages: the test exercises paging
    assert _keys(asked.gathered) == want

    async with (
        sqlite_checkpointer(tmp_path / "chat.sqlite") as saver,
        Session(spec, settings, ExtractiveModel(), checkpointer=saver, thread_id="c") as chat,
    ):
        first = await chat.ask(QUESTION)
    assert _keys(first.gathered) == want

    indexed = await gather(spec, settings)
    assert _keys(indexed.gathered) == want

    # gather_context of `forage mcp ROOT`: the editor session's Workspace, as the tool calls it.
    workspace = Workspace(settings.model_copy(update={"roots": [root]}))
    try:
        served, _ = await workspace.run(QUESTION, spec, want_answer=False, budget=20_000)
    finally:
        await workspace.close()
    assert _keys(served.gathered) == want


async def test_index_reads_every_file_of_a_folder_past_the_gather_limit_as_pack_does(tmp_path: Path) -> None:
    # A reply of the files server is full at 1 MB; a chain of pages used to hand on only what
    # was left of its first call's budget, and then skipped a later file bigger than that rest.
    root = tmp_path / "big"
    root.mkdir()
    for n in range(130):
        (root / f"m{n:03d}.py").write_text(f"# module {n}\n" + "x = 1\n" * 1700)
    (root / "zz_last.py").write_text("".join(f"name_{i} = {i}\n" for i in range(20_000)))
    settings = Settings(data_dir=tmp_path / "data", embedding="none", max_gather_tokens=300_000)
    packed = pack_direct("", [str(root)], settings, unbounded=True)
    assert packed is not None and packed.documents == 131
    indexed = await gather([str(root)], settings)
    assert _keys(indexed.gathered) == _keys(packed.gathered)
