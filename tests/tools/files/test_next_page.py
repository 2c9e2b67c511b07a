"""tools.files.next_page: a call worked out ahead, handed over only for exactly its arguments."""

from __future__ import annotations

import threading

from tools.files.next_page import Ahead


def test_the_result_is_computed_in_another_thread_and_handed_over_once() -> None:
    ahead: Ahead[str] = Ahead()
    ahead.start(("page", 2), lambda: threading.current_thread().name)
    assert ahead.take(("page", 2)) == "forage-ahead"
    assert ahead.take(("page", 2)) is None  # given up once taken


def test_other_arguments_get_nothing_and_drop_the_page() -> None:
    ahead: Ahead[int] = Ahead()
    ahead.start(("page", 2), lambda: 2)
    assert ahead.take(("page", 3)) is None
    assert ahead.take(("page", 2)) is None


def test_a_newer_start_replaces_the_page_held() -> None:
    ahead: Ahead[int] = Ahead()
    ahead.start("a", lambda: 1)
    ahead.start("b", lambda: 2)
    assert ahead.take("a") is None
    ahead.start("b", lambda: 2)
    assert ahead.take("b") == 2


def test_a_take_waits_for_a_page_still_being_read() -> None:
    release = threading.Event()
    ahead: Ahead[str] = Ahead()

    def slow() -> str:
        release.wait(5)
        return "done"

    ahead.start("k", slow)
    threading.Timer(0.05, release.set).start()
    assert ahead.take("k") == "done"


def test_a_failure_or_a_stale_page_is_none_so_the_call_is_made_again() -> None:
    ahead: Ahead[int] = Ahead()

    def broken() -> int:
        raise OSError("disk gone")

    ahead.start("k", broken)
    assert ahead.take("k") is None
    stale: Ahead[int] = Ahead(ttl=0.0)
    stale.start("k", lambda: 1)
    threading.Event().wait(0.01)
    assert stale.take("k") is None
