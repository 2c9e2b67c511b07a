"""`forage ask QUESTION SOURCES...`: gather, pack and answer through the agent, with citations."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.commands.options import (
    AllowHostOpt,
    AllowWritesOpt,
    BudgetOpt,
    ChromaOpt,
    CrawlOpt,
    ExcludeOpt,
    IncludeOpt,
    LadderOpt,
    MaxDepthOpt,
    MaxPagesOpt,
    ModelOpt,
    NoRedactOpt,
    QuietOpt,
    RobotsOpt,
    RouteOpt,
    Sources,
    StepsOpt,
    TimeoutOpt,
    WindowOpt,
    flags,
    warn_unredacted,
)  # fmt: skip
from cli.errors import EXIT_OK, EXIT_PARTIAL, err, fail, map_errors, warn
from cli.render import Progress, format_refusal, format_summary, format_usage

# Ctrl-C during ask or pack: nothing reaches stdout or the output file.
NOTHING_WRITTEN = "Interrupted. Nothing was written."


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
    given = flags(
        model=model, window=window, budget=budget, route=route, allow_hosts=allow_host, crawl=crawl,
        max_pages=max_pages, max_depth=max_depth, include=include, exclude=exclude, ignore_robots=ignore_robots,
        chroma_url=chroma_url, max_steps=max_steps, call_timeout=timeout, no_redact=no_redact,
        allow_writes=allow_writes, ladder=ladder,
    )  # fmt: skip
    result = execute(question, sources, given, want_answer=True, quiet=quiet, stream=not as_json)
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


def finish(result: Any, *, quiet: bool, answering: bool = True) -> Any:
    """Fail when nothing was gathered; otherwise print the summary and the sources that failed."""
    nothing = result.nothing_gathered(answering=answering)
    if nothing:
        raise fail(nothing)
    if not quiet:
        err.print(f"[dim]{format_summary(result)}[/]")
    if result.failures:
        failed = "".join(f"\n  - {escape(f)}" for f in result.failures)
        err.print(
            f"[yellow]partial: {len(result.failures)} source(s) failed; the others were used:{failed}[/]"
        )
    return result


def execute(
    question: str,
    sources: list[str],
    given: dict[str, Any],
    *,
    want_answer: bool,
    quiet: bool,
    stream: bool,
    fmt: str = "markdown",
    warn_redact: bool = True,
) -> Any:
    """Run the agent over the sources (gather, pack, and answer when want_answer)."""
    from agent.models import make_model
    from agent.models.base import closing
    from agent.paths import places
    from agent.retrieval.background import hold_until_exit
    from agent.session.session import run
    from agent.settings import load_settings

    with map_errors():
        settings = load_settings(given)
        model, notice = make_model(settings)
    if notice and want_answer and not quiet:
        err.print(f"[yellow]{notice}[/]")
    if warn_redact:
        warn_unredacted(settings)
    progress = Progress(err, quiet=quiet)
    hold_until_exit(places(settings).cache)  # one command: background embedding starts as it exits

    def on_text(chunk: str) -> None:
        sys.stdout.write(chunk)
        sys.stdout.flush()

    with closing(model, warn), map_errors(interrupted=NOTHING_WRITTEN):
        result = asyncio.run(
            run(
                question, sources, settings, model, want_answer=want_answer, unbounded=want_answer is False and settings.budget is None,
                pack_format=fmt, on_event=progress, on_text=on_text if stream else None,
            )
        )  # fmt: skip
    return finish(result, quiet=quiet, answering=want_answer)
