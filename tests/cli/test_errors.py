"""Errors become one red line and one exit code, by one table, on every command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer

from agent.errors import AgentError, ConfigError, ModelError
from cli.errors import (
    EXIT_CODES,
    EXIT_CRASH,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXIT_USER,
    exit_code,
    map_errors,
    reported,
)
from tests.cli.test_cli import EXAMPLE, forage


def test_the_table_gives_an_agent_error_and_its_subclasses_the_user_exit_code() -> None:
    assert exit_code(AgentError("x")) == EXIT_USER
    assert exit_code(ConfigError("x")) == EXIT_USER
    assert exit_code(ValueError("x")) is None
    assert exit_code(ValueError("x"), {**EXIT_CODES, ValueError: EXIT_USAGE}) == EXIT_USAGE


def test_map_errors_prints_the_message_and_exits_with_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught, map_errors():
        raise ModelError("No Gemini API key: set GEMINI_API_KEY [or not]")
    assert caught.value.exit_code == EXIT_USER
    assert capsys.readouterr().err == "error: No Gemini API key: set GEMINI_API_KEY [or not]\n"

    with pytest.raises(typer.Exit) as caught, map_errors({ValueError: EXIT_USAGE}):
        raise ValueError("not a size")
    assert caught.value.exit_code == EXIT_USAGE


def test_map_errors_lets_errors_it_does_not_list_through() -> None:
    with pytest.raises(KeyError), map_errors():
        raise KeyError("a bug stays a traceback")
    with pytest.raises(KeyboardInterrupt), map_errors():
        raise KeyboardInterrupt  # main() says "Interrupted." when the command has nothing to add


def test_ctrl_c_says_what_was_kept_and_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught, map_errors(interrupted="Interrupted. Nothing was written."):
        raise KeyboardInterrupt
    assert caught.value.exit_code == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "Interrupted. Nothing was written.\n"


def test_reported_shows_the_error_and_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    with reported():
        raise AgentError("no source 'x' in this session")
    assert capsys.readouterr().err == "error: no source 'x' in this session\n"


def test_reported_turns_a_bug_into_one_line_and_a_log_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORAGE_DEBUG", "0")  # restored after the test: --debug sets it
    with reported():
        raise KeyError("not in the table")
    err = capsys.readouterr().err
    assert err.startswith("error: an unexpected error (KeyError: 'not in the table')\n")
    assert "Traceback" not in err
    logs = list((tmp_path / "data" / "logs").glob("crash-*.log"))
    assert len(logs) == 1, err
    log = logs[0]
    assert str(log) in err and 'raise KeyError("not in the table")' in log.read_text()
    with pytest.raises(typer.Exit), reported():
        raise typer.Exit(0)  # ending a chat on purpose is not an error


def test_reported_prints_the_traceback_under_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORAGE_DEBUG", "1")
    with reported():
        raise KeyError("not in the table")
    assert "Traceback" in capsys.readouterr().err
    assert not (tmp_path / "data" / "logs").exists()


def _crashing_main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """Run cli.app.main with a command that has a bug; return its exit code."""
    from cli import app as cli_app

    def boom() -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli_app.app, "registered_commands", [*cli_app.app.registered_commands])
    cli_app.app.command("boom")(boom)
    monkeypatch.setattr(sys, "argv", ["forage", *argv])
    with pytest.raises(SystemExit) as caught:
        cli_app.main()
    return int(caught.value.code or 0)


def test_main_turns_a_bug_into_exit_70_one_line_and_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORAGE_DEBUG", "0")  # restored after the test: --debug sets it
    assert _crashing_main(monkeypatch, "boom") == EXIT_CRASH
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "error: an unexpected error (RuntimeError: kaboom)"
    assert "Traceback" not in err and "report" in lines[-1]
    (log,) = (tmp_path / "data" / "logs").glob("crash-*.log")
    assert str(log) in lines[1] and "RuntimeError: kaboom" in log.read_text()


def test_debug_flag_lets_the_traceback_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORAGE_DEBUG", "0")  # restored after the test: --debug sets it
    with pytest.raises(RuntimeError, match="kaboom"):
        _crashing_main(monkeypatch, "--debug", "boom")
    assert not (tmp_path / "data" / "logs").exists()


# Every command's error paths, run as a user runs them: the exit code and the whole message.
CASES = [
    (["ask", "q?", str(EXAMPLE), "--ladder", "maybe"], 2, "error: --ladder 'maybe': use on or off\n"),
    (["pack", str(EXAMPLE), "--format", "yaml"], 2,
     "error: --format 'yaml' is not supported; use markdown, xml or json\n"),
    (["pack", str(EXAMPLE), "--route", "fastest"], 1,
     "error: command-line flags: bad value for 'route' ('fastest'): Input should be 'auto', 'full', "
     "'select' or 'self'. Allowed: auto | full | select | self\n"),
    (["ask", "q?", str(EXAMPLE), "--model", "gemini-2.5-flash"], 1,
     "error: No Gemini API key: set GEMINI_API_KEY, or use --model extractive to work offline.\n"),
    (["models"], 1, "error: No Gemini API key: set GEMINI_API_KEY, or use --model extractive to work offline.\n"),
    (["index", str(EXAMPLE), "--embedding", "bogus"], 1, "error: command-line flags: bad value for 'embedding'"),
    (["sessions", "show", "nope"], 1, "error: no session 'nope'; forage sessions list shows them\n"),
    (["chat", str(EXAMPLE), "--route", "fastest"], 1, "error: command-line flags: bad value for 'route'"),
    (["chat"], 1, "error: name the sources to chat about, or --resume [ID] to continue a session\n"),
    (["chat", "--resume"], 1, "error: no saved session in "),
    (["servers", "trust", "nope"], 1, "error: no MCP server named 'nope' is configured (configured: none)\n"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("args", "code", "message"), CASES)
def test_every_command_fails_with_one_message_and_its_code(tmp_path, args, code, message) -> None:
    res = forage(*args, tmp_path=tmp_path)
    assert res.returncode == code, res.stderr
    assert message in res.stderr and res.stderr.count("error:") == 1 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_a_session_id_with_brackets_is_named_as_typed(tmp_path) -> None:
    res = forage("sessions", "rm", "nope[x]", tmp_path=tmp_path)
    assert res.returncode == 1
    assert res.stderr == "error: no session 'nope[x]'; forage sessions list shows them\n"


@pytest.mark.slow
def test_a_pack_that_cannot_be_written_says_so_after_packing(tmp_path) -> None:
    res = forage("pack", str(EXAMPLE), "-o", "nodir/x.md", tmp_path=tmp_path)
    assert res.returncode == 1
    assert res.stderr.endswith(
        "error: cannot write nodir/x.md: No such file or directory; choose another --output\n"
    )


def test_a_crash_under_a_broken_config_still_gets_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORAGE_DEBUG", "0")
    monkeypatch.setenv("FORAGE_ROUTE", "fastest")  # load_settings fails: the default data dir is used
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default logs: the cache folder's
    with reported():
        raise KeyError("x")
    assert str(tmp_path / "cache" / "forage" / "logs") in capsys.readouterr().err


# ---------------------------------------------------------------- a full or read-only disk


def test_a_full_or_read_only_data_dir_is_one_line_with_what_to_do(tmp_path, monkeypatch) -> None:
    import errno
    import sqlite3

    from cli.errors import storage_problem

    monkeypatch.setenv("FORAGE_DATA_DIR", str(tmp_path / "data"))
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "data" / "pending"))
    assert storage_problem(full) == (
        f"forage could not save its files: the data dir {tmp_path / 'data'} is full. "
        "Free some space there, or point FORAGE_DATA_DIR at another folder."
    )
    read_only = OSError(errno.EROFS, "Read-only file system", "/elsewhere/out.md")
    assert storage_problem(read_only) == (
        "forage could not save its files: the disk of /elsewhere/out.md is read-only. "
        "Make it writable, or point FORAGE_DATA_DIR at another folder."
    )
    db = sqlite3.OperationalError("database or disk is full")
    db.sqlite_errorname = "SQLITE_FULL"  # as sqlite3 sets it
    wrapped = RuntimeError("saving the session failed")
    wrapped.__cause__ = db
    assert "is full" in (storage_problem(wrapped) or "")
    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "data" / "sessions.sqlite"))
    assert "is not writable. Make it writable" in (storage_problem(denied) or "")
    assert storage_problem(PermissionError(errno.EACCES, "Permission denied", "/etc/shadow")) is None
    assert storage_problem(ValueError("a bug")) is None
