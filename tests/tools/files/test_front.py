"""tools/files/front.py on real temporary folders: ignore rules, encodings, ranges, budgets, containment."""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.errors import BinaryContent, InvalidArgument, NotFound, OutsideRoots, TooLarge
from tools.files import front as files
from tools.files.walk import walk
from tools.roots import Roots

# Every open and directory scan in this process is recorded while a test asks for it, through
# an audit hook (no patching): that is how the containment tests prove a refused read never happened.
_SEEN: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _SEEN is not None and event in ("open", "os.scandir", "os.listdir") and args:
        target = args[0]
        if isinstance(target, str | bytes | os.PathLike):
            _SEEN.append(os.fsdecode(target))


sys.addaudithook(_audit)


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    global _SEEN
    _SEEN = []
    try:
        yield _SEEN
    finally:
        _SEEN = None


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "README.md", "# Demo\n\nThe retry delay lives in src/net/client.py.\n")
    write(root / "src/net/client.py", "".join(f"line {n}\n" for n in range(1, 41)) + "RETRY_DELAY = 2.5\n")
    write(root / "src/app.py", "from net.client import RETRY_DELAY\n")
    write(root / ".gitignore", "*.log\ngenerated/\n")
    write(root / "debug.log", "noise\n")
    write(root / "generated/out.py", "x = 1\n")
    write(root / "docs/.gitignore", "draft.md\n!keep.log\n")
    write(root / "docs/draft.md", "draft\n")
    write(root / "docs/guide.md", "guide\n")
    write(root / "docs/keep.log", "kept by a nested negation\n")
    for ignored in (
        ".git/config", "node_modules/pkg/index.js", ".venv/lib/site.py", "__pycache__/app.cpython-311.pyc",
        "dist/app.js", "build/lib/app.py", "target/debug/app", ".mypy_cache/x.json", "package-lock.json",
        "poetry.lock", "logo.png", "pkg.egg-info/PKG-INFO",
    ):  # fmt: skip
        write(root / ignored, "ignored\n")
    return root


def listed(root: Path, **kw: object) -> list[str]:
    return [f["path"] for f in files.list_files(Roots.of([root]), **kw).files]  # type: ignore[arg-type]


# ---------------------------------------------------------------- list_files and ignore rules


def test_list_files_honours_gitignore_nested_negation_and_default_ignores(repo: Path) -> None:
    assert listed(repo) == [
        ".gitignore", "README.md", "docs/.gitignore", "docs/guide.md", "docs/keep.log", "src/app.py",
        "src/net/client.py",
    ]  # fmt: skip


def test_list_files_reports_size_tokens_and_the_cut(repo: Path) -> None:
    out = files.list_files(Roots.of([repo]), max_results=2)
    assert [f["path"] for f in out.files] == [".gitignore", "README.md"]
    assert out.files[1]["size"] == (repo / "README.md").stat().st_size and out.files[1]["tokens"] > 0
    assert out.total == 7 and out.more == 5
    assert out.next == {"path": ".", "pattern": None, "max_results": 2, "offset": 2}
    assert "5 more files not shown" in out.text and "offset=2" in out.text
    rest = files.list_files(Roots.of([repo]), **{k: v for k, v in out.next.items() if k != "path"})
    assert [f["path"] for f in rest.files][:1] == ["docs/.gitignore"]


def test_list_files_pattern_and_subfolder(repo: Path) -> None:
    assert listed(repo, pattern="*.py") == ["src/app.py", "src/net/client.py"]
    assert listed(repo, pattern="*.md,*.log") == ["README.md", "docs/guide.md", "docs/keep.log"]
    assert listed(repo, path="src/net") == ["src/net/client.py"]
    with pytest.raises(NotFound, match="list_files"):
        files.list_files(Roots.of([repo]), path="nope")


def test_asking_for_an_ignored_folder_by_name_shows_it(repo: Path) -> None:
    assert listed(repo, path="generated") == ["generated/out.py"]


