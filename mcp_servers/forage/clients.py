"""The MCP clients forage knows: how big one tool result may be in each, and how a key reaches forage there.

`forage mcp` reads `clientInfo` at initialize and sizes every reply to the calling client:
one reply (text and structured content, serialized) stays under `REPLY_SHARE` of the client's
limit; a bigger pack comes in pages. A limit a client does not document falls back to
`DEFAULT_CHARS`, the smallest limit we know. `reply_tokens`, when the user sets it, overrides
the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.settings import Settings

DEFAULT_CHARS = 40_000  # the smallest documented limit (gemini-cli's); for clients that document none
REPLY_SHARE = 0.9  # a reply uses at most this share of the client's limit: headroom for its own framing


@dataclass(frozen=True)
class Client:
    """One MCP client: what it calls itself, its limit on one tool result, how to pass it a key."""

    name: str
    ids: tuple[str, ...]  # lower-case pieces of the clientInfo.name it sends
    max_chars: int | None  # documented characters per tool result; None: it documents no limit
    limit: str  # what the client documents about the size of a tool result
    key_fix: str  # how a user passes GEMINI_API_KEY to forage in this client
    text_only: bool = False  # it gives its model the structured content instead of the text, when both come

    def reply_chars(self) -> int:
        """The most characters one reply of forage may take in this client."""
        return int((self.max_chars or DEFAULT_CHARS) * REPLY_SHARE)


_ENV_ENTRY = '"env": {"GEMINI_API_KEY": "<your key>"}'
# Most specific first: Cursor calls itself "cursor-vscode".
KNOWN: tuple[Client, ...] = (
    Client(
        "gemini-cli",
        ("gemini-cli",),
        40_000,
        "tools.truncateToolOutputThreshold, 40,000 characters by default: a longer result keeps its first "
        '8,000 and last 32,000 characters ("Output too large")',
        'add "env": {"GEMINI_API_KEY": "$GEMINI_API_KEY"} to forage\'s entry in .gemini/settings.json '
        "(gemini-cli drops variables named *KEY*, *TOKEN*, *SECRET* before it starts a server)",
    ),
    Client(
        "Claude Code",
        ("claude-code",),
        40_000,
        "MAX_MCP_OUTPUT_TOKENS, 25,000 tokens by default, and a warning above 10,000 tokens (~40,000 "
        "characters); a result over 50,000 characters is saved to a file and the model sees a preview",
        "claude mcp add forage -e GEMINI_API_KEY=$GEMINI_API_KEY -- forage mcp /path/to/your/code",
        text_only=True,  # seen with 2.1.332: the model got structuredContent, never the pack's text
    ),
    Client(
        "Cursor",
        ("cursor",),
        None,
        "no documented limit",
        f"add {_ENV_ENTRY} to forage's entry in .cursor/mcp.json",
    ),
    Client(
        "VS Code",
        ("visual studio code", "vscode", "copilot"),
        None,
        "no documented limit",
        'add "env": {"GEMINI_API_KEY": "${input:gemini-key}"} (with a promptString input) to forage\'s '
        "entry in .vscode/mcp.json",
    ),
    Client(
        "Claude Desktop",
        ("claude-ai", "claude desktop"),
        None,
        "no documented limit",
        f"add {_ENV_ENTRY} to forage's entry in claude_desktop_config.json",
    ),
)
UNKNOWN = Client(
    "an unknown client", (), None, "unknown",
    "set GEMINI_API_KEY in the environment your client starts `forage mcp` with (most clients take an "
    '"env" entry next to "command")',
)  # fmt: skip


def identify(name: str | None) -> Client:
    """The known client whose clientInfo.name this is, else UNKNOWN."""
    lowered = (name or "").lower()
    return next((c for c in KNOWN if any(i in lowered for i in c.ids)), UNKNOWN)


def client_info(ctx: Any) -> tuple[str, str]:
    """The (name, version) the calling client sent at initialize; ("", "") when it sent none."""
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    return (info.name, info.version) if info is not None else ("", "")


@dataclass(frozen=True)
class ReplyLimit:
    """How big one reply may be: characters (the client's table entry) or tokens (reply_tokens)."""

    chars: int | None = None
    tokens: int | None = None
    client: str = ""
    text_only: bool = False  # send no structured content: this client would show it instead of the text


def reply_limit(settings: Settings, client_name: str) -> ReplyLimit:
    """The size of one reply to this client: reply_tokens when the user set it, else the table's."""
    client = identify(client_name)
    if "reply_tokens" in settings.model_fields_set:
        return ReplyLimit(tokens=settings.reply_tokens, client=client.name, text_only=client.text_only)
    return ReplyLimit(chars=client.reply_chars(), client=client.name, text_only=client.text_only)


def key_notice(settings: Settings, client_name: str) -> str | None:
    """One line saying no Gemini key reached forage, with the fix for this client; None when one did."""
    if settings.api_key() or settings.model == "extractive":
        return None
    client = identify(client_name)
    return (
        f"[forage: no GEMINI_API_KEY reached this server, so `ask` answers with the offline extractive "
        f"model (quoted passages). Fix for {client.name}: {client.key_fix}; then restart the server.]"
    )
