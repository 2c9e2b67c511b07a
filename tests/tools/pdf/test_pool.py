"""tools.pdf.pool: the worker pool's deadline, memory limit, crash recovery and content-hash cache."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests import pdffixtures
from tools.errors import DamagedDocument, EncryptedDocument
from tools.pdf.limits import PdfLimits
from tools.pdf.pool import PdfPool


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdffixtures.corpus(tmp_path_factory.getbasetemp() / "pdf-corpus")


def _ok(pool: PdfPool, corpus: dict[str, Path]) -> None:
    """The pool still serves a normal file."""
    read = pool.read(name="paper.pdf", path=corpus["paper"], pages="2")
    assert "learning rate was 3e-4" in read.pages[0].text


def test_rereads_come_from_memory_then_from_the_disk_cache(corpus: dict[str, Path], tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with PdfPool(PdfLimits(workers=1), cache_dir=cache_dir) as pool:
        first = pool.read(name="long.pdf", path=corpus["long"])
        again = pool.read(name="long.pdf", path=corpus["long"])
        same_bytes = pool.read(name="copy.pdf", data=corpus["long"].read_bytes(), pages="2-3")
    assert not first.from_cache and again.from_cache and same_bytes.from_cache
    assert [p.text for p in again.pages] == [p.text for p in first.pages]
    assert [p.number for p in same_bytes.pages] == [2, 3]
    assert (cache_dir / f"{first.sha}.json").exists()
    with PdfPool(PdfLimits(workers=1), cache_dir=cache_dir) as fresh:
        reloaded = fresh.read(name="long.pdf", path=corpus["long"])
    assert reloaded.from_cache and [p.text for p in reloaded.pages] == [p.text for p in first.pages]


def test_char_budget_reads_only_what_is_needed(corpus: dict[str, Path]) -> None:
    with PdfPool(PdfLimits(workers=1)) as pool:
        head = pool.read(name="many.pdf", path=corpus["many"], char_budget=500)
        assert not head.complete and 5 < len(head.pages) < 50
        more = pool.read(name="many.pdf", path=corpus["many"], char_budget=1000)
        assert len(more.pages) > len(head.pages) and more.pages[: len(head.pages)] == head.pages


def test_deadline_kills_only_that_worker_and_the_next_call_moves_on(corpus: dict[str, Path]) -> None:
    with PdfPool(PdfLimits(workers=1, deadline=1.0)) as pool:
        before = pool.worker_pids()
        read = pool.read(name="flood.pdf", path=corpus["flood"])
        assert read.stopped and "1 s deadline on page 1" in read.stopped
        assert read.pages[0].status == "unreadable"
        assert pool.replaced == 1 and pool.worker_pids() != before
        again = pool.read(name="flood.pdf", path=corpus["flood"])  # the stuck page is remembered
        assert again.from_cache and again.pages[0].status == "unreadable"
        _ok(pool, corpus)


def test_memory_limit_ends_the_worker_not_the_pool(corpus: dict[str, Path]) -> None:
    with PdfPool(PdfLimits(workers=1, memory_mb=150, deadline=30)) as pool:
        read = pool.read(name="flood.pdf", path=corpus["flood"])
        assert read.pages[0].status == "unreadable"
        assert "150 MB memory limit" in (read.pages[0].note or "")
        assert pool.replaced == 1
        _ok(pool, corpus)


def test_a_worker_killed_from_outside_is_replaced(corpus: dict[str, Path]) -> None:
    with PdfPool(PdfLimits(workers=1)) as pool:
        _ok(pool, corpus)
        os.kill(pool.worker_pids()[0], signal.SIGKILL)
        read = pool.read(name="long.pdf", path=corpus["long"], pages="1")
        assert read.pages[0].status == "text"


def test_decrypted_text_is_only_served_with_a_password_and_never_written(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    with PdfPool(PdfLimits(workers=1), cache_dir=tmp_path) as pool:
        read = pool.read(name="aes256.pdf", path=corpus["aes256"], password="s3cret")
        assert "4417" in read.pages[0].text and read.encryption == "AES-256"
        with pytest.raises(EncryptedDocument, match="needs a password"):
            pool.read(name="aes256.pdf", path=corpus["aes256"])
        with pytest.raises(EncryptedDocument, match="wrong"):
            pool.read(name="aes256.pdf", path=corpus["aes256"], password="guess")
        assert pool.read(name="aes256.pdf", path=corpus["aes256"], password="s3cret").from_cache
    assert not list(tmp_path.glob("*.json"))


def test_errors_cross_the_process_boundary_as_tool_errors(corpus: dict[str, Path]) -> None:
    with PdfPool(PdfLimits(workers=1)) as pool:
        with pytest.raises(DamagedDocument, match="no PDF header"):
            pool.read(name="noise.pdf", path=corpus["noise"])
        with pytest.raises(DamagedDocument, match="no pages"):
            pool.info(name="zero.pdf", path=corpus["zero"]) and pool.read(
                name="zero.pdf", path=corpus["zero"]
            )
        _ok(pool, corpus)