def test_a_big_folder_gets_a_bounded_answer(tmp_path: Path) -> None:
    for i in range(1500):
        (tmp_path / f"f{i:05}.txt").write_text("x")
    out = files.list_files(Roots.of([tmp_path]), max_results=10)
    assert len(out.files) == 10 and out.total == 1500 and out.more == 1490
    capped = walk(Roots.of([tmp_path]), tmp_path, limit=100)
    assert capped.limit_hit and len(capped.files) == 100
    bundle = files.read_many(Roots.of([tmp_path]), ".", max_tokens=50)
    assert bundle.next is not None and bundle.left_count > 1400 and "offset=" in bundle.text


# ---------------------------------------------------------------- encodings and binary detection


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("héllo wörld\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "héllo wörld\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "héllo wörld\n".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "héllo wörld\n".encode("utf-16-be"), "utf-16-be"),
        ("héllo wörld\n".encode("latin-1"), "latin-1"),
    ],
)
def test_encodings(tmp_path: Path, raw: bytes, encoding: str) -> None:
    write(tmp_path / "t.txt", raw)
    out = files.read_file(Roots.of([tmp_path]), "t.txt")
    assert out.file.text == "héllo wörld" and out.file.encoding == encoding
    assert files.file_info(Roots.of([tmp_path]), "t.txt")["encoding"] == encoding
    assert files.read_many(Roots.of([tmp_path]), ".").files[0].text == "héllo wörld"


def test_binary_files_are_refused_or_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path / "blob.xyz", b"\x00\x01\x02binary\x00" * 10)
    write(tmp_path / "ctrl.xyz", bytes(range(1, 8)) * 200)
    write(tmp_path / "ok.txt", "text\n")
    roots = Roots.of([tmp_path])
    with pytest.raises(BinaryContent, match="NUL bytes"):
        files.read_file(roots, "blob.xyz")
    with pytest.raises(BinaryContent, match="control bytes"):
        files.read_file(roots, "ctrl.xyz")
    bundle = files.read_many(roots, ".")
    assert [f.display for f in bundle.files] == ["ok.txt"]
    reasons = {Path(s["path"]).name: s["reason"] for s in bundle.skipped}
    assert reasons == {"blob.xyz": "binary", "ctrl.xyz": "binary"}
    info = files.file_info(roots, "blob.xyz")
    assert info["is_binary"] and info["kind"] == "binary" and "NUL" in info["binary_reason"]


def test_pdfs_are_handed_to_the_pdf_server(tmp_path: Path) -> None:
    pdf = write(tmp_path / "paper.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")
    write(tmp_path / "notes.md", "notes\n")
    roots = Roots.of([tmp_path])
    bundle = files.read_many(roots, ".")
    assert {"path": str(pdf), "reason": "pdf", "detail": "read it with read_pdf"} in bundle.skipped
    assert "read_pdf" in bundle.text
    with pytest.raises(BinaryContent, match="read_pdf"):
        files.read_file(roots, "paper.pdf")
    assert files.file_info(roots, "paper.pdf")["kind"] == "pdf"


def test_oversized_files_are_refused_with_the_limit_and_what_to_do(tmp_path: Path) -> None:
    write(tmp_path / "big.txt", "x" * 5000)
    write(tmp_path / "small.txt", "y\n")
    roots = Roots.of([tmp_path])
    with recording() as seen, pytest.raises(TooLarge, match="--max-file-bytes"):
        files.read_file(roots, "big.txt", max_file_bytes=1000)
    assert str(tmp_path / "big.txt") not in seen  # refused from its size, never opened
    bundle = files.read_many(roots, ".", max_file_bytes=1000)
    assert [f.display for f in bundle.files] == ["small.txt"]
    assert bundle.skipped[0]["reason"] == "too_large"
    assert bundle.skipped[0]["detail"] == "5.0 KB > 1.0 KB"  # measured as it was opened, never read
    assert files.read_file(roots, "big.txt", max_file_bytes=10_000).file.total_lines == 1
    assert files.file_info(roots, "big.txt", max_file_bytes=1000)["over_limit"] is True


# ---------------------------------------------------------------- read_file ranges and continuation


