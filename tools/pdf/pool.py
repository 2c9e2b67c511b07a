"""Run tools.pdf.extract in worker processes with a per-file deadline and RLIMIT_AS; cache by content hash.

A hostile PDF can hang pypdf or exhaust memory. Each worker is a separate interpreter
(`python -m tools.pdf.worker`) with an address-space limit; the pool gives each file a
wall-clock deadline and kills and replaces a worker that overruns it or dies, so one bad file
costs one worker, never the server. Workers stream pages back as they go, so what was read
before a deadline is kept (and cached, `tools.pdf.cache`) and the next call continues from there.
"""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tools import errors
from tools.pdf.cache import DocRecord, ExtractionCache, key_digest
from tools.pdf.limits import PdfLimits
from tools.pdf.pages import NoTextLayer, PageText, page_block, parse_page_range

_ERRORS: dict[str, type[errors.ToolError]] = {
    cls.__name__: cls for cls in (*vars(errors).values(), NoTextLayer) if isinstance(cls, type)
}
_REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- results


@dataclass
class PdfRead:
    """The requested pages that are available, in order, and how the read went."""

    name: str
    sha: str
    page_count: int
    requested: list[int]
    pages: list[PageText]  # a prefix of `requested`
    damaged: bool
    repairs: list[str]
    encryption: str | None
    stopped: str | None = None  # why extraction stopped before the requested pages were all read
    from_cache: bool = False

    @property
    def complete(self) -> bool:
        return len(self.pages) == len(self.requested)


# ---------------------------------------------------------------------------- the pool


class _WorkerLost(Exception):
    """A worker died before answering a job (internal: the job is retried once)."""


class _Worker:
    """One worker process and its two pipe ends."""

    def __init__(self, memory_bytes: int):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH")) if p)
        # stdout is DEVNULL: on a stdio MCP server the parent's stdout is the protocol channel.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tools.pdf.worker", str(to_child_r), str(from_child_w), str(memory_bytes)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send = Connection(to_child_w, readable=False)
        self.recv = Connection(from_child_r, writable=False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, *, kill: bool) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.send.send(None)
            except OSError:
                self.proc.kill()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.send.close()
        self.recv.close()

    def exit_reason(self) -> str:
        code = self.proc.wait(timeout=2)
        if code < 0:
            name = signal.Signals(-code).name
            return f"killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
        return f"exited with status {code}"


