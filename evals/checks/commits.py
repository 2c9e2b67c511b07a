"""Questions from a repository's own history: a commit's message asks, the source files it changed answer.

Each sampled commit becomes a question: its message (subject and body) with issue references,
URLs, trailers (Signed-off-by, Co-authored-by, Fixes: ...), commit hashes, PR-template comments,
gitmoji and file names or paths removed, so the question does not name its answer. Its gold is
the source files it changed that exist at its parent: no tests, docs, changelog or news
fragments, vendored or generated files, lockfiles or configuration. Merges, reverts, release
bumps, pure renames, commits that only re-space their source files (nothing changes under
`git diff -w --ignore-blank-lines`: no words could point at what moved), commits with too short a
message (under MIN_WORDS words) and commits touching more than `max_files` source files are
skipped. Sampling is deterministic: the newest RECENT non-merge commits, shuffled by the seed,
taken in turn.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent.retrieval.skipping import VENDOR_DIRS, says_generated

RECENT = 5000  # non-merge commits sampled from, newest first: questions about today's code
MIN_WORDS = 4  # a cleaned message shorter than this asks nothing
MAX_CHARS = 2000  # of a cleaned message: a long body is cut, its start says what the change is
MAX_FILES = 8  # default: a commit touching more source files is a sweep, not a question

# Code, by extension: what a question about how something works is answered by.
SOURCE_EXTENSIONS = frozenset(
    "py pyi pyx pxd js jsx mjs cjs ts tsx go rs java kt kts scala c h cc cpp cxx hpp hh cs rb php swift m mm "
    "sh bash lua pl pm r jl ex exs erl hrl hs ml mli clj cljs dart vue svelte zig nim groovy sql".split()
)
_TEST_DIRS = frozenset("test tests testing __tests__ spec specs testdata test_data".split())
_DOC_DIRS = frozenset("doc docs documentation".split())
_NEWS_DIRS = frozenset("changelog changelogs changes newsfragments news release-notes releasenotes".split())
_TEST_NAME = re.compile(
    r"^(?:test_.*|.*_tests?\.\w+|conftest\.py|.*\.(?:test|spec)\.\w+|.*Tests?\.(?:java|kt|cs|scala|swift))$"
)
_GENERATED_NAME = re.compile(r"(?:_pb2(?:_grpc)?\.py|\.pb\.go|\.min\.js|[._-]generated\.\w+|^parsetab\.py)$")


@dataclass(frozen=True)
class HistoryQuestion:
    """One commit as a question about its parent's tree."""

    sha: str
    parent: str
    subject: str  # the message's first line, as written (for a developer reading misses)
    question: str  # the cleaned message
    files: tuple[str, ...]  # gold: repo-relative source files it changed, as they were at the parent
    index: int = 0  # position in the sample, from 0


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git on the repository (a checkout or a bare mirror); its stdout, undecoded bytes replaced."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if check and done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"{repo}: git {args[0]} failed: {said[-1] if said else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def is_source(path: str) -> bool:
    """Whether a changed file counts as gold: code, not a test, doc, news fragment, vendored or generated file."""
    p = PurePosixPath(path)
    dirs = [d.lower() for d in p.parts[:-1]]
    if p.suffix.lstrip(".").lower() not in SOURCE_EXTENSIONS:
        return False  # docs, changelogs, lockfiles, configuration, data
    if any(d.startswith(".") for d in dirs):
        return False  # .github/, .ci/: tooling
    if any(d in _TEST_DIRS or d in _DOC_DIRS or d in _NEWS_DIRS or d in VENDOR_DIRS for d in dirs):
        return False
    return not (_TEST_NAME.match(p.name) or _GENERATED_NAME.search(p.name))


# ---------------------------------------------------------------- cleaning a message

_TRAILER = re.compile(
    r"^\s*(?:[\w-]+-by|fix(?:es|ed)?|close[sd]?|resolve[sd]?|refs?|see(?:-also)?|change-id|bug|issue|pr|"
    r"link|ticket|cc|backport-of)\s*:.*$|^\s*\(cherry picked from commit [0-9a-f]+\)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_TEMPLATE = re.compile(
    r"<!--\s*BEGIN ([^>]*?)\s*-->.*?<!--\s*END \1\s*-->|<!--.*?-->", re.DOTALL
)  # PR templates
_EMOJI = re.compile(r"^(?:\s*:[a-z0-9_+-]+:)+(?!\S)")  # gitmoji open a subject: ":sparkles:"; ":math:" stays
_WORD = re.compile(r"\b[^\W\d_]\w*")  # words start with a letter: "0.8.2" is none
_RELEASE = re.compile(
    r"^\W*(?:release|bump|prepare|preparing)\b.*\d", re.IGNORECASE
)  # version bumps ask nothing
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
_REF = r"(?:[\w.-]+/[\w.-]+)?(?:#|\bgh-)\d+\b"
_REF_OR_URL = rf"(?:{_REF}|https?://\S+)"
_REF_PHRASE = re.compile(
    rf"\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|refs?|see|ticket|issues?|pr|pull request|bug)\s*:?\s*"
    rf"{_REF_OR_URL}(?:\s*(?:,|and)\s*{_REF_OR_URL})*",
    re.IGNORECASE,
)
_BARE_REF = re.compile(rf"(?<![\w&]){_REF}", re.IGNORECASE)
_HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
# A path: two slashes or more ("src/pkg/mod"; "and/or" is no path), or a name with a file extension.
_PATHLIKE = r"(?<![\w/])(?:[\w.-]+/){2,}[\w.-]+|(?<![\w/])(?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.(?:%s)\b"
_EMPTY_BRACKETS = re.compile(
    r"(?<![\w)\]])(?:\(\s*[,;:]?\s*\)|\[\s*[,;:]?\s*\])|`[ \t]*`"
)  # not a call's "()"
_LEAD = re.compile(r"^[\s\-–—:;,.]+")
_EXTS = "|".join(
    sorted(SOURCE_EXTENSIONS | {"md", "rst", "txt", "toml", "cfg", "ini", "yaml", "yml", "json"})
)
_PATH_TOKEN = re.compile(_PATHLIKE % _EXTS)


def _module_names(paths: Iterable[str]) -> set[str]:
    """Dotted module names of changed Python files (`_pytest.fixtures` for `src/_pytest/fixtures.py`)."""
    out = set()
    for path in paths:
        p = PurePosixPath(path)
        if p.suffix in (".py", ".pyi") and len(p.parts) > 1:
            parts = list(p.with_suffix("").parts)
            if parts[0] in ("src", "lib"):
                parts = parts[1:]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if len(parts) > 1:
                out.add(".".join(parts))
    return out


def clean_message(message: str, paths: Sequence[str]) -> str:
    """The message without issue references, URLs, trailers, hashes, or the names and paths of files."""
    subject, _, body = message.strip().partition("\n")
    text = subject + "\n" + _TRAILER.sub("", body)  # "fix: ..." as a subject is no trailer
    text = _EMOJI.sub(" ", _TEMPLATE.sub(" ", text))
    text = _REF_PHRASE.sub(" ", text)  # first: "Fixes https://..." goes as a whole
    text = _URL.sub(" ", text)
    text = _BARE_REF.sub(" ", text)
    text = _HASH.sub(" ", text)
    names = {n for p in paths for n in (p, PurePosixPath(p).name)} | _module_names(paths)
    for name in sorted(names, key=len, reverse=True):  # a path before its own file name
        text = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", " ", text)
    text = _PATH_TOKEN.sub(" ", text)
    stems = {PurePosixPath(p).stem for p in paths} - {"__init__"}
    text = re.sub(r"`([^`\n]+)`", lambda m: " " if m.group(1).strip() in stems else m.group(0), text)
    sources = [PurePosixPath(p) for p in paths if is_source(p)]  # a test folder's name gives nothing away
    areas = {part.lower() for p in sources for part in (*p.parts[:-1], p.stem)}
    lines = []
    for n, line in enumerate(text.splitlines()):
        if n == 0:  # "fixtures: ..." names the file by its area
            head, sep, rest = line.partition(":")
            if sep and head.strip().lower() in areas:
                line = rest
        line = _LEAD.sub("", _EMPTY_BRACKETS.sub(" ", line))
        lines.append(re.sub(r"[ \t]{2,}", " ", line).rstrip())
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return cleaned[:MAX_CHARS].rstrip()


# ---------------------------------------------------------------- sampling commits


def _changes(repo: Path, sha: str) -> tuple[str, list[tuple[str, str, str]]]:
    """A non-merge commit's message and its changes: (status letter, path at parent, path after)."""
    out = git(repo, "show", "-M", "--name-status", "--format=%B%x00", sha)
    message, _, listing = out.partition("\0")
    changes = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0]:
            continue
        status = fields[0][0]
        before, after = (
            (fields[1], fields[2]) if status in "RC" and len(fields) > 2 else (fields[1], fields[1])
        )
        changes.append((fields[0], before, after))
    return message, changes


