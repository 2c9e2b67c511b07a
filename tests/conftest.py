"""Fixtures shared across test folders: the local web site and the forbidden-address counter."""

from collections.abc import Iterator

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
