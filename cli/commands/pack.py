"""`forage pack SOURCES...`: one ordered, cited context file; local sources are packed in-process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.pack.packing import pack_file_parts
from cli.commands.ask import NOTHING_WRITTEN, execute, finish
from cli.commands.options import (
    AllowHostOpt,
    BudgetOpt,
    ChromaOpt,
    CrawlOpt,
    ExcludeOpt,
    IncludeOpt,
    LadderOpt,
    MaxDepthOpt,
    MaxPagesOpt,
    NoRedactOpt,
    RobotsOpt,
    RouteOpt,
    Sources,
    flags,
    warn_unredacted,
)  # fmt: skip
from cli.errors import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, err, fail, map_errors
from cli.render import Progress


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
        raise fail(f"--format {fmt!r} is not supported; use markdown, xml or json", EXIT_USAGE)
    given = flags(
        budget=budget, allow_hosts=allow_host, crawl=crawl, max_pages=max_pages, max_depth=max_depth,
        include=include, exclude=exclude, ignore_robots=ignore_robots, chroma_url=chroma_url, route=route,
        pack_format=fmt, model="extractive", no_redact=no_redact, ladder=ladder,
        # A pack reads every page of every source; the gather-token limit still applies.
        max_steps=10_000,
    )  # fmt: skip
    result, fmt = _execute_pack(query or "", sources, given, quiet=quiet)
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
            raise fail(f"cannot write {target}: {exc.strerror}; choose another --output") from exc
        err.print(f"wrote {target} ({result.pack.tokens:,} tokens, {len(result.pack.manifest)} blocks)")
    raise typer.Exit(EXIT_PARTIAL if result.partial else EXIT_OK)


def _execute_pack(
    question: str, sources: list[str], given: dict[str, Any], *, quiet: bool
) -> tuple[Any, str]:
    """Local sources are packed in-process (fast path); anything else goes through the agent.

    Returns the result and the format used (--format, else the pack_format setting)."""
    from agent.session.direct import pack_direct
    from agent.settings import load_settings

    with map_errors():
        settings = load_settings(given)
    fmt = settings.pack_format
    warn_unredacted(settings)
    progress = Progress(err, quiet=quiet)
    with map_errors(interrupted=NOTHING_WRITTEN):
        result = pack_direct(
            question, sources, settings, fmt=fmt, unbounded=settings.budget is None, on_event=progress
        )
    if result is None:
        return (
            execute(
                question, sources, given, want_answer=False, quiet=quiet, stream=False, fmt=fmt,
                warn_redact=False,
            ),
            fmt,
        )  # fmt: skip
    return finish(result, quiet=quiet, answering=False), fmt