def question_for(repo: Path, sha: str, parent: str, max_files: int = MAX_FILES) -> HistoryQuestion | None:
    """The commit as a question, or None when it is filtered out (see the module docstring)."""
    message, changes = _changes(repo, sha)
    subject = message.strip().splitlines()[0] if message.strip() else ""
    if subject.lower().startswith("revert") or "This reverts commit" in message or _RELEASE.match(subject):
        return None
    if not changes or all(status == "R100" for status, _, _ in changes):
        return None  # empty, or pure renames
    touched = [c for c in changes if is_source(c[2]) or is_source(c[1])]
    if not touched or len(touched) > max_files:
        return None
    # Gold: the source files the parent already had (modified, deleted or renamed away).
    gold = [before for status, before, _ in touched if status[0] in "MDRT" and is_source(before)]
    gold = [p for p in dict.fromkeys(gold) if not says_generated(p, _head(repo, parent, p))]
    if not gold or _layout_only(repo, parent, sha, [p for c in touched for p in dict.fromkeys(c[1:])]):
        return None
    question = clean_message(message, [p for c in changes for p in c[1:]])
    if len(_WORD.findall(question)) < MIN_WORDS:
        return None
    return HistoryQuestion(sha, parent, subject, question, tuple(gold))


def _layout_only(repo: Path, parent: str, sha: str, paths: Sequence[str]) -> bool:
    """Whether the commit changes nothing in these files but spaces and blank lines."""
    diff = git(
        repo, "diff", "-w", "--ignore-blank-lines", "--no-ext-diff", parent, sha, "--", *paths, check=False
    )
    return not diff.strip()