def test_read_file_numbers_lines_and_returns_raw_text(repo: Path) -> None:
    out = files.read_file(Roots.of([repo]), "src/net/client.py", start_line=40, end_line=41)
    assert out.text.splitlines()[1:] == ["40\tline 40", "41\tRETRY_DELAY = 2.5"]
    assert out.file.text == "line 40\nRETRY_DELAY = 2.5"
    assert (out.file.start, out.file.end, out.file.total_lines) == (40, 41, 41)
    assert not out.truncated and out.next is None


def test_read_file_continuation_covers_every_line_once(repo: Path) -> None:
    roots = Roots.of([repo])
    args: dict[str, object] = {"path": "src/net/client.py", "max_chars": 100}
    seen: list[str] = []
    for _ in range(50):
        out = files.read_file(roots, **args)  # type: ignore[arg-type]
        seen += out.file.text.split("\n")
        if out.next is None:
            break
        assert f"start_line={out.next['start_line']}" in out.text
        args = out.next
    assert seen == (repo / "src/net/client.py").read_text().splitlines()


def test_read_file_bad_ranges_and_kinds(repo: Path) -> None:
    roots = Roots.of([repo])
    with pytest.raises(InvalidArgument, match="41 lines"):
        files.read_file(roots, "src/net/client.py", start_line=99)
    with pytest.raises(InvalidArgument, match="end_line"):
        files.read_file(roots, "src/net/client.py", start_line=5, end_line=2)
    with pytest.raises(InvalidArgument, match="folder"):
        files.read_file(roots, "src")
    with pytest.raises(NotFound, match="missing.py"):
        files.read_file(roots, "missing.py")


def test_a_line_longer_than_max_chars_is_cut_and_said(tmp_path: Path) -> None:
    write(tmp_path / "min.js", "a" * 500 + "\nnext\n")
    out = files.read_file(Roots.of([tmp_path]), "min.js", max_chars=100)
    assert "cut at 100 characters" in out.text and out.next == {
        "path": "min.js",
        "start_line": 2,
        "max_chars": 100,
    }


# ---------------------------------------------------------------- read_many


def test_read_many_folder_in_path_order(repo: Path) -> None:
    bundle = files.read_many(Roots.of([repo]), str(repo))
    assert [f.display for f in bundle.files] == listed(repo)
    assert bundle.next is None and bundle.tokens == sum(f.tokens for f in bundle.files)
    assert "=== src/app.py" in bundle.text


def test_read_many_budget_cut_and_next_resume(repo: Path) -> None:
    roots = Roots.of([repo])
    everything = [f.display for f in files.read_many(roots, ".").files]
    got: list[str] = []
    args: dict[str, object] = {"paths_or_glob": ".", "max_tokens": 40}
    for _ in range(20):
        bundle = files.read_many(roots, **args)  # type: ignore[arg-type]
        assert bundle.tokens <= 40
        got += [f.display for f in bundle.files]
        if bundle.next is None:
            break
        assert (
            bundle.left and bundle.left[0] in bundle.text and f"offset={bundle.next['offset']}" in bundle.text
        )
        args = bundle.next
    skipped_big = {Path(s["path"]).name for s in bundle.skipped if s["reason"] == "too_many_tokens"}
    assert got == [p for p in everything if Path(p).name not in skipped_big]
    assert skipped_big == {"client.py"}  # alone over the budget: skipped, named, and the walk went on


def test_a_full_reply_chains_with_the_remaining_budget(repo: Path) -> None:
    roots = Roots.of([repo])
    everything = [f.display for f in files.read_many(roots, ".").files]
    first = files.read_many(roots, ".", max_tokens=10_000, max_reply_chars=60)
    assert first.next == {
        "paths_or_glob": ".",
        "max_tokens": 10_000 - first.tokens,
        "offset": len(first.files),
    }
    assert "this reply is full" in first.text
    got, args = [f.display for f in first.files], first.next
    while args:
        page = files.read_many(roots, **args, max_reply_chars=60)
        assert page.skipped == []  # walk notes are reported once, by the first call of the chain
        got += [f.display for f in page.files]
        args = page.next
    assert got == everything


