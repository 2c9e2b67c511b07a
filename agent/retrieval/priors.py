"""Priors on files that hold no question's answer but match many questions' words.

Two kinds of file, each found once per corpus, have their standing scaled in ranking
(`file_factors`):

  release notes   changelogs, release folders, news fragments (below);
  machine-made    what agent/retrieval/skipping.py judges not worth embedding: generated,
                  vendored, lockfile, minified and data files (an SVG drawing's labels name the
                  very fixtures a question asks about; pytest's generated plugin list names
                  every plugin). Scaled by MACHINE_FACTOR unless the question names the file or
                  quotes what it holds.

A changelog, a folder of release notes or news fragments names nearly everything a project has
ever changed, in the plain words a question uses to describe code ("fixed the fixture teardown
when a finalizer raised"), so it matches almost every question and outranks the code it talks
about. On SWE-QA dev, pytest's changelog was among the 10 best files for 36 of 45 questions and
sqlfluff's for 28 of 41; no answer cites either. numpy carries about 300 such files. They stay
in the corpus and keep their words; ranking scales their standing by NOTES_FACTOR, unless the
question asks about versions or changes itself (a version number, "changelog", "release notes").

The signals are general conventions of how projects name these files (keepachangelog,
towncrier, Sphinx release folders), read from the path only, never from a project's own names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from agent.retrieval.skipping import local_folder, local_path, shared_folder, skip_reason
from agent.state import Document

NOTES_FACTOR = 0.3  # a release-notes file's standing is scaled by this (0.5 and 0.1: see DEVELOPERS.md)
MACHINE_FACTOR = 0.3  # a machine-made file's, the same (0.5 measured the same on SWE-QA dev)
# Prose, not code: a `release/` folder of scripts or a `news.py` module is no release note.
_PROSE_SUFFIXES = frozenset({"", ".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc"})
# Folders of release notes: changelog.d/, newsfragments/, doc/release/, docs/releases/,
# whatsnew/, upcoming_changes/, prev_whats_new/, api_changes_3.5.0/, announce/ ...
_NOTES_DIR = re.compile(
    r"^(?:prev_|next_|upcoming_)?(?:api_)?(?:change_?logs?(?:\.d)?|changes|news(?:fragments)?|releases?"
    r"|release[-_]?notes|relnotes|whats[-_]?new|announce)(?:[-_.]?v?\d[\w.]*)?$",
    re.IGNORECASE,
)
_NOTES_NAME = re.compile(
    r"^(?:prev_|next_)?(?:api_)?(?:change_?log|changes|history|news|release[-_]?notes|relnotes|whats[-_]?new)"
    r"(?:[-_.].*)?$"
    r"|^(?:release|v|version)[-_]?\d",
    re.IGNORECASE,
)
# Text a question quotes ("...", `...`, '...'): a machine-made file that holds it is what it asks for.
_QUOTED = re.compile(r'"([^"\n]+)"|`([^`\n]+)`|(?<!\w)\'([^\'\n]+)\'(?!\w)')
# A question about the project's history itself: then release notes are what it asks for.
_ASKS_HISTORY = re.compile(
    r"\bv?\d+\.\d+(?:\.\d+)*\b|\bchange[- ]?logs?\b|\brelease[- ]?notes?\b|\bwhat'?s new\b|\bnews\b",
    re.IGNORECASE,
)


def is_release_notes(path: PurePosixPath) -> bool:
    """Whether a file is a changelog, release note or news fragment, by its path inside its project."""
    if (
        path.suffix.lower() not in _PROSE_SUFFIXES
        or path.name.startswith(".")
        or path.stem.upper() == "README"
    ):
        return False  # code, a dotfile, or the guide to a folder (release/README.md: how to release)
    if _NOTES_NAME.match(path.name):
        return True
    return any(_NOTES_DIR.match(part) for part in path.parts[:-1])


def release_notes(files: Sequence[str]) -> list[str]:
    """The local files (paths or file URIs) that are release notes, judged by their path below the
    folder all of them share, so a checkout under ~/news/ is not all news. Web pages are never
    release notes here: a site's /news/ section is what a question about it may want."""
    local = {f: path for f in files if (path := local_path(f)) is not None}
    if not local:
        return []
    cut = len(shared_folder(list(local.values())))
    out = []
    for f, path in local.items():
        name = path[path.rfind("/") + 1 :]
        dot = name.rfind(".")
        prose = (name[dot:].lower() if dot > 0 else "") in _PROSE_SUFFIXES  # few files are: cheap first
        if prose and is_release_notes(PurePosixPath(path[cut:])):
            out.append(f)
    return out


def machine_made(documents: Sequence[Document]) -> dict[str, str]:
    """The local files that skipping.py leaves out of embedding (generated, vendored, lockfile,
    minified, data: written by a tool, not by the project's hands), uri -> text. Web pages and
    MCP resources are not: a crawled API reference a tool generated is what its reader asked for."""
    below = local_folder(documents)
    return {d.uri: d.text for d in documents if d.source == "file" and skip_reason(d, below) is not None}


def file_factors(
    notes: Sequence[str], question: str, machine: Mapping[str, str] | None = None
) -> dict[str, float]:
    """Each demoted file's factor on its standing for this question (files not listed count 1).

    notes: the corpus's release notes (release_notes()); machine: its machine-made files
    (machine_made()); both found once per corpus. A machine-made file keeps its standing when
    the question names it ("what does package-lock.json pin", "the plugin_list page") or quotes
    what it holds (`name = "dep42"`): then it is what the question is after. Such a file has no
    dense vector, so it could not win back its place on meaning.
    """
    factors = {} if _ASKS_HISTORY.search(question) else dict.fromkeys(notes, NOTES_FACTOR)
    if not machine:
        return factors
    asked = question.lower()
    quoted = [q for found in _QUOTED.findall(question) for q in found if len(q.strip()) > 1]
    for uri, text in machine.items():
        if not (_names(asked, uri[uri.rfind("/") + 1 :].lower()) or any(q in text for q in quoted)):
            factors[uri] = MACHINE_FACTOR
    return factors


def _names(question: str, name: str) -> bool:
    """Whether a (lower-cased) question names a file: its whole name, or a stem no word is
    (plugin_list, package-lock); a drawing called teardown.svg is not named by "teardown"."""
    stem = name.split(".", 1)[0]
    return name in question or (("_" in stem or "-" in stem) and stem in question)