def _head(repo: Path, commit: str, path: str) -> str:
    """The first 2,000 characters of a file as it was at a commit."""
    return git(repo, "show", f"{commit}:{path}", check=False)[:2000]


def sample(
    repo: Path, limit: int, *, seed: int = 0, max_files: int = MAX_FILES, recent: int = RECENT
) -> list[HistoryQuestion]:
    """Up to `limit` questions from the newest `recent` non-merge commits of HEAD, the same for the same seed.

    The questions come back oldest first, so consecutive ones share most of their parent's tree.
    """
    listing = git(repo, "rev-list", "--no-merges", f"--max-count={recent}", "--parents", "HEAD")
    commits = [line.split() for line in listing.splitlines() if len(line.split()) == 2]  # skips root commits
    order = list(range(len(commits)))
    random.Random(seed).shuffle(order)
    chosen: list[tuple[int, HistoryQuestion]] = []
    for i in order:
        if len(chosen) >= limit:
            break
        q = question_for(repo, commits[i][0], commits[i][1], max_files)
        if q is not None:
            chosen.append((i, q))
    chosen.sort(key=lambda pair: -pair[0])  # rev-list is newest first
    return [
        HistoryQuestion(q.sha, q.parent, q.subject, q.question, q.files, n) for n, (_, q) in enumerate(chosen)
    ]