def test_a_chain_of_calls_walks_the_folder_once(repo: Path) -> None:
    roots, cache = Roots.of([repo]), files.ListingCache()
    first = files.read_many(roots, ".", max_tokens=40, cache=cache)
    assert first.next is not None
    with recording() as seen:
        second = files.read_many(roots, **first.next, cache=cache)
    assert not [p for p in seen if p.endswith(("/repo", "/src", "/docs"))]  # no folder scanned again
    assert second.files and second.files[0].display not in {f.display for f in first.files}


def test_read_many_lists_and_globs(repo: Path) -> None:
    roots = Roots.of([repo])
    assert [f.display for f in files.read_many(roots, "src/**/*.py").files] == [
        "src/app.py",
        "src/net/client.py",
    ]
    assert [f.display for f in files.read_many(roots, "*.md").files] == ["README.md", "docs/guide.md"]
    picked = files.read_many(roots, ["src/app.py", "README.md", "src/app.py", "missing.txt"])
    assert [f.display for f in picked.files] == ["README.md", "src/app.py"]
    assert picked.skipped == [
        {"path": "missing.txt", "reason": "error", "detail": picked.skipped[0]["detail"]}
    ]
    with pytest.raises(NotFound):
        files.read_many(roots, "missing.txt")


def test_read_many_without_contents_names_a_few_files_and_keeps_every_text(tmp_path: Path) -> None:
    for n in range(30):
        (tmp_path / f"m{n:02d}.py").write_text(f"X = {n}\n")
    out = files.read_many(Roots.of([str(tmp_path)]), str(tmp_path), contents=False)
    assert len(out.files) == 30 and [f.text for f in out.files][-1] == "X = 29"
    named = [line for line in out.text.splitlines() if line.startswith("- m")]
    assert named[0].startswith("- m00.py (1 lines") and len(named) == 20
    assert "- … and 10 more (all are in the structured documents)" in out.text
    assert "X = " not in out.text


def test_read_many_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    bundle = files.read_many(Roots.of([tmp_path]), "empty")
    assert bundle.files == [] and "No readable files" in bundle.text


# ---------------------------------------------------------------- search_files


def test_search_hits_with_context(repo: Path) -> None:
    out = files.search_files(Roots.of([repo]), "retry_delay", context_lines=1)
    assert [(h["path"], h["line"]) for h in out.hits] == [("src/app.py", 1), ("src/net/client.py", 41)]
    client = out.hits[1]
    assert client["text"] == "RETRY_DELAY = 2.5" and client["before"] == ["line 40"] and client["after"] == []
    assert (
        "src/net/client.py:41: RETRY_DELAY = 2.5" in out.text and "src/net/client.py-40- line 40" in out.text
    )
    assert (out.windows[1].start, out.windows[1].end) == (40, 41)


def test_search_regex_smart_case_and_limits(repo: Path) -> None:
    roots = Roots.of([repo])
    assert [h["line"] for h in files.search_files(roots, r"^line 1\d$", regex=True).hits] == list(
        range(10, 20)
    )
    assert files.search_files(roots, "Retry_Delay").hits == []  # a capital letter makes it case-sensitive
    limited = files.search_files(roots, "line", max_results=3)
    assert len(limited.hits) == 3 and limited.truncated and "max_results=3" in limited.text
    with pytest.raises(InvalidArgument, match="not a valid regex"):
        files.search_files(roots, "(", regex=True)
    assert "No matches" in files.search_files(roots, "zebra-unicorn").text


# ---------------------------------------------------------------- file_info and several roots


def test_file_info(repo: Path) -> None:
    info = files.file_info(Roots.of([repo]), "src/net/client.py")
    assert info["kind"] == "text" and info["lines"] == 41 and info["tokens"] > 0 and not info["is_binary"]
    assert info["path"] == "src/net/client.py" and info["mtime"].endswith("+00:00")
    folder = files.file_info(Roots.of([repo]), "src")
    assert folder["kind"] == "folder" and folder["files"] == 2


def test_several_roots_name_paths_by_root(tmp_path: Path) -> None:
    write(tmp_path / "a/x.txt", "a\n")
    write(tmp_path / "b/y.txt", "b\n")
    roots = Roots.of([tmp_path / "a", tmp_path / "b"])
    assert [f.display for f in files.read_many(roots, "*.txt").files] == ["a/x.txt", "b/y.txt"]
    assert files.read_file(roots, "b/y.txt").file.text == "b"


