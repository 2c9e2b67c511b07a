"""forage mcp over HTTP for more than one person: authentication, where it may bind, Host/Origin checks.

A team server (`forage mcp --transport http --host 0.0.0.0 --tokens-file FILE --chroma-url URL`)
reads files and fetches URLs for whoever calls it, so:
- without tokens it binds loopback addresses only, and says how to turn authentication on;
- with tokens (auth.py) every request needs `Authorization: Bearer <token>`: the MCP SDK answers
  401 otherwise and binds each MCP session to the user who opened it;
- DNS-rebinding protection (the SDK's TransportSecuritySettings: Host and Origin allow-lists) is
  on for loopback, and on a team host for the names given with --public-host.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings

from mcp_servers.forage.auth import ENV_TOKENS, StaticTokens, load_tokens

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


class RefusedBind(ValueError):
    """Serving a non-loopback address without authentication."""


def is_loopback(host: str) -> bool:
    """Whether a bind address reaches this machine only (a name other than localhost does not count)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The team-server flags of `forage mcp` (they matter with --transport http)."""
    parser.add_argument(
        "--tokens-file", type=Path, metavar="FILE",
        help=f"bearer tokens clients must send, one per line (name:token or a bare token); also {ENV_TOKENS}",
    )  # fmt: skip
    parser.add_argument(
        "--public-host", action="append", default=[], metavar="HOST[:PORT]",
        help="a name clients reach this server by; requests with another Host header are refused (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="a browser origin allowed to call this server, e.g. https://tools.example.com (repeatable)",
    )  # fmt: skip


@dataclass
class HttpSetup:
    """What the MCP server is built and run with over HTTP."""

    verifier: StaticTokens | None = None
    auth: AuthSettings | None = None
    security: TransportSecuritySettings | None = None
    users: list[str] = field(default_factory=list)


def refusal(host: str) -> str:
    """The one line `forage mcp` exits with when asked to serve beyond loopback without tokens."""
    return (
        f"refusing to serve {host} without authentication: anyone who reaches the port could read your files "
        f"through forage. Pass --tokens-file FILE (one token per line, or name:token) or set {ENV_TOKENS}, "
        "or bind 127.0.0.1"
    )


def _host_patterns(public: list[str]) -> tuple[list[str], list[str]]:
    """Host and Origin patterns for names like team.example.com or 10.0.0.5:8765 (the SDK's `:*` is any port)."""
    hosts: list[str] = []
    origins: list[str] = []
    for name in public:
        with_port = urlsplit(f"//{name}").port is not None
        any_port = [] if with_port else [":*"]
        hosts += [name + p for p in ["", *any_port]]
        origins += [f"{scheme}://{name}{p}" for scheme in ("http", "https") for p in ["", *any_port]]
    return hosts, origins


def transport_security(host: str, public: list[str], origins: list[str]) -> TransportSecuritySettings | None:
    """Host/Origin allow-lists: loopback names on loopback, plus the --public-host names; None (off) on a
    wildcard bind no name was given for, where the bearer tokens are the protection."""
    hosts, public_origins = _host_patterns(public)
    if is_loopback(host):
        hosts, public_origins = LOOPBACK_HOSTS + hosts, LOOPBACK_ORIGINS + public_origins
    elif host not in ("0.0.0.0", "::", ""):
        own, own_origins = _host_patterns([f"[{host}]" if ":" in host else host])
        hosts, public_origins = own + hosts, own_origins + public_origins
    if not hosts:
        return None
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=public_origins + origins
    )


def http_setup(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> HttpSetup:
    """Tokens, auth settings and Host/Origin checks for `forage mcp --transport http`.

    Raises TokenError for a bad tokens file and RefusedBind for a non-loopback bind without tokens."""
    users = load_tokens(args.tokens_file, env)
    if not users and not is_loopback(args.host):
        raise RefusedBind(refusal(args.host))
    setup = HttpSetup(
        security=transport_security(args.host, args.public_host, args.allow_origin), users=list(users)
    )
    if users:
        setup.verifier = StaticTokens(users)
        # The SDK wants an issuer URL even for a server that checks its own tokens; it is served
        # nowhere (no OAuth routes without an authorization server provider).
        setup.auth = AuthSettings(issuer_url=f"http://localhost:{args.port}", resource_server_url=None)
    return setup
