"""The --chroma-url path against a real `chroma run` server on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.retrieval.indexing import build_index
from agent.retrieval.select import select
from agent.settings import Settings
from tests.agent.retrieval.test_select import HashEmbedder, _haystack
from tools.tokens import estimate_tokens

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_index_and_select_through_a_chroma_server(tmp_path: Path, chroma_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url)
    docs = _haystack()
    emb = HashEmbedder()
    stats = build_index(docs, settings, embedder=emb)
    assert stats.store == chroma_url and stats.added == stats.chunks > 0
    assert not (tmp_path / "data" / "index").exists()  # nothing embedded locally
    again = build_index(docs, settings, embedder=emb)
    assert (again.embedded, again.added) == (0, 0)
    sel = select(
        docs,
        "vault combination for Marta Kowalski",
        300,
        settings=settings,
        count_tokens=estimate_tokens,
        embedder=emb,
    )
    assert "4417" in "".join(d.text for d in sel.documents) and sel.kept_tokens <= 300