# ---------------------------------------------------------------- containment


@pytest.fixture
def fenced(tmp_path: Path) -> tuple[Path, Path]:
    """A root, a sibling ROOT2 sharing its prefix, and an outside folder, with symlinks out."""
    root = tmp_path / "root"
    write(root / "inside.txt", "inside\n")
    write(tmp_path / "root2/x.txt", "SECRET-SIBLING\n")
    outside = tmp_path / "outside"
    write(outside / "secret.txt", "SECRET-OUTSIDE\n")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    (root / "dangling.txt").symlink_to(outside / "missing.txt")
    return root, tmp_path


ESCAPES = {
    "sibling prefix (ROOT2)": ("{base}/root2/x.txt", OutsideRoots),
    "sibling via ..": ("../root2/x.txt", OutsideRoots),
    "../ escape": ("../outside/secret.txt", OutsideRoots),
    "deep ../ escape": ("sub/../../outside/secret.txt", OutsideRoots),
    "absolute elsewhere": ("{base}/outside/secret.txt", OutsideRoots),
    "NUL byte": ("inside.txt\x00../outside/secret.txt", InvalidArgument),
    "symlink pointing out": ("link.txt", OutsideRoots),
    "symlinked parent dir": ("linkdir/secret.txt", OutsideRoots),
    "dangling symlink": ("dangling.txt", OutsideRoots),
}


@pytest.mark.parametrize("case", ESCAPES, ids=list(ESCAPES))
@pytest.mark.parametrize("tool", ["read_file", "file_info", "read_many", "list_files", "search_files"])
def test_paths_outside_the_root_are_refused_before_any_read(
    fenced: tuple[Path, Path], case: str, tool: str
) -> None:
    root, base = fenced
    raw, error = ESCAPES[case]
    path = raw.format(base=base)
    roots = Roots.of([root])
    call = {
        "read_file": lambda: files.read_file(roots, path),
        "file_info": lambda: files.file_info(roots, path),
        "read_many": lambda: files.read_many(roots, path),
        "list_files": lambda: files.list_files(roots, path),
        "search_files": lambda: files.search_files(roots, "SECRET", path=path),
    }[tool]
    with recording() as seen, pytest.raises(error) as info:
        call()
    assert "SECRET" not in str(info.value)
    touched = [p for p in seen if p.startswith((str(base / "outside"), str(base / "root2")))]
    assert touched == [], f"{tool} touched {touched} for {case}"


def test_walks_never_follow_symlinks_out(fenced: tuple[Path, Path]) -> None:
    root, base = fenced
    roots = Roots.of([root])
    with recording() as seen:
        bundle = files.read_many(roots, ".")
        listing = files.list_files(roots)
        search = files.search_files(roots, "SECRET")
    assert [f.display for f in bundle.files] == ["inside.txt"]
    assert [f["path"] for f in listing.files] == ["inside.txt"]
    assert search.hits == [] and "SECRET-OUTSIDE" not in bundle.text + listing.text + search.text
    assert {Path(s["path"]).name: s["reason"] for s in bundle.skipped} == {
        "dangling.txt": "dangling_symlink", "link.txt": "outside_roots", "linkdir": "outside_roots",
    }  # fmt: skip
    assert [p for p in seen if p.startswith(str(base / "outside"))] == []


def test_symlinks_inside_the_root_still_work(tmp_path: Path) -> None:
    write(tmp_path / "real.txt", "real\n")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real.txt")
    roots = Roots.of([tmp_path])
    assert files.read_file(roots, "alias.txt").file.text == "real"
    assert [f.display for f in files.read_many(roots, ".").files] == ["alias.txt"]  # one file, read once


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would wait for a writer forever
    (tmp_path / "a.txt").write_text("hello\n")
    roots = Roots.of([tmp_path])
    with pytest.raises(InvalidArgument, match="not a regular file"):
        files.read_file(roots, "pipe")
    with pytest.raises(InvalidArgument, match="not a regular file"):
        files.file_info(roots, "pipe")
    bundle = files.read_many(roots, str(tmp_path), max_tokens=1000)
    assert [f.display for f in bundle.files] == ["a.txt"]
