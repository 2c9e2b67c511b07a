"""The `forage` command line. Domain errors become messages and exit codes here, and only here.

Exit codes: 0 ok · 1 user error (bad source, bad config, nothing gathered) · 2 usage ·
3 partial (some sources failed, the rest were used) · 130 interrupted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError
from agent.pack.packing import pack_file_parts
from cli.chat import command as chat_cli
from cli.commands import eval as eval_cli
from cli.commands import index as index_cli
from cli.commands import models as models_cli
from cli.commands import servers as servers_cli
from cli.commands import sessions as sessions_cli
from cli.render import Progress, close_model, format_refusal, format_summary, format_usage

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

HELP = """\
forage gathers the context for a question from folders, files, PDFs and web pages, packs it
into one ordered, cited context, and hands it to a long-context model (Gemini; offline, an
extractive model that quotes the best passages).

Exit codes: 0 ok, 1 user error, 2 usage error, 3 partial (some sources failed), 130 interrupted.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None, add_completion=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Sources = Annotated[
    list[str], typer.Argument(help="Folders, files, PDFs or http(s) URLs to gather from.", show_default=False)
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="auto | extractive | a Gemini model name (needs GEMINI_API_KEY)."),
]
WindowOpt = Annotated[
    int | None, typer.Option("--window", help="Model input window in tokens (default: from the model).")
]
BudgetOpt = Annotated[int | None, typer.Option("--budget", help="Hard token budget for the packed context.")]
RouteOpt = Annotated[
    str | None,
    typer.Option(
        "--route", help="auto | full | select | self (Self-Route: select first, widen if unanswerable)."
    ),
]
AllowHostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host", help="Allow a private/loopback host (repeatable), e.g. 127.0.0.1 for local docs."
    ),
]
CrawlOpt = Annotated[bool, typer.Option("--crawl", help="Follow same-site links from URL sources.")]
MaxPagesOpt = Annotated[int | None, typer.Option("--max-pages", help="Most pages per crawl.")]
MaxDepthOpt = Annotated[int | None, typer.Option("--max-depth", help="Most link hops per crawl.")]
IncludeOpt = Annotated[
    list[str] | None, typer.Option("--include", help="Crawl only URLs matching this pattern (repeatable).")
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", help="Never crawl URLs matching this pattern (repeatable).")
]
RobotsOpt = Annotated[bool, typer.Option("--ignore-robots", help="Fetch pages that robots.txt disallows.")]
ChromaOpt = Annotated[
    str | None,
    typer.Option(
        "--chroma-url", help="Use a Chroma server (http://host:port) instead of the embedded index."
    ),
]
LadderOpt = Annotated[
    str | None,
    typer.Option(
        "--ladder",
        help="on: under a budget, chunks in full, then outlines, then a path list (default); off: chunks only.",
    ),
]
StepsOpt = Annotated[int | None, typer.Option("--max-steps", help="Most plan/act rounds.")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds each tool call may take.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
NoRedactOpt = Annotated[
    bool,
    typer.Option(
        "--no-redact",
        help="Do not replace secrets with [REDACTED:type] (they may then be sent to the model).",
    ),
]
AllowWritesOpt = Annotated[
    bool,
    typer.Option(
        "--allow-writes", help="Let the agent call third-party tools that are not annotated read-only."
    ),
]
NO_REDACT_WARNING = (
    "warning: --no-redact: secrets found in the sources are packed as they are and may be sent to the model"
)


def _flags(*, no_redact: bool = False, ladder: str | None = None, **kw: Any) -> dict[str, Any]:
    """CLI flags that were given, as Settings keys (unset flags fall through to lower layers)."""
    out = {k: v for k, v in kw.items() if v not in (None, False, [])}
    if no_redact:
        out["redact"] = False
    if ladder is not None:
        if ladder not in ("on", "off"):
            raise _fail(f"--ladder {ladder!r}: use on or off", EXIT_USAGE)
        out["ladder"] = ladder == "on"
    return out


def _warn_unredacted(settings: Any) -> None:
    if not settings.redact:
        err.print(f"[yellow]{escape(NO_REDACT_WARNING)}[/]")


def _settings(flags: dict[str, Any]) -> Any:
    from agent.settings import load_settings

    return load_settings(flags)


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted. Nothing was written.[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _fail(message: str, code: int = EXIT_USER) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.", show_default=False)],
    sources: Sources,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a machine-readable result (answer, citations, manifest, history, usage)."
        ),
    ] = False,
    model: ModelOpt = None,
    window: WindowOpt = None,
    budget: BudgetOpt = None,
    route: RouteOpt = None,
    allow_host: AllowHostOpt = None,
    crawl: CrawlOpt = False,
    max_pages: MaxPagesOpt = None,
    max_depth: MaxDepthOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    ignore_robots: RobotsOpt = False,
    chroma_url: ChromaOpt = None,
    ladder: LadderOpt = None,
    max_steps: StepsOpt = None,
    timeout: TimeoutOpt = None,
    no_redact: NoRedactOpt = False,
    allow_writes: AllowWritesOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Answer a question from the given sources, with citations.

    Progress goes to stderr, the answer to stdout. Example:
    forage ask "Where is the retry delay configured?" ./myrepo ./notes
    """
    flags = _flags(
        model=model, window=window, budget=budget, route=route, allow_hosts=allow_host, crawl=crawl,
        max_pages=max_pages, max_depth=max_depth, include=include, exclude=exclude, ignore_robots=ignore_robots,
        chroma_url=chroma_url, max_steps=max_steps, call_timeout=timeout, no_redact=no_redact,
        allow_writes=allow_writes, ladder=ladder,
    )  # fmt: skip
    result = _execute(question, sources, flags, want_answer=True, quiet=quiet, stream=not as_json)
    refusal = format_refusal(result)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif refusal:
        err.print(f"[yellow]{escape(refusal)}[/]")
    elif result.answer and not result.answer.extractive and result.answer.citations:
        sys.stdout.write("\nSources:\n" + "".join(c.render() + "\n" for c in result.answer.citations))
    sys.stdout.flush()
    if result.answer and not result.answer.extractive and not quiet:
        err.print(f"[dim]{format_usage(result)}[/]")
    raise typer.Exit(EXIT_PARTIAL if result.partial else EXIT_OK)


@app.command()
def pack(
    sources: Sources,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="What the context is for; ranks what is kept under --budget."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: forage-pack.md/.xml/.json)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="markdown | xml | json (default: pack_format, markdown)"),
    ] = None,
    budget: BudgetOpt = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Write the pack to standard output instead of a file.")
    ] = False,
    allow_host: AllowHostOpt = None,
    crawl: CrawlOpt = False,
    max_pages: MaxPagesOpt = None,
    max_depth: MaxDepthOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    ignore_robots: RobotsOpt = False,
    chroma_url: ChromaOpt = None,
    route: RouteOpt = None,
    no_redact: NoRedactOpt = False,
    ladder: LadderOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr.")] = False,
) -> None:
    """Pack the sources into one ordered, cited context file (query-aware Repomix).

    Blocks are tagged with URI and span; a manifest lists URI, sha256, span and tokens of each.
    Example: forage pack ./myrepo -q "retry logic" --budget 50000 -o context.md
    """
    if fmt is not None and fmt not in ("markdown", "xml", "json"):
        raise _fail(f"--format {fmt!r} is not supported; use markdown, xml or json", EXIT_USAGE)
    flags = _flags(
        budget=budget, allow_hosts=allow_host, crawl=crawl, max_pages=max_pages, max_depth=max_depth,
        include=include, exclude=exclude, ignore_robots=ignore_robots, chroma_url=chroma_url, route=route,
        pack_format=fmt, model="extractive", no_redact=no_redact, ladder=ladder,
        # A pack reads every page of every source; the gather-token limit still applies.
        max_steps=10_000,
    )  # fmt: skip
    result, fmt = _execute_pack(query or "", sources, flags, quiet=quiet)
    assert result.pack is not None
    parts = pack_file_parts(result.pack, fmt)
    if stdout:
        sys.stdout.writelines(parts)
        sys.stdout.flush()
    else:
        target = output or Path(
            {"markdown": "forage-pack.md", "xml": "forage-pack.xml", "json": "forage-pack.json"}[fmt]
        )
        try:
            with open(target, "w", encoding="utf-8") as fh:
                fh.writelines(parts)
        except OSError as exc:
            raise _fail(f"cannot write {target}: {exc.strerror}; choose another --output") from exc
        err.print(f"wrote {target} ({result.pack.tokens:,} tokens, {len(result.pack.manifest)} blocks)")
    raise typer.Exit(EXIT_PARTIAL if result.partial else EXIT_OK)


def _execute_pack(
    question: str, sources: list[str], flags: dict[str, Any], *, quiet: bool
) -> tuple[Any, str]:
    """Local sources are packed in-process (fast path); anything else goes through the agent.

    Returns the result and the format used (--format, else the pack_format setting)."""
    from agent.gather.direct import pack_direct

    try:
        settings = _settings(flags)
    except AgentError as exc:
        raise _fail(str(exc)) from exc
    fmt = settings.pack_format
    _warn_unredacted(settings)
    progress = Progress(err, quiet=quiet)
    try:
        result = pack_direct(
            question, sources, settings, fmt=fmt, unbounded=settings.budget is None, on_event=progress
        )
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted. Nothing was written.[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except AgentError as exc:
        raise _fail(str(exc)) from exc
    if result is None:
        return (
            _execute(
                question, sources, flags, want_answer=False, quiet=quiet, stream=False, fmt=fmt, warn=False
            ),
            fmt,
        )
    return _finish(result, quiet=quiet), fmt


def _finish(result: Any, *, quiet: bool) -> Any:
    if result.documents == 0:
        lines = "\n".join(f"  - {f}" for f in result.failures) or "  (the sources held no readable text)"
        raise _fail(f"nothing could be gathered from the sources:\n{lines}")
    if not quiet:
        err.print(f"[dim]{format_summary(result)}[/]")
    if result.failures:
        failed = "".join(f"\n  - {escape(f)}" for f in result.failures)
        err.print(
            f"[yellow]partial: {len(result.failures)} source(s) failed; the others were used:{failed}[/]"
        )
    return result


def _execute(
    question: str,
    sources: list[str],
    flags: dict[str, Any],
    *,
    want_answer: bool,
    quiet: bool,
    stream: bool,
    fmt: str = "markdown",
    warn: bool = True,
) -> Any:
    from agent.models import make_model
    from agent.session.session import run

    try:
        settings = _settings(flags)
        model, notice = make_model(settings)
    except AgentError as exc:
        raise _fail(str(exc)) from exc
    if notice and want_answer and not quiet:
        err.print(f"[yellow]{notice}[/]")
    if warn:
        _warn_unredacted(settings)
    progress = Progress(err, quiet=quiet)
    from agent.retrieval.background import hold_until_exit

    hold_until_exit(settings.data_dir)  # one command: background embedding starts as it exits

    def on_text(chunk: str) -> None:
        sys.stdout.write(chunk)
        sys.stdout.flush()

    try:
        result = _run(
            run(
                question, sources, settings, model, want_answer=want_answer, unbounded=want_answer is False and settings.budget is None,
                pack_format=fmt, on_event=progress, on_text=on_text if stream else None,
            )
        )  # fmt: skip
    except AgentError as exc:
        raise _fail(str(exc)) from exc
    finally:
        _close(model)
    return _finish(result, quiet=quiet)


def _close(model: Any) -> None:
    close_model(model, err)


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
    try:
        app()
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/]")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        skip_exit_collection()


if __name__ == "__main__":
    main()
