"""Fixtures shared across test folders: the local web site and the forbidden-address counter."""

from collections.abc import Iterator

# stdio_client's errlog defaults to sys.stderr as it was when mcp.client.stdio was first
# imported. Import it now, under pytest's own capture, so a test that first imports it while
# typer's CliRunner has swapped sys.stderr for a stream without a file descriptor does not
# leave every later stdio client failing with io.UnsupportedOperation.
import mcp.client.stdio  # noqa: F401
import pytest

from tests.webfixtures import HitCounter, SiteServer


@pytest.fixture(scope="module")
def counter() -> Iterator[HitCounter]:
    """A listener on 127.0.0.2 (never allowed) that counts connections: it must stay at zero."""
    with HitCounter() as hc:
        yield hc


@pytest.fixture(scope="module")
def site(counter: HitCounter) -> Iterator[SiteServer]:
    """The local test site on 127.0.0.1; its forbidden redirects point at the counter."""
    with SiteServer(counter.port) as server:
        yield server
