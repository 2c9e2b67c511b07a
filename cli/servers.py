"""`forage servers NAME ...`: run one of forage's MCP servers for any MCP client."""

from __future__ import annotations

import importlib

import typer

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
