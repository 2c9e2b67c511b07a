"""`forage servers NAME ...`: run one of forage's MCP servers; `list` and `trust` the configured ones."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError
from cli.errors import fail, map_errors

SERVERS = {
    "files": "read local folders inside the given roots: forage servers files ROOT... ",
    "web": "fetch and render web pages, crawl sites, under the network policy: forage servers web [--allow-host H]",
    "pdf": "read PDFs inside the given roots with page citations: forage servers pdf ROOT...",
}

app = typer.Typer(
    help="Run a forage MCP server over stdio (default) or streamable HTTP (--transport http --port P).",
    no_args_is_help=True,
)


def _command(name: str, summary: str) -> None:
    @app.command(
        name,
        help=f"{summary}\n\nOptions are passed to the server; see `forage servers {name} --help`.",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
        add_help_option=False,
    )
    def run(ctx: typer.Context) -> None:
        module = importlib.import_module(f"mcp_servers.{name}")
        module.main(list(ctx.args))


for _name, _summary in SERVERS.items():
    _command(_name, _summary)


def _settings() -> Any:
    from agent.settings import load_settings

    return load_settings()


@app.command("list")
def list_servers(
    as_json: Annotated[bool, typer.Option("--json", help="Print the servers as JSON.")] = False,
) -> None:
    """Show every configured MCP server: status, tools, fingerprint state, last error.

    Third-party servers come from [mcp_servers] in forage.toml, an mcp.json (the editors'
    mcpServers format) or the mcp_config setting. Each is started briefly to list its tools;
    nothing is recorded or accepted.
    """
    from agent.mcp.server_configs import probe

    out = Console(highlight=False, soft_wrap=True)
    with map_errors():
        settings = _settings()
        statuses = asyncio.run(probe(settings))
    if as_json:
        rows = [
            {
                "name": s.name, "builtin": False, "status": s.status, "transport": s.entry.transport,
                "launch": s.entry.describe(), "origin": s.entry.origin, "defined_in": s.entry.defined_in,
                "trusted": s.entry.trusted, "tools": s.tools, "blocked": s.blocked,
                "fingerprints": s.fingerprints, "error": s.error, "last_error": s.last_error,
            }
            for s in statuses
        ]  # fmt: skip
        rows += [{"name": n, "builtin": True, "status": "started per run"} for n in SERVERS]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for name, summary in SERVERS.items():
        out.print(f"[bold]{name}[/] built-in, started per run: {escape(summary.split(':')[0])}")
    if not statuses:
        out.print(
            escape(
                "No third-party MCP servers configured (add [mcp_servers.NAME] to forage.toml or an mcp.json)."
            )
        )
    for s in statuses:
        colour = {"ok": "green", "failed": "red", "needs approval": "yellow"}.get(s.status, "dim")
        trust = "trusted" if s.entry.trusted else "untrusted"
        out.print(
            f"[bold]{s.name}[/] [{colour}]{s.status}[/] · {s.entry.transport} `{escape(s.entry.describe())}` · "
            f"{trust} · {s.entry.origin} ({escape(s.entry.defined_in)})"
        )
        if s.tools:
            out.print(f"  tools: {escape(', '.join(s.tools))}")
        if s.fingerprints:
            out.print(f"  fingerprints: {escape(s.fingerprints)}")
        if s.blocked:
            out.print(
                f"  [yellow]not called until accepted: {escape(', '.join(s.blocked))}; forage servers trust {s.name}[/]"
            )
        if s.status == "needs approval":
            out.print(f"  [yellow]review the command above, then: forage servers trust {s.name}[/]")
        if s.error:
            out.print(f"  [red]{escape(s.error)}[/]")
        elif s.last_error:
            out.print(f"  [dim]last error: {escape(s.last_error.splitlines()[0])}[/]")


@app.command("trust")
def trust_server(
    name: Annotated[str, typer.Argument(help="The configured server to accept.", show_default=False)],
) -> None:
    """Accept a server as it is now: its command line (project-defined servers) and its tools.

    Run it after reviewing a server that forage refused to start (defined by the project's
    files) or whose tools changed since they were accepted (names, descriptions, schemas).
    """
    from agent.mcp.server_configs import probe

    out = Console(highlight=False, soft_wrap=True)
    with map_errors():
        settings = _settings()
        if name not in settings.mcp_servers:
            known = ", ".join(sorted(settings.mcp_servers)) or "none"
            raise AgentError(f"no MCP server named {name!r} is configured (configured: {known})")
        entry = settings.mcp_servers[name]
        out.print(f"{name} ({entry.origin}, {escape(entry.defined_in)}) runs: {escape(entry.describe())}")
        (status,) = asyncio.run(probe(settings, [name], accept=True))
    if status.status != "ok":
        raise fail(f"{name} could not be started, so nothing was accepted: {status.error or status.status}")
    out.print(
        f"accepted {name}: {len(status.tools)} tool(s) ({escape(', '.join(status.tools))}); {status.fingerprints}"
    )
