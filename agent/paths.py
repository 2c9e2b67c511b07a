"""Where forage keeps its files: the one place that names each location.

By platform convention (platformdirs): caches (the index, embeddings, screened secret verdicts,
git checkouts, model graphs, the background-embedding spool, server logs, the model list) go in
the cache folder (XDG_CACHE_HOME/forage on Linux); what a user would be upset to lose (chat
sessions, chat history, MCP server approvals) goes in the data folder (XDG_DATA_HOME/forage);
config is read from XDG_CONFIG_HOME/forage. A data_dir given explicitly (--data-dir,
FORAGE_DATA_DIR, config) holds everything, caches included, as it always did; cache_dir moves
only the caches.

Before this layout everything lived in ~/.cache/forage. The first run that uses the default
folders moves the sessions, chat history and approvals found there to the data folder, once,
under a lock (two processes starting together move nothing twice), and never over a file
already in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import platformdirs

APP = "forage"
OLD_LAYOUT = "~/.cache/forage"  # where everything lived before the platform conventions
SESSIONS_DB = "sessions.sqlite"
CHAT_HISTORY = "chat_history"
TRUST_FILE = "mcp-trust.json"
EMBEDDINGS = "embeddings.sqlite"  # in the cache folder, as are the next two
PENDING = "pending"  # the background-embedding spool
MODELS = "models"  # local embedding graphs
# What the old layout held that a user would miss; a SQLite file moves with its journal files.
_KEPT = ((SESSIONS_DB, "-wal", "-shm", "-journal"), (CHAT_HISTORY,), (TRUST_FILE,))


def default_data_dir() -> Path:
    """The platform's data folder for forage (XDG_DATA_HOME/forage on Linux)."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_cache_dir() -> Path:
    """The platform's cache folder for forage (XDG_CACHE_HOME/forage on Linux)."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def config_file(env: Mapping[str, str]) -> Path:
    """The user config: XDG_CONFIG_HOME/forage/config.toml, read from `env` (platformdirs' rule on Linux).

    Elsewhere the platform's own config folder wins when it holds a config.toml; the XDG path is
    still read, since forage read only that one before."""
    base = (
        Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path(env.get("HOME", "~")) / ".config"
    )
    xdg = base.expanduser() / APP / "config.toml"
    if not sys.platform.startswith("linux"):
        native = Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml"
        if native.is_file():
            return native
    return xdg


@dataclass(frozen=True)
class Places:
    """Every file and folder forage writes, by what it is."""

    data: Path  # what a user would miss
    cache: Path  # what can be rebuilt

    @property
    def sessions_db(self) -> Path:
        return self.data / SESSIONS_DB

    @property
    def chat_history(self) -> Path:
        return self.data / CHAT_HISTORY

    @property
    def trust(self) -> Path:
        """The folder of the MCP approvals file (agent/mcp/trust.py names the file)."""
        return self.data

    @property
    def index(self) -> Path:
        return self.cache / "index"

    @property
    def embeddings(self) -> Path:
        return self.cache / EMBEDDINGS

    @property
    def git(self) -> Path:
        return self.cache / "git"

    @property
    def logs(self) -> Path:
        return self.cache / "logs"


class _Dirs(Protocol):
    """What places() reads of agent.settings.Settings (which imports this module)."""

    data_dir: Path
    cache_dir: Path | None
    model_fields_set: set[str]


def places(settings: _Dirs) -> Places:
    """Where this run's files go: an explicit data_dir holds everything; else the platform folders."""
    explicit = "data_dir" in settings.model_fields_set
    cache = settings.cache_dir or (settings.data_dir if explicit else default_cache_dir())
    if not explicit:
        move_old_layout(Path(OLD_LAYOUT).expanduser(), settings.data_dir, cache)
    return Places(data=settings.data_dir, cache=cache)


_MOVED: set[tuple[Path, Path]] = set()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".move.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a second process waits, then finds nothing left to move
        yield
    finally:
        os.close(fd)


def move_old_layout(old: Path, data: Path, cache: Path) -> list[str]:
    """Move sessions, chat history and approvals from the old all-in-cache layout to `data`, once.

    Returns what moved (and prints one line saying so); what already exists in `data` is kept and
    the old copy left where it is, named in the line."""
    if (old, data) in _MOVED:
        return []
    _MOVED.add((old, data))
    with contextlib.suppress(OSError):
        if old.resolve() == data.resolve():
            return []
    if not any((old / group[0]).exists() for group in _KEPT):
        return []
    moved: list[str] = []
    kept: list[str] = []
    try:
        with _locked(data):
            for main, *suffixes in _KEPT:
                if not (old / main).exists():
                    continue
                if (data / main).exists():
                    kept.append(str(old / main))
                    continue
                for name in [main, *(main + s for s in suffixes)]:
                    if (old / name).exists():
                        shutil.move(old / name, data / name)  # a rename on one file system
                moved.append(main)
    except OSError as exc:  # nothing is lost: what did not move is still in the old folder
        sys.stderr.write(
            f"forage: could not move {old} to {data} ({exc.strerror or exc}); what was not moved stays in "
            f"{old}: move it by hand, or set FORAGE_DATA_DIR={old} to keep using it\n"
        )
    if moved:
        rest = "" if old.resolve() == cache.resolve() else f"; the caches left in {old} are no longer used"
        sys.stderr.write(
            f"forage: moved {', '.join(moved)} from {old} to {data} (data apart from caches){rest}\n"
        )
    if kept:
        sys.stderr.write(
            f"forage: left {', '.join(kept)} in place: {data} already has one; merge or delete it\n"
        )
    return moved
