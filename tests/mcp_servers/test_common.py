"""mcp_servers/common.guarded: a tool's ToolError is its message; any other error is one line and a log."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers import common
from tools.errors import InvalidArgument


@pytest.fixture
def crashes(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    before = (common.CRASHES.logs, common.CRASHES.debug)
    common.configure_crashes(logs, debug=False)
    yield logs
    common.configure_crashes(*before)


def test_a_tool_error_is_its_own_message(crashes: Path) -> None:
    @common.guarded
    def read_file() -> None:
        raise InvalidArgument("max_chars must be positive")

    res = read_file()
    assert res.is_error and res.content[0].text == "max_chars must be positive"
    assert not crashes.exists()


async def test_a_bug_is_one_line_a_log_and_the_same_line_on_stderr(
    crashes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    @common.guarded
    async def read_many() -> None:
        raise ZeroDivisionError("division by zero")

    res = await read_many()
    text = res.content[0].text
    (log,) = crashes.glob("crash-*.log")
    assert res.is_error and text.startswith("read_many failed: an unexpected error (ZeroDivisionError")
    assert str(log) in text and "Traceback" not in text
    assert "ZeroDivisionError" in log.read_text() and "raise ZeroDivisionError" in log.read_text()
    assert text.splitlines()[0] in capsys.readouterr().err
    assert res.structured_content == {
        "error": "ZeroDivisionError", "message": text.splitlines()[0].removeprefix("read_many failed: "),
        "internal": True,
    }  # fmt: skip


def test_debug_puts_the_traceback_in_the_result(crashes: Path) -> None:
    common.configure_crashes(crashes, debug=True)

    @common.guarded
    def fetch_page() -> None:
        raise KeyError("boom")

    text = fetch_page().content[0].text
    assert "Traceback (most recent call last)" in text and "KeyError: 'boom'" in text


def test_every_server_accepts_the_log_dir_and_debug_flags(tmp_path: Path) -> None:
    parser = common.transport_parser("x", "x")
    args = parser.parse_args(["--log-dir", str(tmp_path), "--debug"])
    assert args.log_dir == tmp_path and args.debug
