"""The `forage` command line: the Typer app, its commands, and the console-script entry point.

Domain errors become messages and exit codes in cli/errors.py, and only there.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.chat import command as chat_cli
from cli.commands import eval as eval_cli
from cli.commands import index as index_cli
from cli.commands import models as models_cli
from cli.commands import servers as servers_cli
from cli.commands import sessions as sessions_cli
from cli.commands.ask import ask
from cli.commands.pack import pack
from cli.errors import (
    EXIT_INTERRUPTED,
    crash,
    debugging,
    err,
    fail,
    set_debug,
    show_agent_warnings,
    storage_problem,
)

HELP = """\
forage gathers the context for a question from folders, files, PDFs and web pages, packs it
into one ordered, cited context, and hands it to a long-context model (Gemini; offline, an
extractive model that quotes the best passages).

Exit codes: 0 ok, 1 user error, 2 usage error, 3 partial (some sources failed), 70 internal
error (the traceback is saved in a log; --debug prints it), 130 interrupted.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None, add_completion=False)


@app.callback()
def options(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Print the full traceback of an internal error (also: FORAGE_DEBUG=1)."),
    ] = False,
) -> None:
    """Options for every command."""
    set_debug(debug)


app.command("ask")(ask)
app.command("pack")(pack)
app.command("chat")(chat_cli.chat)
app.command("index")(index_cli.index)
app.command("models")(models_cli.models)
app.add_typer(servers_cli.app, name="servers")
app.add_typer(sessions_cli.app, name="sessions")
app.add_typer(eval_cli.app, name="eval")


@app.command(
    "mcp",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def mcp_command(ctx: typer.Context) -> None:
    """Run forage itself as an MCP server (gather_context, ask, list_sources, index) for editors.

    forage mcp [ROOT...] [--allow-host H] [--model M] [--mcp-config PATH] [--transport stdio|http --port P]
    Local sources must lie inside the ROOTs (default: the current folder). See forage mcp --help.
    """
    from mcp_servers.forage.server import main as serve

    serve(list(ctx.args))


def main() -> None:
    """Console-script entry point."""
    from tools.runtime import skip_exit_collection, tune_gc

    tune_gc()
    show_agent_warnings()
    try:
        app()
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debugging():
            raise  # the traceback, as Typer prints it
        if (problem := storage_problem(exc)) is not None:
            sys.exit(fail(problem).exit_code)  # the machine's limit, not a bug to report
        sys.exit(crash(exc, " ".join(["forage", *sys.argv[1:2]])).exit_code)
    finally:
        skip_exit_collection()


if __name__ == "__main__":
    main()