class PdfPool:
    """Worker processes that extract PDFs under a deadline and a memory limit, with a cache.

    Methods are blocking and thread-safe; an async server calls them via a worker thread.
    """

    def __init__(
        self,
        limits: PdfLimits = PdfLimits(),
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        default_password: str | None = None,
    ):
        self.limits = limits
        self.workers = limits.workers
        self.deadline = limits.deadline
        self.memory_mb = limits.memory_mb
        self.default_password = default_password
        self.cache = ExtractionCache(cache_dir)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self.replaced = 0  # workers killed or lost and replaced (for tests and logs)

    def start(self) -> PdfPool:
        for _ in range(self.workers):
            self._idle.put(self._spawn())
        return self

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for w in workers:
            w.stop(kill=False)

    def __enter__(self) -> PdfPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers."""
        with self._lock:
            return [w.proc.pid for w in self._all]

    def _spawn(self) -> _Worker:
        w = _Worker(self.memory_mb * 1024 * 1024)
        with self._lock:
            self._all.append(w)
        return w

    def _replace(self, w: _Worker, *, kill: bool) -> _Worker:
        w.stop(kill=kill)
        with self._lock:
            if w in self._all:
                self._all.remove(w)
        self.replaced += 1
        return self._spawn()

    # -- public operations ----------------------------------------------------------------

    def info(
        self,
        *,
        name: str,
        path: str | os.PathLike[str] | None = None,
        data: bytes | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        """pdf_info's facts: pages, metadata, encryption, text layer, outline, damage."""
        sha = _sha256(path, data)
        record = self.cache.get(sha, self._passwords(password))
        if record is None or record.info is None:
            record = self._run(
                {"op": "info", "name": name, "path": _str(path), "data": data, **self._pw(password)}, sha
            )
            if record.info is None:
                raise errors.Timeout(
                    f"{name} did not finish its info scan within the {self.deadline:g} s deadline; "
                    "try read_pdf with a small page range"
                )
        return dict(record.info, sha256=sha)

    def read(
        self,
        *,
        name: str,
        path: str | os.PathLike[str] | None = None,
        data: bytes | None = None,
        pages: str | None = None,
        password: str | None = None,
        char_budget: int | None = None,
    ) -> PdfRead:
        """Extract the requested pages in order; stop once `char_budget` rendered characters are in."""
        sha = _sha256(path, data)
        record = self.cache.get(sha, self._passwords(password))
        if record is not None:
            numbers = parse_page_range(pages, record.page_count, name=name)
            if _enough(record, numbers, char_budget):
                return _assemble(name, record, numbers, None, from_cache=True)
        known = {}
        if record is not None:
            known = {n: len(page_block(record.pages[n])) for n in numbers if n in record.pages}
        job = {
            "op": "read", "name": name, "path": _str(path), "data": data, "pages": pages,
            "known": known, "budget": char_budget, **self._pw(password),
        }  # fmt: skip
        stopped: list[str] = []
        record = self._run(job, sha, stopped)
        numbers = parse_page_range(pages, record.page_count, name=name)
        return _assemble(name, record, numbers, stopped[0] if stopped else None)

    # -- plumbing --------------------------------------------------------------------------

    def _passwords(self, password: str | None) -> list[str]:
        return [p for p in (password, self.default_password, "") if p is not None]

    def _pw(self, password: str | None) -> dict[str, str | None]:
        return {"password": password, "default_password": self.default_password}

    def _run(self, job: dict[str, Any], sha: str, stopped: list[str] | None = None) -> DocRecord:
        """Send one job to an idle worker and fold what streams back into the cache."""
        try:
            return self._run_once(job, sha, stopped, retry=True)
        except _WorkerLost:
            # The worker died before it said anything: most likely it was already dead (killed
            # while idle), so give the file one fresh worker before blaming the file.
            return self._run_once(job, sha, stopped, retry=False)

    def _run_once(
        self, job: dict[str, Any], sha: str, stopped: list[str] | None, *, retry: bool
    ) -> DocRecord:
        name = job["name"]
        w = self._idle.get()
        record: DocRecord | None = None
        try:
            if not w.alive():
                w = self._replace(w, kill=True)
            try:
                w.send.send(job)
            except OSError:
                w = self._replace(w, kill=True)
                raise _WorkerLost from None
            due = time.monotonic() + self.deadline
            while True:
                remaining = due - time.monotonic()
                if remaining <= 0 or not w.recv.poll(max(0.0, remaining)):
                    w = self._replace(w, kill=True)
                    why = f"extraction took longer than the {self.deadline:g} s deadline"
                    if record is None:
                        raise errors.Timeout(
                            f"{name} could not be opened within the {self.deadline:g} s deadline; the file is "
                            "probably malformed or hostile (its worker was stopped)"
                        )
                    return self._give_up(record, job, why, stopped)
                try:
                    msg = w.recv.recv()
                except (EOFError, OSError):
                    reason = w.exit_reason()
                    w = self._replace(w, kill=True)
                    if record is None and retry:
                        raise _WorkerLost from None
                    if record is None:
                        raise errors.DamagedDocument(
                            f"reading {name} crashed its worker process ({reason}); the file is probably "
                            "malformed or hostile"
                        ) from None
                    return self._give_up(record, job, f"the worker crashed ({reason})", stopped)
                kind = msg[0]
                if kind == "meta":
                    record = self._record(sha, job, msg[1])
                elif kind == "page" and record is not None:
                    page = PageText(*msg[1])
                    record.add(page)
                elif kind == "done" and record is not None:
                    if msg[1].get("info") is not None:
                        record.info = msg[1]["info"]
                    self.cache.put(record)
                    self.cache.save(record)
                    return record
                elif kind == "error":
                    raise _ERRORS.get(msg[1], errors.ToolError)(msg[2])
                elif kind == "oom":
                    w = self._replace(w, kill=False)
                    why = f"the worker ran out of its {self.memory_mb} MB memory limit"
                    if record is None:
                        raise errors.TooLarge(
                            f"{name} needs more than the {self.memory_mb} MB memory limit to open; "
                            "raise it with pdf_memory_mb (forage.toml or FORAGE_PDF_MEMORY_MB), "
                            "or --memory-mb for a pdf server run by hand"
                        )
                    return self._give_up(record, job, why, stopped)
        finally:
            self._idle.put(w)

    def _record(self, sha: str, job: dict[str, Any], meta: dict[str, Any]) -> DocRecord:
        existing = self.cache.get(sha, self._passwords(job["password"]))
        if existing is not None:
            return existing
        used = meta["password_used"]
        record = DocRecord(
            sha,
            meta["page_count"],
            meta["damaged"],
            meta["repairs"],
            meta["encryption"],
            key_digest(sha, used) if meta["encryption"] is not None and used is not None else None,
        )
        self.cache.put(record)
        return record

    def _give_up(
        self, record: DocRecord, job: dict[str, Any], why: str, stopped: list[str] | None
    ) -> DocRecord:
        """Mark the page that was being read as unreadable, so the next call moves past it."""
        if job["op"] == "read":
            numbers = parse_page_range(job["pages"], record.page_count) if record.page_count else []
            stuck = next((n for n in numbers if n not in record.pages), None)
            if stuck is not None:
                record.add(PageText(stuck, "", "unreadable", why))
                record.transient.add(stuck)
                why = f"{why} on page {stuck}"
        if stopped is not None:
            stopped.append(why)
        self.cache.put(record)
        self.cache.save(record)
        return record


def _enough(record: DocRecord, numbers: list[int], budget: int | None) -> bool:
    used = 0
    for n in numbers:
        page = record.pages.get(n)
        if page is None:
            return False
        used += len(page_block(page))
        if budget is not None and used >= budget:
            return True
    return True


def _assemble(
    name: str, record: DocRecord, numbers: list[int], stopped: str | None, *, from_cache: bool = False
) -> PdfRead:
    prefix: list[PageText] = []
    for n in numbers:
        page = record.pages.get(n)
        if page is None:
            break
        prefix.append(page)
    return PdfRead(
        name, record.sha, record.page_count, numbers, prefix, record.damaged, record.repairs,
        record.encryption, stopped, from_cache,
    )  # fmt: skip


def _sha256(path: str | os.PathLike[str] | None, data: bytes | None) -> str:
    if (path is None) == (data is None):
        raise errors.InvalidArgument("pass exactly one of path or data")
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    try:
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError as exc:
        raise errors.NotFound(f"{os.fspath(path)!r} does not exist") from exc
    except PermissionError as exc:
        raise errors.AccessDenied(f"{os.fspath(path)!r} cannot be read: permission denied") from exc
    except IsADirectoryError as exc:
        raise errors.InvalidArgument(f"{os.fspath(path)!r} is a folder, not a PDF file") from exc


def _str(path: str | os.PathLike[str] | None) -> str | None:
    return None if path is None else os.fspath(path)
