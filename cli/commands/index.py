"""`forage index SOURCES...`: chunk, embed and store a corpus ahead of time, so questions start fast.

Sources are gathered exactly as `forage ask` gathers them (MCP servers, roots, PDF worker
limits, the network policy), then chunked and embedded into the retrieval index.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli.errors import EXIT_OK, EXIT_PARTIAL, err, fail, map_errors

if TYPE_CHECKING:
    from agent.events import EventSink
    from agent.session.result import RunResult
    from agent.settings import Settings


async def gather(sources: list[str], settings: Settings, *, on_event: EventSink | None = None) -> RunResult:
    """Gather every document of the sources, as `forage ask` reads them, with no gather limit."""
    from agent.models.extractive import ExtractiveModel
    from agent.session.session import run

    # Every follow-up the reads suggest (PDFs found in folders, the windows of long pages), as
    # `forage pack` does; a folder's own pages take no planning steps.
    settings = settings.model_copy(update={"max_steps": 10_000})
    return await run(
        "", sources, settings, ExtractiveModel(), want_answer=False, unbounded=True, on_event=on_event
    )


def index(
    sources: Annotated[
        list[str], typer.Argument(help="Folders, files, PDFs or URLs to index.", show_default=False)
    ],
    chroma_url: Annotated[
        str | None,
        typer.Option(
            "--chroma-url", help="Use a Chroma server (http://host:port) instead of the embedded index."
        ),
    ] = None,
    embedding: Annotated[str | None, typer.Option("--embedding", help="auto | local | gemini | none")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where forage keeps its files, caches and index included (default: the platform folders).",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option("--allow-host", help="Allow a private/loopback host for URL sources.")
    ] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Also remove the chunks of every file not in these sources."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every read, not one summary.")
    ] = False,
    embed_all: Annotated[
        bool,
        typer.Option("--embed-all", help="Embed generated, vendored, minified and data files too."),
    ] = False,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan", help="Dry run: say what would be embedded, the time it would take and the disk."
        ),
    ] = False,
) -> None:
    """Pre-build the retrieval index for a corpus (chunks, embeddings, Chroma).

    An unchanged chunk is neither re-embedded nor re-added, so running it again is cheap.
    """
    import asyncio

    from agent.retrieval.indexing import build_index
    from agent.settings import load_settings
    from cli.index_progress import EmbedProgress, ReadProgress, print_plan

    out = Console(highlight=False, soft_wrap=True)
    flags = {
        "chroma_url": chroma_url,
        "embedding": embedding,
        "data_dir": data_dir,
        "allow_hosts": allow_host,
        "embed_all": embed_all,
    }
    with map_errors(interrupted="Interrupted. Chunks already added stay in the index."):
        settings = load_settings({k: v for k, v in flags.items() if v})
        reads = ReadProgress(err, quiet=quiet, verbose=verbose)
        result = asyncio.run(gather(sources, settings, on_event=reads))
        docs = result.gathered
        if not docs:
            lines = "\n".join(f"  - {f}" for f in result.failures) or "  (no readable text files or PDFs)"
            raise fail(f"nothing to index:\n{lines}")
        if not quiet:
            err.print(f"[dim]{reads.summary()}[/]")
        if plan:
            print_plan(out, docs, settings)
            raise typer.Exit(EXIT_PARTIAL if result.failures else EXIT_OK)
        if not quiet:
            err.print(f"indexing {len(docs)} documents ({sum(d.tokens for d in docs):,} tokens) …")
        bar = EmbedProgress(err)
        try:
            stats = build_index(docs, settings, prune=prune, on_progress=None if quiet else bar)
        finally:
            bar.close()
    if stats.skipped_note and not quiet:
        err.print(f"[dim]{escape(stats.skipped_note)}[/]")
    if stats.notice:
        err.print(f"[yellow]note:[/yellow] {escape(stats.notice)}")
    if stats.added == 0 and stats.store.startswith("(none"):
        out.print(
            f"{stats.documents} documents, {stats.chunks} chunks: BM25 ranks them at question time; nothing to store."
        )
    else:
        out.print(
            f"indexed {stats.documents} documents: {stats.chunks} chunks, {stats.embedded} embedded now, "
            f"{stats.added} added, {stats.chunks - stats.added - sum(stats.skipped.values())} already indexed, "
            f"{sum(stats.skipped.values())} not embedded, {stats.removed} stale removed "
            f"({stats.stored} stored) · {escape(stats.store)} · {stats.seconds:.1f}s"
        )
    raise typer.Exit(EXIT_PARTIAL if result.failures else EXIT_OK)
