"""OAuth for a team server: forage as an OAuth 2.1 resource server, as the MCP authorization spec has it.

The team's authorization server (Keycloak, Auth0, Entra ID, ...) issues the tokens and logs people
in; forage serves no login pages. The MCP SDK publishes the protected-resource metadata (RFC 9728,
/.well-known/oauth-protected-resource/mcp) naming that server, so an editor that speaks MCP OAuth
finds it from the 401 and runs the flow itself. forage checks each token with the authorization
server's introspection endpoint (RFC 7662): active, unexpired, issued for this server (`aud` is
--public-url; the SDK compares it), with the required scopes (the SDK checks them). The person is
the token's subject. Tokens are never logged; a failed introspection is one warning without them.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp.server.auth.provider import AccessToken

from mcp_servers.forage.auth import TokenError

log = logging.getLogger(__name__)
ENV_SECRET = "FORAGE_OAUTH_CLIENT_SECRET"
TIMEOUT_S = 10.0


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def check_url(url: str, flag: str) -> str:
    """An https URL (http only to this machine): tokens and client secrets travel to it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TokenError(f"{flag} {url!r} is not a URL; give https://host/path")
    if parts.scheme == "http" and not _loopback(url):
        raise TokenError(f"{flag} {url!r} must use https (http only for 127.0.0.1 or localhost)")
    return url


class Introspection:
    """The MCP SDK's TokenVerifier, asking the authorization server about each token (RFC 7662)."""

    def __init__(
        self, endpoint: str, resource: str, client_id: str | None, client_secret: str | None
    ) -> None:
        self.endpoint = check_url(endpoint, "--oauth-introspect")
        self.resource = resource
        self.auth = (client_id, client_secret or "") if client_id else None

    async def _ask(self, token: str) -> dict[str, Any] | None:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
                reply = await client.post(self.endpoint, data={"token": token}, auth=self.auth)
        except httpx.HTTPError as exc:
            log.warning("token introspection at %s failed: %s", self.endpoint, type(exc).__name__)
            return None
        if reply.status_code != 200:
            log.warning("token introspection at %s answered HTTP %d", self.endpoint, reply.status_code)
            return None
        try:
            data = reply.json()
        except ValueError:
            log.warning("token introspection at %s did not answer JSON", self.endpoint)
            return None
        return data if isinstance(data, dict) else None

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's person, scopes and audience when the authorization server calls it active."""
        data = await self._ask(token)
        if not data or data.get("active") is not True:
            return None
        subject = data.get("sub") or data.get("username")
        if not isinstance(subject, str) or not subject:
            return None  # no person to keep sessions apart by
        aud = data.get("aud")
        audiences = [str(a) for a in (aud if isinstance(aud, list) else [aud] if aud else [])]
        mine = [a for a in audiences if a.rstrip("/") == self.resource.rstrip("/")]
        exp = data.get("exp")
        return AccessToken(
            token=token,
            client_id=str(data.get("client_id") or "oauth"),
            subject=subject,
            scopes=str(data.get("scope") or "").split(),
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            resource=mine[0] if mine else (audiences[0] if audiences else None),
            claims={"iss": data["iss"]} if isinstance(data.get("iss"), str) else None,
        )
