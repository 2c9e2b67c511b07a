"""`kill -9` in the middle of embedding: the next run resumes, and nothing is doubled or orphaned.

`forage index` is killed while it stores vectors in slices; the next `forage index` finishes, and
the Chroma ids must be exactly those an uninterrupted index of the same folder holds. The
background embedder (agent/retrieval/background.py), started by a `forage ask` over a folder
bigger than its budget, is killed mid-spool; the next `forage ask` starts a worker that embeds
the rest of the spool into the cache: one vector per chunk hash, and no spool file left.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from evals.checks.faults import harness as h
from evals.checks.faults.registry import Outcome, fault

_TOPICS = ("retry", "cache", "socket", "parser", "ledger", "garden", "compiler", "harbor", "signal", "vector")


def corpus(tmp: Path, files: int) -> Path:
    """A folder of distinct prose files, about 8 chunks each."""
    root = tmp / "corpus"
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        topic = _TOPICS[i % len(_TOPICS)]
        paras = [
            f"## Part {k}\nNote {i}.{k} on the {topic} subsystem: step {k} checks value {i * 31 + k} "
            f"against limit {k * 7 + i}, then logs the {topic} state for operator {i % 13}. " * 6
            for k in range(8)
        ]
        (root / f"note_{i:03d}.md").write_text(f"# Note {i} about {topic}\n\n" + "\n\n".join(paras) + "\n")
    return root


def _popen(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.app", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=h.ROOT,
            env=env,
        )


def _wait_for(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def chroma_ids(data: Path) -> list[str]:
    """Every id in the index's forage collection (with repeats, if there were any)."""
    import chromadb

    client = chromadb.PersistentClient(
        path=str(data / "index"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    ids: list[str] = []
    for c in client.list_collections():
        name = getattr(c, "name", c)
        if str(name).startswith("forage-"):
            ids += client.get_collection(str(name)).get(include=[])["ids"]
    return ids


def _stored_vectors(data: Path) -> int:
    try:
        with closing(sqlite3.connect(data / "index" / "chroma.sqlite3", timeout=5)) as db:
            return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    except sqlite3.Error:  # not created yet by Chroma
        return 0


@fault("kill -9 during forage index", "index")
def killed_index(tmp: Path) -> Outcome:
    root = corpus(tmp, 36)  # ~290 chunks: one slice of 256 (chroma_index._ADD_SLICE) and a bit
    env = h.env_for(tmp)
    data = tmp / "data"
    log = tmp / "first.log"
    first = _popen(["index", str(root)], env, log)
    # Killed once the first slice is stored in Chroma, before the rest is.
    index_db = data / "index" / "chroma.sqlite3"
    started = _wait_for(lambda: index_db.exists() and _stored_vectors(index_db.parent.parent) > 0, 600)
    finished_early = first.poll() is not None
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    partial = _stored_vectors(data) if (data / "index" / "chroma.sqlite3").exists() else 0
    again = h.run_cli("index", str(root), tmp=tmp, timeout=900)
    ids = chroma_ids(data)
    # The same folder indexed without a kill (its vectors from the cache: nothing to embed again).
    clean = tmp / "clean"
    (clean / "data").mkdir(parents=True)
    shutil.copy(data / "embeddings.sqlite", clean / "data" / "embeddings.sqlite")
    fresh = h.run_cli("index", str(root), tmp=clean, env=h.env_for(clean), timeout=900)
    expected = chroma_ids(clean / "data")
    consistent = len(ids) == len(set(ids)) and set(ids) == set(expected) and _stored_vectors(data) == len(ids)
    said = next((line for line in again.stdout.splitlines() if line.startswith("indexed")), "")
    return h.verdict(
        exit_code=again.returncode, expected=0, message=said, shown=again.stderr,
        data_kept=f"{partial} vectors stored before the kill kept; {len(ids)} after resuming, "
        f"the same ids as an uninterrupted index ({len(expected)})",
        kept=started and not finished_early and fresh.returncode == 0 and consistent and 0 < partial < len(ids),
    )  # fmt: skip


def _worker_pids(data: Path) -> list[int]:
    """The background embedders working on this data dir (by their command line)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agent.retrieval.background" in cmd and str(data).encode() in cmd:
            pids.append(int(proc.name))
    return pids


def _cache_rows(data: Path) -> tuple[int, int]:
    try:
        with closing(sqlite3.connect(data / "embeddings.sqlite", timeout=30)) as db:
            total, distinct = db.execute("SELECT count(*), count(DISTINCT model || hash) FROM vec").fetchone()
    except sqlite3.Error:  # the table is not there yet
        return 0, 0
    return int(total), int(distinct)


@fault("kill -9 during the background embedder", "ask")
def killed_worker(tmp: Path) -> Outcome:
    root = corpus(tmp, 48)  # ~380 chunks: over select.EMBED_AT_QUESTION (300), so the rest goes to the worker
    data = tmp / "data"
    asked = h.run_cli("ask", "How does the retry subsystem check its limit?", str(root), "--model", "extractive",
                      "--budget", "3000", tmp=tmp, timeout=900)  # fmt: skip
    spool = data / "pending"
    spooled = {line for p in spool.glob("*.hashes") for line in p.read_text().split()}
    found = _wait_for(lambda: _worker_pids(data), 30)
    # Killed once it has written some vectors, before it is done.
    _wait_for(lambda: (data / "embeddings.sqlite").exists() and _cache_rows(data)[0] > 0, 600)
    for pid in _worker_pids(data):
        os.kill(pid, signal.SIGKILL)
    before = _cache_rows(data)[0] if (data / "embeddings.sqlite").exists() else 0
    left = sorted(p.name for p in spool.glob("*.jsonl"))
    # The next question over the same folder spools nothing new and starts a worker, which resumes.
    resumed = h.run_cli("ask", "How does the retry subsystem check its limit?", str(root), "--model", "extractive",
                        "--budget", "3000", tmp=tmp, timeout=900)  # fmt: skip
    _wait_for(lambda: _worker_pids(data), 30)
    _wait_for(lambda: not _worker_pids(data), 900)
    total, distinct = _cache_rows(data)
    done = not list(spool.glob("*.jsonl")) and not list(spool.glob("*.hashes"))
    said = next((line for line in asked.stderr.splitlines() if "background" in line.lower()), "answered")
    return h.verdict(
        exit_code=asked.returncode, expected=0, message=said, shown=asked.stderr + resumed.stderr,
        data_kept=f"{before} vectors written before the kill kept; the next worker finished the spool "
        f"({total} vectors for {len(spooled)} chunks, none twice)",
        kept=found and bool(left) and 0 < before < len(spooled) and total == distinct == len(spooled) and done
        and resumed.returncode == 0,
    )  # fmt: skip
