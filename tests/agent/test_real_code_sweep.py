"""Outliner, chunker, symbol index and excerpts over real code at scale: no exception escapes.

The installed Python standard library and the site-packages of the running interpreter (found
through sysconfig): tens of thousands of files nobody wrote for forage, in every style and age,
with docstrings of whitespace, form feeds, odd encodings and generated code. The functions are
called directly, not through agent/isolation.py, so a crash here is a real bug, not a warning.
Bounded in time: the files are taken in a fixed spread (every k-th text file, k chosen so about
SWEEP_FILES are read; FORAGE_SWEEP_FILES=0 reads them all).
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from pathlib import Path

import pytest

from agent.gather.documents import content_hash
from agent.retrieval.chunking import chunk_document
from agent.retrieval.excerpts import excerpt
from agent.retrieval.ranking import CodeIndex
from agent.retrieval.symbols import definition_names, outline
from agent.state import Document, Span
from tools.files.safe_read import DEFAULT_MAX_FILE_BYTES
from tools.files.text import decode, sniff
from tools.files.walk import is_ignored_name
from tools.tokens import estimate_tokens

pytestmark = pytest.mark.slow

SWEEP_FILES = int(os.environ.get("FORAGE_SWEEP_FILES", "1500"))
# Files a full sweep found crashes in (a docstring of whitespace: _first_doc_line's IndexError),
# always read, so the bounded run keeps guarding them.
FOUND_BEFORE = ("test/test_code.py", "matplotlib/scale.py", "numpy/ma/core.py")
_SKIP_SUFFIXES = (".pyc", ".so", ".a", ".o", ".dylib", ".whl", ".zip", ".gz", ".png", ".ico", ".onnx", ".bin")


def roots() -> list[Path]:
    """The standard library and site-packages of this interpreter."""
    paths = sysconfig.get_paths()
    return sorted({Path(paths[k]) for k in ("stdlib", "purelib", "platlib") if Path(paths[k]).is_dir()})


def text_files() -> list[Path]:
    """Every file a folder read would take as text, under the roots, in path order."""
    found: list[Path] = []
    for root in roots():
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not is_ignored_name(d, True) and d != "site-packages")
            found += [Path(folder, f) for f in sorted(files) if not f.endswith(_SKIP_SUFFIXES)]
    return found


def read(path: Path) -> Document | None:
    """The file as the files reader would give it (sniffed, decoded, under the size limit), or None."""
    try:
        if path.stat().st_size > DEFAULT_MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    found = sniff(data[:8192])
    if found.kind != "text":
        return None
    text, _ = decode(data, found)
    span = Span(kind="lines", start=1, end=max(1, text.count("\n")))
    return Document(id=content_hash(str(path)), uri=str(path), text=text, hash=content_hash(text), span=span,
                    tokens=estimate_tokens(text))  # fmt: skip


def sweep(paths: list[Path]) -> tuple[int, list[str]]:
    """Run every step on every file; return how many files were read and each crash, with its file."""
    crashes: list[str] = []
    docs: list[Document] = []
    chunked: list[list] = []

    def attempt(step: str, uri: str, work) -> object:
        try:
            return work()
        except Exception as exc:  # the point of the sweep: collect every crash, fail at the end
            where = traceback.extract_tb(exc.__traceback__)[-1]
            crashes.append(
                f"{step} {uri}: {type(exc).__name__}: {exc} at {Path(where.filename).name}:{where.lineno}"
            )
            return None

    for path in paths:
        doc = read(path)
        if doc is None:
            continue
        docs.append(doc)
        attempt("outline", doc.uri, lambda doc=doc: outline(doc))
        chunks = attempt("chunk", doc.uri, lambda doc=doc: chunk_document(doc)) or []
        chunked.append(chunks)  # type: ignore[arg-type]
        words = {w: 1.0 for w in Path(doc.uri).stem.lower().split("_") if w}
        for chunk in chunks[:2]:  # type: ignore[index]
            attempt(
                "excerpt", doc.uri, lambda c=chunk, doc=doc, w=words: excerpt(c, doc, w, estimate_tokens, 120)
            )
    for b in range(0, len(docs), 2000):  # the symbol index, as ranking builds it, a batch at a time
        part = docs[b : b + 2000]
        attempt("definition_names", f"batch {b}", lambda part=part: list(definition_names(part)))
        chunks = [c for cs in chunked[b : b + 2000] for c in cs]
        attempt("symbol index", f"batch {b}", lambda part=part, chunks=chunks: CodeIndex(chunks, part))
    return len(docs), crashes


def test_no_exception_escapes_on_the_standard_library_and_site_packages() -> None:
    paths = text_files()
    step = max(1, len(paths) // SWEEP_FILES) if SWEEP_FILES else 1
    chosen = paths[::step] + [p for p in paths if p.as_posix().endswith(FOUND_BEFORE)]
    read_count, crashes = sweep(list(dict.fromkeys(chosen)))
    assert read_count > min(1000, len(paths) // step // 2), f"only {read_count} files read under {roots()}"
    assert not crashes, f"{len(crashes)} crash(es) in {read_count} files:\n" + "\n".join(crashes[:40])
