"""Reading files safely inside the roots: no symlink swaps, no FIFOs, size caps, text or a reason.

Shared by every file tool (tools.files.front, tools.files.bundle, tools.files.search).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from tools.errors import AccessDenied, BinaryContent, InvalidArgument, NotFound, TooLarge
from tools.files.text import SNIFF_BYTES, Sniff, decode, sniff

DEFAULT_MAX_FILE_BYTES = 2_000_000
_SHOW_SKIPPED = 20


@dataclass(frozen=True)
class FileText:
    """Decoded text of a file, or of a line range of it."""

    path: Path
    display: str
    text: str
    start: int
    end: int
    total_lines: int
    encoding: str
    tokens: int
    label: str | None = None  # a part of an office document or notebook ("slide 3", "cell 4")


# ---------------------------------------------------------------- reading bytes safely


def open_checked(path: Path | str, display: str) -> int:
    """Open a resolved path for reading, turning OS errors into messages the model can act on."""
    try:
        # O_NOFOLLOW: the path was resolved just before; a symlink swapped in since is refused.
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; the caller
        # refuses anything that is not a regular file right after (fstat).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError as exc:
        raise AccessDenied(
            f"{display!r} cannot be read: permission denied; skip it or fix its permissions"
        ) from exc
    except FileNotFoundError as exc:
        raise NotFound(f"{display!r} does not exist; use list_files to see what is there") from exc
    except OSError as exc:
        raise AccessDenied(f"{display!r} cannot be opened ({exc.strerror}); skip it") from exc
    return fd


def read_bytes(path: Path | str, display: str, limit: int) -> bytes:
    """Read a resolved file once, refusing oversize files before and after opening."""
    return cast(bytes, _read(path, display, limit, None))  # no `keep`: always read


def read_small(path: Path | str, display: str, limit: int, keep: int) -> bytes | None:
    """read_bytes for a file of at most `keep` bytes; a bigger one is not read but its reading
    begins in the kernel (readahead), and None says the caller reads it (tools/files/disk_readers.py)."""
    return _read(path, display, limit, keep)


def _read(path: Path | str, display: str, limit: int, keep: int | None) -> bytes | None:
    with open(open_checked(path, display), "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidArgument(
                f"{display!r} is not a regular file (a pipe, socket or device); forage reads regular files only"
            )
        os.set_blocking(fh.fileno(), True)
        check_size(display, info.st_size, limit)
        if keep is not None and info.st_size > keep:
            if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the caller's read is simply cold
                os.posix_fadvise(fh.fileno(), 0, info.st_size, os.POSIX_FADV_WILLNEED)
            return None
        # Ask for what fstat saw (+1), not for the limit: a buffer of the limit per small file
        # is a 2 MB allocation each time, 100k of them for a big folder. A file that grew since
        # is read on, up to the limit.
        want = info.st_size + 1
        data = fh.read(want)
        if len(data) == want:
            data += fh.read(limit + 1 - want)
    check_size(display, len(data), limit)
    return data


def check_size(display: str, size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(
            f"{display!r} is {human(size)}, over this server's {human(limit)} file limit; use search_files "
            "to find the lines you need, or restart the server with a larger --max-file-bytes"
        )


def load_text(path: Path, display: str, limit: int) -> tuple[str, str]:
    """Read and decode a text file; raise BinaryContent (with the reason) for anything else."""
    data = read_bytes(path, display, limit)
    found = sniff(data[:SNIFF_BYTES])
    refuse_non_text(display, path, found)
    return decode(data, found)


def refuse_non_text(display: str, path: Path, found: Sniff) -> None:
    if found.kind == "pdf":
        raise BinaryContent(f"{display!r} is a PDF; read it with read_pdf (path {str(path)!r})")
    if found.kind == "binary":
        raise BinaryContent(f"{display!r} is binary ({found.reason}); it holds no text to read")


def is_pdf_name(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"


def human(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def positive(name: str, value: int, upper: int | None = None) -> int:
    if value < 1:
        raise InvalidArgument(f"{name}={value} must be at least 1")
    if upper is not None and value > upper:
        raise InvalidArgument(f"{name}={value} is over the maximum of {upper}; use a smaller value")
    return value


def skipped_lines(skipped: list[dict[str, str]]) -> list[str]:
    if not skipped:
        return []
    shown = [
        f"  {s['path']}: {s['reason']}" + (f" ({s['detail']})" if s.get("detail") else "") for s in skipped
    ]
    more = len(shown) - _SHOW_SKIPPED
    return [f"Skipped {len(skipped)}:", *shown[:_SHOW_SKIPPED]] + (
        [f"  … and {more} more"] if more > 0 else []
    )
