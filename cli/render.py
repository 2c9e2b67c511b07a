"""Presenting runs: progress on stderr, answers on stdout. Pure format_* kept apart from print_*."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from agent.events import (
    CallEnd,
    Event,
    Notice,
    Packed,
    Route,
    ServersStarting,
    SourceFailed,
    Widen,
    describe_event,
    format_budget,
)
from agent.safety.screening import format_report
from agent.state import Action, Pack, Usage

if TYPE_CHECKING:
    from agent.session.result import RunResult


def format_args(args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r}" if not isinstance(v, str) else f"{k}={v}" for k, v in args.items())
    return shown if len(shown) < 100 else shown[:97] + "…"


def format_action(action: Action) -> str:
    mark = {
        "ok": "[green]✓[/]",
        "error": "[red]✗[/]",
        "timeout": "[red]⏱[/]",
        "refused": "[red]⊘ refused[/]",
    }.get(action.status, "[yellow]?[/]")
    docs = (
        f"{len(action.documents)} doc(s), {action.tokens_added:,} tokens"
        if action.documents
        else action.status
    )
    return f"  {mark} {action.tool}({escape(format_args(action.args))}) → {docs} [dim]{action.duration_s:.2f}s[/]"


def format_summary(result: RunResult) -> str:
    pack = result.pack
    parts = [f"gathered {result.gathered_tokens:,} tokens from {result.documents} document(s)"]
    if pack is not None:
        budget = f" of {pack.budget:,}" if pack.budget else ""
        parts.append(f"packed {pack.tokens:,}{budget} tokens in {len(pack.manifest)} block(s)")
        parts.append(f"route {' → '.join(result.route_trace) or pack.route}")
    parts.append(f"{result.duration_s:.1f}s")
    return "; ".join(parts)


def format_cost(usage: Usage) -> str:
    """The cost as forage knows it: a figure, a lower bound, or "cost unknown"."""
    if not usage.cost_known:
        return f"cost unknown (≥ ${usage.cost_usd:.4f})" if usage.cost_usd else "cost unknown"
    return f"~${usage.cost_usd:.4f}" if usage.cost_usd is not None else ""


def format_usage(result: RunResult) -> str:
    u = result.usage
    thinking = f" incl. {u.thinking_tokens:,} thinking" if u.thinking_tokens else ""
    cost = format_cost(u)
    return (
        f"tokens: {u.prompt_tokens:,} prompt ({u.cached_tokens:,} cached), {u.output_tokens:,} output{thinking}"
        + (f", {cost}" if cost else "")
    )


def format_refusal(result: RunResult) -> str | None:
    """What to tell the user when the model said the sources cannot answer (never the sentinel)."""
    answer = result.answer
    if answer is None or not answer.unanswerable:
        return None
    return f"The gathered sources do not answer this question: {answer.missing}"


def format_event(event: Event) -> str | None:
    """The line both CLI surfaces (Progress and the chat's live view) print alike, or None."""
    match event:
        case SourceFailed(text=text):
            return f"[red]✗ {escape(text)}[/]"
        case Notice(text=text):
            return format_notice(text)
        case ServersStarting():
            return f"[dim]{describe_event(event)}[/]"
        case Widen(route=None, why=why):
            return f"[yellow]the pack could not answer; {escape(why)}[/]"
        case Widen(route=route, budget=budget):
            return f"[yellow]the pack could not answer; widening to {route} @ {budget:,}[/]"
        case _:
            return None


def format_notice(text: str) -> str:
    """A notice, in the colour of a warning."""
    return f"[yellow]{escape(text)}[/]"


def format_safety(pack: Pack) -> list[str]:
    """What the pack redacted, dropped or flagged, one markup line each."""
    return [f"[yellow]{escape(line)}[/]" for line in format_report(pack.safety)]


class Progress:
    """Receives agent events and prints progress lines to stderr."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.started = time.perf_counter()
        self.tokens = 0
        self.files = 0

    def __call__(self, event: Event) -> None:
        if self.quiet and not isinstance(event, SourceFailed):
            return
        for line in self.lines(event):
            self.console.print(line)

    def lines(self, event: Event) -> list[str]:
        """The lines an event prints (counting the documents and tokens gathered so far)."""
        match event:
            case CallEnd(action=action, message=message):
                self.tokens += action.tokens_added
                self.files += len(action.documents)
                failed = [f"    [red]{escape(message[:500])}[/]"] if message else []
                took = f"{time.perf_counter() - self.started:.1f}s"
                return [
                    format_action(action),
                    *failed,
                    f"  [dim]{self.files} document(s), {self.tokens:,} tokens, {took}[/]",
                ]
            case Route(route=route, gathered=gathered, budget=budget, why=why):
                said = f": {escape(why)}" if why else ""
                return [
                    f"[dim]route: {route} ({gathered:,} tokens gathered, budget {format_budget(budget)}){said}[/]"
                ]
            case Packed(pack=pack, notice=notice):
                lines = [format_notice(notice)] if notice else []
                lines += [f"[dim]{describe_event(event)}[/]", *format_safety(pack)]
                if pack.omitted:
                    lines.append(f"[yellow]left out {len(pack.omitted)} item(s) (see the manifest)[/]")
                return lines
            case _:
                line = format_event(event)
                return [line] if line else []
