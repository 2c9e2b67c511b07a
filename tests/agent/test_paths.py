"""Where forage keeps its files: platform folders by default, an explicit data_dir for everything."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent import paths
from agent.paths import move_old_layout, places
from agent.session.store import SessionStore
from agent.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's home in tmp, with the XDG variables of a Linux desktop pointing inside it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xcache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdata"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xconfig"))
    return tmp_path


def test_by_default_caches_and_data_go_to_their_platform_folders(home: Path) -> None:
    where = places(Settings())
    assert where.data == home / "xdata" / "forage"
    assert where.cache == home / "xcache" / "forage"
    assert where.sessions_db.parent == where.chat_history.parent == where.trust == where.data
    for cache in (where.index, where.embeddings, where.git, where.logs):
        assert cache.parent == where.cache


def test_an_explicit_data_dir_holds_everything(home: Path) -> None:
    for settings in (
        Settings(data_dir=home / "mine"),
        load_settings({"data_dir": home / "mine"}, env={"HOME": str(home)}, cwd=home),
        load_settings(env={"HOME": str(home), "FORAGE_DATA_DIR": str(home / "mine")}, cwd=home),
    ):
        where = places(settings)
        assert where.data == where.cache == home / "mine"
        assert where.index == home / "mine" / "index"
    # a copy with another data_dir (the eval runner's way) moves the caches with it
    moved = Settings().model_copy(update={"data_dir": home / "other"})
    assert places(moved).cache == home / "other"


def test_cache_dir_moves_only_the_caches(home: Path) -> None:
    where = places(load_settings(env={"HOME": str(home), "FORAGE_CACHE_DIR": str(home / "fast")}, cwd=home))
    assert where.cache == home / "fast"
    assert where.data == home / "xdata" / "forage"


def test_config_is_read_from_xdg_config_home(home: Path) -> None:
    config = home / "xconfig" / "forage" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("max_steps = 7\n")
    assert load_settings(env=dict(os.environ), cwd=home).max_steps == 7


def _old_layout(old: Path) -> None:
    old.mkdir(parents=True)
    store = SessionStore(old / "sessions.sqlite")
    store.touch("s1", ["docs/"])
    store.ask("s1", "where is the retry delay?")
    (old / "chat_history").write_text("+where is the retry delay?\n")
    (old / "mcp-trust.json").write_text("{}")
    (old / "index").mkdir()
    (old / "embeddings.sqlite").write_bytes(b"cache")


def test_the_old_layout_moves_once_and_sessions_survive(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    old = home / ".cache" / "forage"
    _old_layout(old)
    where = places(Settings())
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and f"from {old} to {where.data}" in err, err
    assert "sessions.sqlite, chat_history, mcp-trust.json" in err
    assert SessionStore(where.sessions_db).get("s1") is not None
    assert where.chat_history.read_text().startswith("+where")
    assert (where.trust / "mcp-trust.json").is_file()
    assert not (old / "sessions.sqlite").exists()
    assert (old / "index").is_dir() and (old / "embeddings.sqlite").is_file()  # caches are not data
    places(Settings())
    assert capfd.readouterr().err == ""  # once


def test_a_session_file_already_in_the_data_folder_is_never_overwritten(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    old = home / ".cache" / "forage"
    _old_layout(old)
    data = home / "xdata" / "forage"
    SessionStore(data / "sessions.sqlite").touch("newer", [])
    moved = move_old_layout(old, data, home / "xcache" / "forage")
    assert moved == ["chat_history", "mcp-trust.json"]
    assert SessionStore(data / "sessions.sqlite").get("newer") is not None
    assert SessionStore(old / "sessions.sqlite").get("s1") is not None  # left where it was
    assert f"left {old / 'sessions.sqlite'} in place" in capfd.readouterr().err


def test_a_data_folder_that_cannot_be_made_is_one_line_and_loses_nothing(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    old = home / ".cache" / "forage"
    _old_layout(old)
    (home / "blocked").write_text("a file where the data folder's parent should be")
    assert move_old_layout(old, home / "blocked" / "forage", home / "xcache") == []
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"forage: could not move {old}"), err
    assert SessionStore(old / "sessions.sqlite").get("s1") is not None


def test_an_explicit_data_dir_moves_nothing(home: Path) -> None:
    old = home / ".cache" / "forage"
    _old_layout(old)
    places(Settings(data_dir=home / "mine"))
    assert (old / "sessions.sqlite").is_file()


@pytest.mark.slow
def test_two_processes_starting_at_once_move_the_layout_once(home: Path) -> None:
    old = home / ".cache" / "forage"
    _old_layout(old)
    code = "from agent.paths import places; from agent.settings import Settings; places(Settings())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    assert sum(e.count("forage: moved") for e in errs) == 1, errs
    assert not any("forage: left" in e for e in errs), errs
    data = home / "xdata" / "forage"
    rows = sqlite3.connect(data / "sessions.sqlite").execute("SELECT id FROM forage_sessions").fetchall()
    assert rows == [("s1",)]
    assert sorted(p.name for p in old.iterdir()) == ["embeddings.sqlite", "index"]


def test_the_module_names_each_location_once() -> None:
    """No other module spells the names of the data files (one function names each location)."""
    names = (paths.SESSIONS_DB, paths.CHAT_HISTORY, paths.TRUST_FILE)
    offenders = [
        str(p.relative_to(ROOT))
        for top in ("agent", "cli", "mcp_servers")
        for p in (ROOT / top).rglob("*.py")
        if p.name != "paths.py" and any(f'"{n}"' in p.read_text(encoding="utf-8") for n in names)
    ]
    assert offenders == []


@pytest.mark.slow
def test_forage_sessions_finds_the_sessions_of_the_old_layout(tmp_path: Path) -> None:
    """As a user upgrading meets it: no XDG variables, no FORAGE_DATA_DIR, sessions in ~/.cache/forage."""
    _old_layout(tmp_path / ".cache" / "forage")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "XDG_", "GEMINI_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    run = [sys.executable, "-m", "cli.app", "sessions", "list"]
    first = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("s1\tdocs/\t1\t"), first.stdout
    data = tmp_path / ".local" / "share" / "forage"
    assert (
        f"moved sessions.sqlite, chat_history, mcp-trust.json from {tmp_path / '.cache' / 'forage'} to {data}"
        in (first.stderr)
    )
    again = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.stdout == first.stdout and "moved" not in again.stderr
