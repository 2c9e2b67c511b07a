"""Haystack text we may ship, composed into files of notes, and the planting of needles in them.

Two sources of filler text:
  stdlib     the Python standard library's own documentation: the language reference topics
             (pydoc_data) and the docstrings of its modules, read from this machine's Python.
             PSF-licensed; the licence text is copied next to every run (see LICENCE_NOTE).
  generated  procedural notes about software operations, built from word lists in this file.

Both are deterministic: the same seed and size give the same bytes on the same Python.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.tokens import estimate_tokens

HAYSTACKS = ("stdlib", "generated")
LICENCE_NOTE = (
    "Haystack text: the Python standard library's documentation and docstrings (Python "
    "{version}), under the PSF License Agreement, whose text is in {licence}."
)
_SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "turtledemo", "ensurepip", "pydoc_data"}
_CACHE: dict[str, list[str]] = {}


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def licence_file() -> Path | None:
    """The PSF licence of this Python, if the installation ships it."""
    for candidate in (stdlib_root() / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt"):
        if candidate.is_file():
            return candidate
    return None


def _paragraphs(text: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", text):
        para = "\n".join(line.rstrip() for line in para.strip("\n").splitlines())
        if len(para) >= 80 and not set(para) <= set("*=-~^ \n"):
            out.append(para)
    return out


def _topics() -> list[str]:
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return []
    return [p for key in sorted(topics) for p in _paragraphs(topics[key])]


def _docstrings(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc and len(doc) >= 120:
                out.extend(_paragraphs(doc))
    return out


def stdlib_pool(min_chars: int, cache_dir: Path | None = None) -> list[str]:
    """Paragraphs of the standard library's documentation: topics first, then module docstrings.

    The pool is the shortest head of one fixed sequence (topics, then modules in sorted order)
    holding min_chars, so it is the same for the same size with or without a cache. With
    cache_dir the whole sequence is read once and kept there (parsing every module takes ~20 s).
    """
    key = f"stdlib-{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"
    cache = cache_dir / f"haystack-{key}.json" if cache_dir else None
    pool = _CACHE.get(key)
    if pool is None and cache is not None and cache.is_file():
        pool = _CACHE[key] = json.loads(cache.read_text(encoding="utf-8"))
    if pool is not None:
        return _prefix(pool, min_chars)
    seen: dict[str, None] = {}
    chars = 0

    def take(paras: list[str]) -> None:
        nonlocal chars
        for para in paras:
            if para not in seen:
                seen[para] = None
                chars += len(para)

    take(_topics())
    root = stdlib_root()
    files = sorted(p for p in root.rglob("*.py") if not _SKIP_DIRS & set(p.relative_to(root).parts[:-1]))
    complete = True
    for path in files:
        if chars >= min_chars and cache is None:
            complete = False
            break
        take(_docstrings(path))
    pool = list(seen)
    if complete:
        _CACHE[key] = pool
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(pool), encoding="utf-8")
    return _prefix(pool, min_chars)


def _prefix(pool: list[str], min_chars: int) -> list[str]:
    """The shortest head of the pool holding min_chars (all of it when it holds less)."""
    total = 0
    for n, para in enumerate(pool):
        total += len(para)
        if total >= min_chars:
            return pool[: n + 1]
    return pool


_SUBJECTS = """the scheduler|the ingest worker|the billing service|our build farm|the staging cluster|the
audit log|the cache layer|the release train|the nightly job|the metrics pipeline|the search index|the mail
relay|the storage tier|the API gateway|the on-call rotation|the deploy script|the config loader|the queue
consumer|the backup task|the feature flag service""".replace("\n", " ").split("|")
_VERBS = """retries|throttles|rotates|compacts|archives|validates|rebuilds|drains|replays|schedules|mirrors|
samples|reconciles|batches|flushes|prunes|exports|re-indexes|warms|snapshots""".replace("\n", "").split("|")
_OBJECTS = """stale connections|old partitions|the hourly reports|failed uploads|expired sessions|large
attachments|the dependency graph|orphaned volumes|the weekly digest|slow queries|pending invoices|the
certificate bundle|unused images|the routing table|duplicate events|the shard map|cold storage|the
translation files|the access reviews|the usage counters""".replace("\n", " ").split("|")
_TAILS = """after every deploy|when the disk passes eighty percent|once a night|before the quarterly
review|only on weekdays|whenever a region fails over|unless the maintenance window is open|at most
twice an hour|as soon as the lock is released|during the low-traffic hours|when a customer asks for
it|if the previous run succeeded|on the first Monday of the month|before anyone is paged|while the
cluster is degraded""".replace("\n", " ").split("|")
_LINKS = """Because of that,|In practice,|As a rule,|Historically,|For now,|Note that|In the
meantime,|By design,|On the other hand,|Since the migration,""".replace("\n", " ").split("|")


def generated_pool(min_chars: int) -> list[str]:
    """Procedural operations notes (no outside text at all), at least min_chars of them."""
    rng = random.Random("generated-haystack")
    pool: list[str] = []
    chars = 0
    while chars < min_chars:
        sentences = []
        for _ in range(rng.randint(3, 7)):
            s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
            if rng.random() < 0.3:
                s = f"{rng.choice(_LINKS)} {s}"
            sentences.append(s[0].upper() + s[1:])
        para = " ".join(sentences)
        pool.append(para)
        chars += len(para)
    return pool


def pool_for(haystack: str, min_chars: int, cache_dir: Path | None = None) -> list[str]:
    if haystack == "stdlib":
        pool = stdlib_pool(min_chars, cache_dir)
        if pool:
            return pool
        raise ValueError(
            "this Python ships no standard-library sources to build the stdlib haystack from; "
            "use --haystack generated"
        )
    if haystack == "generated":
        return generated_pool(min_chars)
    raise ValueError(f"unknown haystack {haystack!r}; use one of {', '.join(HAYSTACKS)}")


# ---------------------------------------------------------------- files of notes


@dataclass
class Doc:
    """One file of the corpus as paragraphs; rendered as markdown, plain text or reStructuredText."""

    path: str  # relative to the case folder
    title: str
    paras: list[str] = field(default_factory=list)

    def render(self) -> str:
        if self.path.endswith(".md"):
            return f"# {self.title}\n\n" + "\n\n".join(self.paras) + "\n"
        if self.path.endswith(".rst"):
            return f"{self.title}\n{'=' * len(self.title)}\n\n" + "\n\n".join(self.paras) + "\n"
        return f"{self.title}\n\n" + "\n\n".join(self.paras) + "\n"


_TITLE_WORDS = """handbook notes reference guide overview primer digest appendix chapter log journal memo
summary background design runbook""".split()


def compose(
    pool: Sequence[str],
    tokens: int,
    rng: random.Random,
    *,
    folder: str = "corpus",
    file_tokens: tuple[int, int] = (1200, 3600),
    exts: Sequence[str] = (".md", ".txt", ".rst"),
) -> list[Doc]:
    """Files of about file_tokens each, filled with shuffled pool paragraphs up to ~tokens in all."""
    order = list(range(len(pool)))
    rng.shuffle(order)
    docs: list[Doc] = []
    used = 0
    cursor = 0
    while used < tokens:
        want = min(rng.randint(*file_tokens), max(200, tokens - used))
        ext = rng.choice(list(exts))
        title = f"{rng.choice(_TITLE_WORDS).title()} {len(docs) + 1}"
        doc = Doc(f"{folder}/{len(docs):03d}-{title.split()[0].lower()}{ext}", title)
        have = 0
        while have < want and used + have < tokens:
            para = pool[order[cursor % len(order)]]
            cursor += 1
            if cursor % len(order) == 0:
                rng.shuffle(order)  # a big corpus on a small pool: reuse it in a new order
            doc.paras.append(para)
            have += estimate_tokens(para) + 1
        used += have
        docs.append(doc)
    return docs


def plant(docs: list[Doc], text: str, depth: float, rng: random.Random, *, alone: bool | None = None) -> str:
    """Put text at about `depth` of the corpus, between paragraphs or at a paragraph's end.

    Returns the path of the file that holds it.
    """
    sizes = [sum(len(p) for p in d.paras) for d in docs]
    goal = depth * sum(sizes)
    for doc, size in zip(docs, sizes, strict=True):
        if goal > size and doc is not docs[-1]:
            goal -= size
            continue
        at = 0
        while at < len(doc.paras) and goal > len(doc.paras[at]):
            goal -= len(doc.paras[at])
            at += 1
        alone = rng.random() < 0.6 if alone is None else alone
        if alone or not doc.paras or at == 0:
            doc.paras.insert(at, text)
        else:
            doc.paras[at - 1] = doc.paras[at - 1].rstrip() + " " + text
        return doc.path
    raise ValueError("no documents to plant in")


def write(docs: Sequence[Doc], dest: Path) -> int:
    """Write the files under dest; return the corpus size in tokens (the agent's own estimate)."""
    total = 0
    for doc in docs:
        path = dest / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        text = doc.render()
        path.write_text(text, encoding="utf-8")
        total += estimate_tokens(text)
    return total


def depths(docs: Sequence[Doc], texts: Sequence[str]) -> list[float]:
    """Where each text ended up, as a share of the corpus (in file order)."""
    rendered = [d.render() for d in docs]
    total = sum(map(len, rendered)) or 1
    out = []
    for text in texts:
        offset = 0
        found = None
        for body in rendered:
            i = body.find(text)
            if i >= 0:
                found = offset + i
                break
            offset += len(body)
        out.append(round((found if found is not None else 0) / total, 4))
    return out
