"""Bearer tokens for `forage mcp --transport http`: who may call a team server.

Tokens come from a file (--tokens-file: one per line, `name:token` or a bare token; `#` starts a
comment) or from FORAGE_MCP_TOKENS (the same entries, separated by commas or newlines). Each
token is a user: their MCP sessions, sources and last pack are theirs alone (sessions.py keys
them by the token's name). The MCP SDK does the HTTP side (401 with WWW-Authenticate, the session
bound to the user who opened it); this module only says whether a token is one of ours, comparing
digests in constant time. Tokens are never logged or echoed; an error names the line, not the token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from mcp.server.auth.provider import AccessToken

ENV_TOKENS = "FORAGE_MCP_TOKENS"
MIN_TOKEN_CHARS = 16  # `openssl rand -hex 32` gives 64; a short token is a guessable one
HOW_TO_MAKE = "make one with `openssl rand -hex 32`"


class TokenError(ValueError):
    """A tokens file or FORAGE_MCP_TOKENS entry that cannot be used (the message says which line)."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def parse_tokens(text: str, origin: str) -> dict[str, bytes]:
    """Name -> sha256 of the token, from `name:token` or bare-token entries (bare ones are named by line)."""
    users: dict[str, bytes] = {}
    for n, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, token = line.partition(":")
        name, token = (name.strip(), token.strip()) if sep else (f"user{n}", name)
        if not name or any(c.isspace() for c in name):
            raise TokenError(f"{origin}, entry {n}: a name before ':' must be one word (name:token)")
        if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
            raise TokenError(
                f"{origin}, entry {n}: a token needs at least {MIN_TOKEN_CHARS} characters and no spaces; "
                f"{HOW_TO_MAKE}"
            )
        if name in users:
            raise TokenError(f"{origin}, entry {n}: the name {name!r} is used twice")
        if any(hmac.compare_digest(_digest(token), d) for d in users.values()):
            raise TokenError(f"{origin}, entry {n}: the same token is given twice; give each user their own")
        users[name] = _digest(token)
    return users


def load_tokens(path: Path | None, env: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every token from the file and the environment; {} when neither gives one."""
    env = os.environ if env is None else env
    users: dict[str, bytes] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            mode = path.stat().st_mode
        except OSError as exc:
            raise TokenError(f"--tokens-file {path}: cannot be read ({exc.strerror})") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            sys.stderr.write(f"forage mcp: warning: {path} can be read by others; chmod 600 {path}\n")
        users |= parse_tokens(text, f"--tokens-file {path}")
    if env.get(ENV_TOKENS, "").strip():
        from_env = parse_tokens(env[ENV_TOKENS], ENV_TOKENS)
        clash = sorted(set(users) & set(from_env))
        if clash:
            raise TokenError(f"{ENV_TOKENS}: the name {clash[0]!r} is also in the tokens file")
        users |= from_env
    return users


class StaticTokens:
    """The MCP SDK's TokenVerifier over a fixed set of named tokens (each one grants `scopes`)."""

    def __init__(
        self, users: Mapping[str, bytes], resource: str | None = None, scopes: list[str] | None = None
    ) -> None:
        self.users = dict(users)
        self.resource = resource  # this server's URL, where OAuth has the SDK check tokens' audience
        self.scopes = list(scopes or [])

    async def verify_token(self, token: str) -> AccessToken | None:
        """The user a token belongs to, or None; every entry is compared, so timing tells nothing."""
        digest = _digest(token)
        found: str | None = None
        for name, known in self.users.items():
            if hmac.compare_digest(digest, known):
                found = name
        if found is None:
            return None
        return AccessToken(
            token=token, client_id=found, subject=found, scopes=self.scopes, resource=self.resource
        )
