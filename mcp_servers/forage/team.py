"""forage mcp over HTTP for more than one person: authentication, where it may bind, Host/Origin checks.

A team server (`forage mcp --transport http --host 0.0.0.0 --tokens-file FILE --chroma-url URL`)
reads files and fetches URLs for whoever calls it, so:
- without tokens it binds loopback addresses only, and says how to turn authentication on;
- with tokens (auth.py) or OAuth (oauth.py: the team's authorization server issues the tokens)
  every request needs `Authorization: Bearer <token>`: the MCP SDK answers 401 otherwise and
  binds each MCP session to the person who opened it;
- DNS-rebinding protection (the SDK's TransportSecuritySettings: Host and Origin allow-lists) is
  on for loopback, and on a team host for the names given with --public-host.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings

from mcp_servers.forage.auth import ENV_TOKENS, StaticTokens, TokenError, load_tokens
from mcp_servers.forage.oauth import ENV_SECRET, Introspection, check_url

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
        "--public-url", metavar="URL",
        help="this server's MCP endpoint as editors reach it, e.g. https://forage.team.example/mcp (OAuth needs it)",
    )  # fmt: skip
    parser.add_argument(
        "--oauth-issuer", metavar="URL", help="the OAuth authorization server that issues tokens"
    )
    parser.add_argument(
        "--oauth-introspect", metavar="URL", help="its token introspection endpoint (RFC 7662)"
    )  # fmt: skip
    parser.add_argument(
        "--oauth-client-id", metavar="ID", help=f"forage's client id for introspection; the secret: {ENV_SECRET}"
    )  # fmt: skip
    parser.add_argument(
        "--oauth-scope", action="append", default=[], metavar="SCOPE", help="a scope every token needs (repeatable)"
    )  # fmt: skip
    parser.add_argument(
        "--public-host", action="append", default=[], metavar="HOST[:PORT]",
        help="a name clients reach this server by; requests with another Host header are refused (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="a browser origin allowed to call this server, e.g. https://tools.example.com (repeatable)",
    )  # fmt: skip


HTTP_ONLY = ("tokens_file", "public_url", "oauth_issuer", "oauth_introspect", "public_host", "allow_origin")


def wants_http(args: argparse.Namespace) -> bool:
    """Whether flags that mean something only over HTTP were given."""
    return any(getattr(args, name, None) for name in HTTP_ONLY)


class AnyOf:
    """A TokenVerifier trying several: the static tokens (scripts, CI), then the authorization server."""

    def __init__(self, verifiers: list[StaticTokens | Introspection]) -> None:
        self.verifiers = verifiers

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self.verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


@dataclass
class HttpSetup:
    """What the MCP server is built and run with over HTTP."""

    verifier: AnyOf | None = None
    auth: AuthSettings | None = None
    security: TransportSecuritySettings | None = None
    users: list[str] = field(default_factory=list)


def refusal(host: str) -> str:
    """The one line `forage mcp` exits with when asked to serve beyond loopback without tokens."""
    return (
        f"refusing to serve {host} without authentication: anyone who reaches the port could read your files "
        f"through forage. Pass --tokens-file FILE (one token per line, or name:token) or set {ENV_TOKENS} "
        "(or use OAuth: --oauth-issuer, --oauth-introspect, --public-url), or bind 127.0.0.1"
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
    """Tokens, OAuth, auth settings and Host/Origin checks for `forage mcp --transport http`.

    Raises TokenError for bad tokens or OAuth flags, RefusedBind for a non-loopback bind without auth."""
    env = os.environ if env is None else env
    users = load_tokens(args.tokens_file, env)
    oauth = bool(args.oauth_issuer or args.oauth_introspect)
    if oauth and not (args.oauth_issuer and args.oauth_introspect and args.public_url):
        raise TokenError(
            "OAuth needs --oauth-issuer, --oauth-introspect and --public-url (this server's endpoint as "
            "editors reach it, e.g. https://forage.team.example/mcp)"
        )
    if not users and not oauth and not is_loopback(args.host):
        raise RefusedBind(refusal(args.host))
    public = list(args.public_host)
    if args.public_url:
        public.append(urlsplit(check_url(args.public_url, "--public-url")).netloc)
    setup = HttpSetup(security=transport_security(args.host, public, args.allow_origin), users=list(users))
    verifiers: list[StaticTokens | Introspection] = []
    if users:  # a static token grants every scope OAuth asks for
        verifiers.append(
            StaticTokens(users, resource=args.public_url if oauth else None, scopes=args.oauth_scope)
        )
    if oauth:
        check_url(args.oauth_issuer, "--oauth-issuer")
        secret = env.get(ENV_SECRET)
        verifiers.append(Introspection(args.oauth_introspect, args.public_url, args.oauth_client_id, secret))
    if verifiers:
        setup.verifier = AnyOf(verifiers)
        # Without OAuth the SDK still wants an issuer URL; it is served nowhere (no authorization
        # server provider, no resource metadata).
        setup.auth = AuthSettings(
            issuer_url=args.oauth_issuer or f"http://localhost:{args.port}",
            resource_server_url=args.public_url if oauth else None,
            validate_token_resource=True if oauth else None,
            required_scopes=args.oauth_scope or None,
        )
    return setup
