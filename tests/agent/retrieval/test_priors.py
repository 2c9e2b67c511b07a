"""Release notes: found by their path below the shared folder, ranked after the code they describe."""

from __future__ import annotations

from agent.gather.documents import content_hash
from agent.retrieval.chunking import chunk_document
from agent.retrieval.priors import NOTES_FACTOR, file_factors, release_notes
from agent.retrieval.ranking import CodeIndex
from agent.state import Document, Span


def doc(uri: str, text: str) -> Document:
    span = Span(kind="lines", start=1, end=text.count("\n"))
    return Document(id="d-" + uri, uri=uri, text=text, hash=content_hash(text), span=span)


def test_release_notes_are_named_by_convention_below_the_shared_folder() -> None:
    root = "/home/u/news/project"  # a checkout under a folder named news is not all news
    files = [
        "README.md", "CHANGELOG.md", "HISTORY.rst", "NEWS", "doc/en/changelog.rst",
        "doc/source/release/2.1.0-notes.rst", "doc/release/upcoming_changes/123.new_feature.rst",
        "docs/releases/4.2.txt", "doc/whats-new.rst", "changelog.d/42.bugfix.md",
        "doc/api/prev_api_changes/api_changes_3.5.0/behaviour.rst", "doc/users/next_whats_new/colorbar.rst",
        "src/history.py", "tools/release/build.py", "tools/release/README.md", "docs/guide.md", "src/news/feed.py",
    ]  # fmt: skip
    found = release_notes([f"{root}/{f}" for f in files])
    assert [f.removeprefix(root + "/") for f in found] == files[1:12]
    as_uris = release_notes([f"file://{root}/{f}" for f in files])
    assert len(as_uris) == 11 and as_uris[0] == f"file://{root}/CHANGELOG.md"
    # a web site's news section is what a question about the site may want
    assert release_notes(["https://example.org/news/2026/launch", "https://example.org/changelog"]) == []


def test_a_question_about_versions_or_changes_keeps_release_notes_as_they_are() -> None:
    notes = ["/p/CHANGELOG.md"]
    assert file_factors(notes, "How does the fixture teardown order work?") == {
        "/p/CHANGELOG.md": NOTES_FACTOR
    }
    for asked in ("What changed in 8.2 about teardown?", "Which release notes mention teardown?",
                  "Summarise the changelog for the parser"):  # fmt: skip
        assert file_factors(notes, asked) == {}


CHANGELOG = """# Changelog

## 8.1
- Fixed: a finalizer that raised stopped the teardown of the other finalizers; now each one runs.
- The teardown of a fixture whose finalizer raised now reports every error, not the first one.
"""
SOURCE = '''
def run_finalizers(stack):
    """Call each finalizer of the stack in reverse order; a finalizer that raised does not stop the rest."""
    errors = []
    while stack:
        fin = stack.pop()
        try:
            fin()
        except Exception as exc:
            errors.append(exc)
    return errors
'''


def _order(question: str) -> list[str]:
    docs = [
        doc("/p/CHANGELOG.md", CHANGELOG),
        doc("/p/src/fixtures.py", SOURCE),
        doc("/p/src/util.py", "x = 1\n"),
    ]
    index = CodeIndex([c for d in docs for c in chunk_document(d, 60, 90)], docs)
    return list(dict.fromkeys(index.chunks[i].uri for i in index.rank(question)))


def test_the_code_a_changelog_describes_ranks_before_the_changelog() -> None:
    # the changelog repeats every word of the question; the code says it once
    assert (
        _order("Why does a finalizer that raised not stop the teardown of the others?")[0]
        == "/p/src/fixtures.py"
    )
    # unless the question asks about the project's releases
    assert (
        _order("Which release notes say a finalizer that raised stops the teardown?")[0] == "/p/CHANGELOG.md"
    )
