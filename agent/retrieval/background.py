"""Embed in the background: first contact with a big corpus answers at once, vectors follow.

A question over an unindexed corpus is ranked lexically right away; the chunks that have no
vector yet are written to a spool file in the cache folder, and one detached, low-priority
worker process (`python -m agent.retrieval.background`) embeds them into the content-hash cache. The
next question over the same material finds every vector there and ranks densely. Only the
local engine runs in the background (a remote engine would need the key in another process).

A one-shot question (`agent.session.session.run`: `forage ask`, `forage pack`) holds `answering()`
while it runs: the worker waits for it to end before it loads the model, so the two peaks of
memory (the question's corpus and index, the worker's model) do not add up. In a chat the
worker starts at once: the session lives on, and the next question wants the vectors.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from agent.paths import EMBEDDINGS, PENDING, places

# agent.retrieval.embeddings is imported where it is used: a worker waiting for a question to end is a
# bare interpreter, not one holding numpy, pydantic and the settings.

MAX_SPOOL_CHUNKS = 300_000  # beyond this, `forage index` is the better tool (and says how far it got)
_BATCH = 64  # vectors are written to the cache every batch, so a killed worker loses little
MAX_WAIT_S = 600.0  # a worker waits this long at most for one-shot questions to end (back-to-back evals)


def pending_dir(cache_dir: Path) -> Path:
    return cache_dir / PENDING


def _hold_workers(cache_dir: Path) -> int:
    """Take the questions' lock (shared: questions in other processes may run alongside); its fd."""
    spool = pending_dir(cache_dir)
    spool.mkdir(parents=True, exist_ok=True)
    fd = os.open(spool / "busy.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


@contextlib.contextmanager
def answering(cache_dir: Path) -> Iterator[None]:
    """Hold background workers off (before they load the model) while this one-shot question runs."""
    fd = _hold_workers(cache_dir)
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


_HELD: set[Path] = set()  # data dirs this process holds workers off for, until it exits
_AT_EXIT: set[Path] = set()  # data dirs whose worker starts as this process exits


def hold_until_exit(cache_dir: Path) -> None:
    """Hold background workers off until this process ends (a one-shot command, after run()).

    A worker is then started as the process exits, and the lock is never released by hand:
    the kernel drops it when the process is gone, after it has freed the process's memory, so
    the worker's model never shares the machine with it. Once per data dir and process.
    """
    if Path(cache_dir) in _HELD:
        return
    _HELD.add(Path(cache_dir))
    _hold_workers(cache_dir)  # the descriptor stays open until exit, on purpose


def _wait_for_questions(spool: Path, timeout: float) -> None:
    """Return once no one-shot question holds `answering()`, or after timeout seconds."""
    try:
        fd = os.open(spool / "busy.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        return  # the cache folder was removed: the loop below finds nothing to embed
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return  # nobody answers now; closing the file lets the next question start
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.2)
    finally:
        os.close(fd)


def embed_later(settings: Any, model: str, chunks: Sequence[Any]) -> bool:
    """Spool the chunks and make sure a worker runs; False when background embedding is not possible."""
    from agent.retrieval.minilm import graph_precision

    precision = graph_precision(model)  # the worker embeds with the graph the question ranks with
    if precision is None or not chunks or len(chunks) > MAX_SPOOL_CHUNKS:
        return False
    cache_dir = places(settings).cache
    spool = pending_dir(cache_dir)
    spool.mkdir(parents=True, exist_ok=True)
    queued = _queued_hashes(spool)  # the question before this one may have spooled the same corpus
    new = {c.hash: c.text for c in chunks if c.hash not in queued}
    if new:
        name = spool / f"{time.time_ns()}-{os.getpid()}.{precision}.jsonl"
        tmp = name.with_suffix(".tmp")
        # The lines json.dumps({"hash": h, "text": text}) gives, four times faster: 100k chunks
        # are spooled in ~0.25 s, not ~0.6 s.
        encode = json.JSONEncoder(ensure_ascii=False).encode
        with open(tmp, "w", encoding="utf-8") as fh:
            # writelines, not one joined string: that held a second copy of 100k chunks' text
            # (~25 MB) at the process's peak, just after ranking.
            fh.writelines(f'{{"hash": {encode(h)}, "text": {encode(text)}}}\n' for h, text in new.items())
        name.with_suffix(".hashes").write_text("".join(h + "\n" for h in new), encoding="ascii")
        os.replace(tmp, name)  # the list of hashes is there before the spool file it describes
    if _worker_running(spool):
        return True  # it picks the new file up when it finishes its current one
    if Path(cache_dir) in _HELD:  # a one-shot command: start it as this process exits
        if Path(cache_dir) not in _AT_EXIT:
            _AT_EXIT.add(Path(cache_dir))
            atexit.register(_start_worker, Path(cache_dir))
        return True
    return _start_worker(Path(cache_dir))


def _queued_hashes(spool: Path) -> set[str]:
    """The hashes of the chunks in spool files no worker has finished yet (each file lists them aside)."""
    queued: set[str] = set()
    for listing in spool.glob("*.hashes"):
        if not listing.with_suffix(".jsonl").exists():
            continue  # embedded already (or a spool file never written)
        with contextlib.suppress(OSError):
            queued.update(listing.read_text(encoding="ascii").split())
    return queued


def _start_worker(cache_dir: Path) -> bool:
    spool = pending_dir(cache_dir)
    log = open(spool / "worker.log", "ab")  # noqa: SIM115 (handed to the child, closed below)
    try:
        subprocess.Popen(
            [sys.executable, "-m", "agent.retrieval.background", "--cache-dir", str(cache_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            cwd=str(Path(__file__).resolve().parents[2]),
        )  # fmt: skip
    except OSError:
        return False
    finally:
        log.close()
    return True


def _worker_running(spool: Path) -> bool:
    fd = os.open(spool / "worker.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def run_pending(cache_dir: Path, embedder: Any | None = None, *, wait: float = MAX_WAIT_S) -> int:
    """Embed every spooled chunk into the cache (one worker at a time); return how many were embedded.

    wait: seconds to wait at most for one-shot questions (`answering()`) to end first.
    """
    spool = pending_dir(cache_dir)
    spool.mkdir(parents=True, exist_ok=True)
    fd = os.open(spool / "worker.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return 0  # another worker has it
    done = 0
    try:
        _wait_for_questions(spool, wait)
        from agent.retrieval.embeddings import EmbeddingCache

        engines: dict[str, Any] = {}
        cache = EmbeddingCache(cache_dir / EMBEDDINGS)
        try:
            while files := sorted(spool.glob("*.jsonl")):
                for path in files:
                    done += _embed_file(path, embedder or _engine(engines, cache_dir, path), cache)
                    path.unlink(missing_ok=True)
                    path.with_suffix(".hashes").unlink(missing_ok=True)
                if not spool.exists():
                    break
            for listing in spool.glob("*.hashes"):  # left by a worker killed between two unlinks
                if not listing.with_suffix(".jsonl").exists():
                    listing.unlink(missing_ok=True)
        finally:
            cache.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return done


def _engine(engines: dict[str, Any], cache_dir: Path, path: Path) -> Any:
    """The local engine a spool file asks for (its name says the graph; fp32 before it did), one per graph."""
    from agent.retrieval.embeddings import LocalEmbedder
    from agent.retrieval.minilm import PRECISIONS

    tag = Path(path.stem).suffix.lstrip(".")
    precision = tag if tag in PRECISIONS else "fp32"
    if precision not in engines:
        engines[precision] = LocalEmbedder(cache_dir, precision=precision)
    return engines[precision]


def _embed_file(path: Path, embedder: Any, cache: Any) -> int:
    todo: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line: those chunks are spooled again next time
            todo.setdefault(row["hash"], row["text"])
    have = cache.get_many(embedder.name, list(todo))
    items = [(h, t) for h, t in todo.items() if h not in have]
    for b in range(0, len(items), _BATCH):
        if not path.exists():  # the cache folder was removed under us: nothing to embed it for
            break
        part = items[b : b + _BATCH]
        vecs = embedder.embed([t for _, t in part])
        cache.put_many(embedder.name, {h: v for (h, _), v in zip(part, vecs, strict=True)})
    return len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Embed spooled chunks into forage's cache.")
    parser.add_argument("--cache-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    os.nice(10)  # the user's foreground work comes first
    n = run_pending(args.cache_dir)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} embedded {n} chunks", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
