"""Extracted PDF pages by the sha256 of the file's bytes: in memory (LRU by characters), and as JSON on disk.

Text from encrypted files is kept in memory only, and only handed back to a caller who supplies
a password that opened the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pdf.extract import EXTRACTOR
from tools.pdf.pages import PageText


@dataclass
class DocRecord:
    """What is known about one PDF content (keyed by sha256 of its bytes)."""

    sha: str
    page_count: int
    damaged: bool
    repairs: list[str]
    encryption: str | None
    key_digest: str | None = None  # for encrypted files: digest of the password that opened it
    info: dict[str, Any] | None = None
    pages: dict[int, PageText] = field(default_factory=dict)
    transient: set[int] = field(default_factory=set)  # pages lost to a deadline: not written to disk

    chars: int = 0  # total text held, kept current by add() (the cache's LRU budget reads it)

    def add(self, page: PageText) -> None:
        old = self.pages.get(page.number)
        self.chars += len(page.text) - (len(old.text) if old else 0)
        self.pages[page.number] = page


def key_digest(sha: str, password: str) -> str:
    return hashlib.sha256(f"{sha}\0{password}".encode()).hexdigest()


class ExtractionCache:
    """Documents by content hash, in memory (LRU by characters) and optionally on disk."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *, max_chars: int = 100_000_000):
        self._dir = Path(cache_dir) if cache_dir is not None else None
        self._max_chars = max_chars
        self._records: OrderedDict[str, DocRecord] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha: str, passwords: Sequence[str]) -> DocRecord | None:
        """The record for this content, if any, and if it is encrypted, only for a right password."""
        with self._lock:
            record = self._records.get(sha)
            if record is not None:
                self._records.move_to_end(sha)
        if record is None:
            record = self._load(sha)
            if record is None:
                return None
            self.put(record)
        if record.encryption is not None and record.key_digest not in {key_digest(sha, p) for p in passwords}:
            return None
        return record

    def put(self, record: DocRecord) -> None:
        with self._lock:
            self._records[record.sha] = record
            self._records.move_to_end(record.sha)
            total = sum(r.chars for r in self._records.values())
            while total > self._max_chars and len(self._records) > 1:
                _, evicted = self._records.popitem(last=False)
                total -= evicted.chars

    def save(self, record: DocRecord) -> None:
        """Write a record to the cache directory (atomically); encrypted files never are."""
        if self._dir is None or record.encryption is not None:
            return
        with self._lock:
            payload = {
                "extractor": EXTRACTOR,
                "sha": record.sha,
                "page_count": record.page_count,
                "damaged": record.damaged,
                "repairs": record.repairs,
                "info": record.info,
                "pages": {
                    str(n): [p.text, p.status, p.note, p.hidden]
                    for n, p in record.pages.items()
                    if n not in record.transient
                },
            }
        self._dir.mkdir(parents=True, exist_ok=True)
        target = self._dir / f"{record.sha}.json"
        tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, target)

    def _load(self, sha: str) -> DocRecord | None:
        if self._dir is None:
            return None
        path = self._dir / f"{sha}.json"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logging.getLogger(__name__).warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        if payload.get("extractor") != EXTRACTOR or payload.get("sha") != sha:
            return None
        record = DocRecord(
            sha, payload["page_count"], payload["damaged"], payload["repairs"], None, info=payload["info"]
        )
        for n, (text, status, note, hidden) in payload["pages"].items():
            record.add(PageText(int(n), text, status, note, hidden))
        return record
