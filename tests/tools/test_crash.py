"""An unexpected error, for a user: one line in their terms, the traceback in a bounded log that never fails."""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from tools import crash
from tools.crash import crash_report, describe, save_traceback


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - a traceback to describe
        return caught


def test_each_family_is_named_in_the_users_terms() -> None:
    assert describe(OSError(errno.ENOSPC, "No space left on device", "/d/x")).startswith(
        "the disk is full (/d/x): "
    )
    assert describe(OSError(errno.EROFS, "Read-only file system")).startswith("the file system is read-only")
    assert describe(PermissionError(errno.EACCES, "Permission denied")).startswith("permission was denied")
    assert describe(sqlite3.DatabaseError("file is not a database")).startswith("a local database")
    assert describe(httpx.ConnectError("refused")).startswith("a network connection failed")
    assert describe(httpx.ReadTimeout("slow")).startswith("a network request timed out")
    assert describe(KeyError("x")) == "an unexpected error (KeyError: 'x')"


def test_a_validation_error_inside_google_genai_is_an_unreadable_api_reply() -> None:
    from google.genai import types

    try:  # what the SDK raises on a functionCall part whose thoughtSignature is not base64
        types.Part.model_validate({"thoughtSignature": "not base64!!", "functionCall": {"name": "x"}})
    except Exception as exc:  # noqa: BLE001
        inside = exc
    else:
        pytest.skip("this google-genai accepts the signature")

    class Mine(BaseModel):
        n: int

    try:
        Mine.model_validate({"n": "x"})
    except Exception as exc:  # noqa: BLE001
        outside = exc
    # Part.model_validate runs in pydantic, not in google/genai frames: only the SDK's own
    # parsing counts, so check the words of the generic family here and the SDK path end to end.
    assert describe(outside).startswith("forage could not read a reply or a saved file")
    assert "ValidationError" in describe(inside)


def test_json_errors_count_as_api_replies_only_when_raised_inside_the_sdk() -> None:
    exc = _raised(json.JSONDecodeError("Expecting value", "x", 0))
    assert describe(exc).startswith("an unexpected error (JSONDecodeError")


def test_the_log_holds_the_traceback_and_the_logs_stay_bounded(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for i in range(7):
        saved = save_traceback(_raised(RuntimeError(f"bug {i}")), logs, keep=5)
        assert saved.path is not None and saved.problem is None
    kept = sorted(logs.glob("crash-*.log"))
    assert len(kept) == 5
    assert "RuntimeError: bug 6" in kept[-1].read_text() and "RuntimeError: bug 2" in kept[0].read_text()


def test_a_huge_traceback_is_capped_keeping_its_start_and_its_end(tmp_path: Path) -> None:
    saved = save_traceback(_raised(RuntimeError("head " + "x" * 50_000 + " tail")), tmp_path, cap=4096)
    assert saved.path is not None
    text = saved.path.read_text()
    assert len(text.encode()) < 4200 and "bytes cut" in text
    assert text.startswith("forage crash log") and text.rstrip().endswith("tail")


def test_a_logs_dir_that_cannot_be_written_falls_back_to_the_temp_dir_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.write_text(
        "a file where the data dir should be"
    )  # mkdir fails, as on a read-only disk (even as root)
    monkeypatch.setattr(crash.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    lines = crash_report(_raised(RuntimeError("bug")), data / "logs")
    assert lines[0] == "an unexpected error (RuntimeError: bug)"
    assert lines[1].startswith(f"the log could not be written to {data / 'logs'}")
    assert f"{tmp_path / 'tmp' / 'forage-logs'}" in lines[2]


def test_when_no_log_can_be_written_the_message_still_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    monkeypatch.setattr(crash.tempfile, "gettempdir", lambda: str(blocked))
    lines = crash_report(_raised(RuntimeError("bug")), blocked / "logs")
    assert lines[0] == "an unexpected error (RuntimeError: bug)"
    assert "could not be written" in lines[1] and "--debug" in lines[2]


def test_pydantic_details_stop_before_the_echoed_input() -> None:
    class Part(BaseModel):
        n: int

    try:
        Part.model_validate({"n": "secret-ish input " * 20})
    except Exception as exc:  # noqa: BLE001
        said = describe(exc)
    assert "validation error for Part" in said and "[type=" not in said and "secret-ish" not in said


def test_an_error_whose_text_fails_is_still_described() -> None:
    class Odd(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    assert describe(Odd()) == "an unexpected error (Odd: Odd)"
