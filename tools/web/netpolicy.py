"""The network policy: which URLs and addresses forage may connect to, enforced at connect time.

Checking a URL's text is not enough (DNS can answer with 127.0.0.1, and ``0x7f.1`` is an
address too), so the policy is applied three times: to the URL before any I/O, to every DNS
answer, and at connect time by ``PinnedTransport``, which connects only to an address it has
just checked. There is no window between the check and the connection for a rebinding DNS
server to exploit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

from tools.errors import InvalidArgument, PolicyRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Iterable[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Cloud metadata endpoints: refused even when private hosts are allowed, because a readable
# metadata service hands out credentials.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "169.254.169.253",  # AWS VPC DNS
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IPv6
        "fd00:ec2::23",  # AWS IPv6 DNS
    )
)
METADATA_HOSTNAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_ip_host(host: str) -> IPAddress | None:
    """Read a URL host as an IP address the way resolvers do (octal, hex, integer, short forms)."""
    text = host.strip().rstrip(".").strip("[]")
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    # inet_aton accepts what getaddrinfo and browsers accept: "0x7f.1", "017700000001", "2130706433".
    if all(part and (part.isdigit() or part.lower().startswith("0x")) for part in text.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, compatible)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def is_metadata(ip: IPAddress) -> bool:
    """Tell whether an address is a cloud metadata endpoint (in any IPv6 wrapping too)."""
    inner = embedded_ipv4(ip)
    return ip in METADATA_ADDRESSES or (inner is not None and inner in METADATA_ADDRESSES)


def is_public(ip: IPAddress) -> bool:
    """Tell whether an address is globally routable unicast (not private, loopback, link-local...)."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(inner)
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


@dataclass(frozen=True)
class NetPolicy:
    """Which hosts may be reached. Private addresses need an explicit ``allow_hosts`` entry.

    ``allow_hosts`` holds host names (``docs.local``), addresses (``127.0.0.1``) or networks
    (``10.0.0.0/8``). Metadata endpoints are refused whatever it says.
    """

    allow_hosts: frozenset[str] = frozenset()
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=(), repr=False)
    # Tests inject a resolver to play a rebinding DNS server; production uses getaddrinfo.
    resolver: Resolver | None = field(default=None, repr=False)

    @classmethod
    def of(cls, allow_hosts: Iterable[str] = (), *, resolver: Resolver | None = None) -> NetPolicy:
        names: set[str] = set()
        nets = []
        for raw in allow_hosts:
            entry = raw.strip().lower().rstrip(".").strip("[]")
            if not entry:
                continue
            ip = parse_ip_host(entry)
            if ip is not None:
                nets.append(ipaddress.ip_network(ip))
                continue
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(nets), resolver)

    def _allowed(self, host: str, ip: IPAddress | None) -> bool:
        if host.lower().rstrip(".") in self.allow_hosts:
            return True
        if ip is None:
            return False
        candidates = [ip] + ([inner] if (inner := embedded_ipv4(ip)) is not None else [])
        return any(c.version == n.version and c in n for c in candidates for n in self._networks)

    def check_url(self, url: str) -> str:
        """Refuse a URL by scheme or literal host before any I/O; return the URL's host."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidArgument("url is empty; pass an http:// or https:// URL")
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            raise InvalidArgument(f"{url!r} is not a valid URL ({exc}); pass an http(s) URL") from exc
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            shown = f"{scheme}:" if scheme else "a URL without a scheme"
            raise PolicyRefused(f"{url!r} uses {shown}; only http:// and https:// URLs can be fetched")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise InvalidArgument(f"{url!r} has no host; pass a full URL such as https://example.org/")
        self.check_host(host)
        return host

    def check_host(self, host: str) -> None:
        """Refuse a host name or literal address that the policy forbids (no DNS lookup)."""
        lowered = host.lower().rstrip(".")
        if lowered in METADATA_HOSTNAMES:
            raise PolicyRefused(f"{host!r} is a cloud metadata host; it is never fetched")
        ip = parse_ip_host(lowered)
        if ip is None:
            if (lowered == "localhost" or lowered.endswith(".localhost")) and not self._allowed(
                lowered, None
            ):
                raise PolicyRefused(_private_message(host, "a loopback name"))
            return
        self.check_address(host, ip)

    def check_address(self, host: str, ip: IPAddress) -> None:
        """Refuse one address (a literal or a DNS answer for ``host``)."""
        if is_metadata(ip):
            raise PolicyRefused(f"{host!r} ({ip}) is a cloud metadata address; it is never fetched")
        if not is_public(ip) and not self._allowed(host, ip):
            raise PolicyRefused(_private_message(host, f"the non-public address {ip}"))

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve a host and check every answer; any forbidden answer refuses the host."""
        self.check_host(host)
        literal = parse_ip_host(host)
        if literal is not None:
            return [str(literal)]
        if self.resolver is not None:
            answers = list(await self.resolver(host, port))
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc.strerror}") from exc
            answers = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for answer in answers:
            self.check_address(host, ipaddress.ip_address(answer.split("%", 1)[0]))
        if not answers:
            raise httpcore.ConnectError(f"{host!r} has no addresses")
        return answers


def _private_message(host: str, what: str) -> str:
    return (
        f"{host!r} is {what}; private, loopback and link-local hosts are refused. "
        f"If you trust it, start the web server with --allow-host {host}"
    )


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every answer, then connect to a checked address (pinning)."""

    def __init__(self, policy: NetPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._policy.resolve(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, *args: typing.Any, **kwargs: typing.Any
    ) -> httpcore.AsyncNetworkStream:
        raise PolicyRefused("unix sockets are not reachable through the web policy")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


def _to_httpx(exc: Exception, request: httpx.Request) -> Exception:
    for core_type, httpx_type in _MAPPED:
        if isinstance(exc, core_type):
            return httpx_type(str(exc) or core_type.__name__, request=request)
    return exc


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: typing.AsyncIterable[bytes], request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise _to_httpx(exc, self._request) from exc

    async def aclose(self) -> None:
        if hasattr(self._inner, "aclose"):
            await self._inner.aclose()


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose every connection goes to an address the policy just checked.

    TLS still verifies the certificate against the URL's host name (httpcore sends the
    original host as SNI), so pinning changes where we connect, not whom we trust.
    """

    def __init__(self, policy: NetPolicy, *, max_connections: int = 32, verify: bool = True) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=15.0,
            network_backend=_CheckedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise _to_httpx(exc, request) from exc
        except (httpcore.UnsupportedProtocol, httpcore.ProxyError) as exc:
            raise _to_httpx(exc, request) from exc
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Stream(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
