"""What reading one PDF may cost: the same limits whichever command or server reads it."""

from __future__ import annotations

from dataclasses import dataclass

from tools.errors import InvalidArgument


@dataclass(frozen=True)
class PdfLimits:
    """Per-file time and memory for extraction, worker count, and the download cap behind a URL.

    `forage ask` (the pdf server), `forage pack` (the direct path) and the web server (a URL
    that serves a PDF) all read a PDF under these, built from Settings.pdf_limits().
    """

    # 30 s per file: on this project's 2-core test machine, under load, a 504-page text PDF
    # (a manual repeated 14 times) extracted in 19 s, so 30 s reads a ~500-page book whole with
    # room to spare, and a hostile file holds a worker for at most that long. It was already
    # `forage pack`'s value, so nothing that packed before is cut short now; and a PDF behind a
    # URL (download up to download_deadline, then extraction) stays inside the 120 s default
    # Settings.call_timeout.
    deadline: float = 30.0
    # 512 MB of address space per worker: a worker starts in about 60 MB, and pypdf's own
    # decompression caps keep honest files far below this; a bomb hits it and loses one worker.
    memory_mb: int = 512
    # Two workers: one per core on a 2-core machine; more only queue for the CPU.
    workers: int = 2
    # A PDF behind a URL is downloaded whole before it is read: at most this many bytes, within
    # this many seconds (or the fetcher's own deadline, when that is longer).
    max_bytes: int = 50_000_000
    download_deadline: float = 60.0

    def __post_init__(self) -> None:
        if self.deadline <= 0:
            raise InvalidArgument(f"deadline={self.deadline}: give the per-file deadline in seconds, above 0")
        if self.memory_mb < 64:
            raise InvalidArgument(
                f"memory_mb={self.memory_mb}: give at least 64 (a worker needs about 60 MB to start)"
            )
        if self.workers < 1:
            raise InvalidArgument(f"workers={self.workers}: the pdf pool needs at least one worker")
        if self.max_bytes <= 0 or self.download_deadline <= 0:
            raise InvalidArgument(
                f"max_bytes={self.max_bytes}, download_deadline={self.download_deadline}: both must be above 0"
            )
