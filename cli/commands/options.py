"""The flags `forage ask` and `forage pack` share, and how given flags become Settings keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.errors import EXIT_USAGE, err, fail

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


def flags(*, no_redact: bool = False, ladder: str | None = None, **kw: Any) -> dict[str, Any]:
    """CLI flags that were given, as Settings keys (unset flags fall through to lower layers)."""
    out = {k: v for k, v in kw.items() if v not in (None, False, [])}
    if no_redact:
        out["redact"] = False
    if ladder is not None:
        if ladder not in ("on", "off"):
            raise fail(f"--ladder {ladder!r}: use on or off", EXIT_USAGE)
        out["ladder"] = ladder == "on"
    return out


def warn_unredacted(settings: Any) -> None:
    """Say once, in yellow, that --no-redact lets secrets through."""
    if not settings.redact:
        err.print(f"[yellow]{escape(NO_REDACT_WARNING)}[/]")
