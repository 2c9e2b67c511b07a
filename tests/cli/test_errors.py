"""Errors become one red line and one exit code, by one table, on every command."""

from __future__ import annotations

import pytest
import typer

from agent.errors import AgentError, ConfigError, ModelError
from cli.errors import (
    EXIT_CODES,
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
    with pytest.raises(KeyError), reported():
        raise KeyError("not in the table")


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
