"""The URL/address policy on its own: no sockets are opened here."""

from __future__ import annotations

import ipaddress

import pytest

from tools.errors import InvalidArgument, PolicyRefused
from tools.web.crawl import normalize_url, url_matches
from tools.web.netpolicy import NetPolicy, is_public, parse_ip_host

STRICT = NetPolicy.of()
LOCAL = NetPolicy.of(["127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,<h1>x</h1>",
        "ftp://example.org/file",
        "gopher://example.org/",
        "javascript:alert(1)",
        "example.org/no-scheme",
    ],
)
def test_only_http_and_https_schemes(url: str) -> None:
    with pytest.raises(PolicyRefused, match="only http:// and https://"):
        STRICT.check_url(url)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.2",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.1.1",
        "0.0.0.0",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::]",
        "localhost",
        "app.localhost",
        # The same loopback address spelled the ways resolvers and browsers accept.
        "2130706433",
        "017700000001",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.1",
        "127.0.0.1.",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",  # NAT64
        "[2002:7f00:1::]",  # 6to4
    ],
)
def test_private_loopback_and_link_local_refused_in_any_spelling(host: str) -> None:
    with pytest.raises(PolicyRefused, match="--allow-host|loopback|non-public"):
        STRICT.check_url(f"http://{host}:8080/x")


@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "[fd00:ec2::254]", "metadata.google.internal", "100.100.100.200", "[::ffff:169.254.169.254]",
     "0xa9fea9fe", "2852039166"],
)  # fmt: skip
def test_metadata_refused_even_when_private_ranges_are_allowed(host: str) -> None:
    generous = NetPolicy.of(["169.254.0.0/16", "fd00::/8", "169.254.169.254", "100.64.0.0/10", "::ffff:0:0/96",
                             "metadata.google.internal"])  # fmt: skip
    with pytest.raises(PolicyRefused, match="metadata"):
        generous.check_url(f"http://{host}/latest/meta-data/")


def test_allow_hosts_opens_exactly_what_it_names() -> None:
    assert LOCAL.check_url("http://127.0.0.1:9/x") == "127.0.0.1"
    LOCAL.check_url("http://[::ffff:127.0.0.1]/")  # the same address, IPv4-mapped
    with pytest.raises(PolicyRefused):
        LOCAL.check_url("http://127.0.0.2/")
    nets = NetPolicy.of(["10.0.0.0/8", "Docs.Internal"])
    nets.check_url("http://10.1.2.3/")
    nets.check_url("http://docs.internal./page")
    with pytest.raises(PolicyRefused):
        nets.check_url("http://192.168.0.1/")


def test_public_addresses_pass() -> None:
    STRICT.check_url("https://93.184.215.14/")
    STRICT.check_url("https://[2606:4700::1111]/")
    STRICT.check_url("https://docs.python.org/3/")


@pytest.mark.parametrize("url", ["", "http://", "http://exa mple.org:port/"])
def test_malformed_urls_are_invalid(url: str) -> None:
    with pytest.raises(InvalidArgument):
        STRICT.check_url(url)


def test_parse_ip_host_reads_numeric_forms() -> None:
    loop = ipaddress.ip_address("127.0.0.1")
    for form in ("2130706433", "0x7f000001", "017700000001", "0x7f.1", "127.1", "127.0.0.1."):
        assert parse_ip_host(form) == loop, form
    assert parse_ip_host("docs.example.org") is None
    assert parse_ip_host("1.2.3.4.5") is None
    assert not is_public(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert is_public(ipaddress.ip_address("8.8.8.8"))


async def test_every_dns_answer_is_checked() -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.2"]  # one public answer does not excuse a private one

    policy = NetPolicy.of(["127.0.0.1"], resolver=rebinding)
    with pytest.raises(PolicyRefused, match="127.0.0.2"):
        await policy.resolve("rebind.example", 80)

    async def metadata(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    with pytest.raises(PolicyRefused, match="metadata"):
        await NetPolicy.of(["meta.example"], resolver=metadata).resolve("meta.example", 80)


def test_crawl_url_helpers() -> None:
    assert normalize_url("HTTP://Example.org:80/a#frag") == "http://example.org/a"
    assert normalize_url("https://example.org") == "https://example.org/"
    assert url_matches("https://x.org/docs/a.html", ["/docs/*"], [])
    assert not url_matches("https://x.org/blog/a.html", ["/docs/*"], [])
    assert not url_matches("https://x.org/docs/old/a.html", ["/docs/*"], ["*/old/*"])
    assert url_matches("https://x.org/guide/a", ["*://*/guide/*"], [])
