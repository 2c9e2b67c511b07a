"""Presenting runs: progress on stderr, answers on stdout. Pure format_* kept apart from print_*."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

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


class Progress:
    """Receives agent events and prints progress lines to stderr."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.started = time.perf_counter()
        self.tokens = 0
        self.files = 0

    def __call__(self, kind: str, **data: Any) -> None:
        if kind == "source_failed":
            self.console.print(f"[red]✗ {escape(data['text'])}[/]")
            return
        if self.quiet:
            return
        if kind == "servers_starting":
            self.console.print(f"[dim]starting MCP servers: {', '.join(data['names'])}[/]")
        elif kind == "call_end":
            action: Action = data["action"]
            self.tokens += action.tokens_added
            self.files += len(action.documents)
            self.console.print(format_action(action))
            if data.get("message"):
                self.console.print(f"    [red]{escape(data['message'][:500])}[/]")
            self.console.print(
                f"  [dim]{self.files} document(s), {self.tokens:,} tokens, {time.perf_counter() - self.started:.1f}s[/]"
            )
        elif kind == "route":
            budget = f"{data['budget']:,}" if data.get("budget") else "no limit"
            why = f": {escape(data['why'])}" if data.get("why") else ""
            self.console.print(
                f"[dim]route: {data['route']} ({data['gathered']:,} tokens gathered, budget {budget}){why}[/]"
            )
        elif kind == "widen":
            if data.get("route") is None:
                self.console.print(f"[yellow]the pack could not answer; {escape(data.get('why', ''))}[/]")
            else:
                self.console.print(
                    f"[yellow]the pack could not answer; widening to {data['route']} @ {data['budget']:,}[/]"
                )
        elif kind == "packed":
            pack: Pack = data["pack"]
            if data.get("notice"):
                self.console.print(f"[yellow]{escape(data['notice'])}[/]")
            self.console.print(f"[dim]packed {pack.tokens:,} tokens in {len(pack.manifest)} block(s)[/]")
            for line in format_report(pack.safety):
                self.console.print(f"[yellow]{escape(line)}[/]")
            if pack.omitted:
                self.console.print(f"[yellow]left out {len(pack.omitted)} item(s) (see the manifest)[/]")
        elif kind == "notice":
            self.console.print(f"[yellow]{escape(data['text'])}[/]")
