"""What the terminal chat shows while it works: the live gathering view and the streamed answer.

On a terminal, each action appears as it starts (tool, target, elapsed time) and stays as one
line when it ends (tokens added, time); the answer streams as rendered markdown. Without a
terminal the same events become plain progress lines (cli/render.Progress) and raw text.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from agent.events import (
    AnswerStart,
    CallDone,
    CallEnd,
    CallStart,
    Event,
    Packed,
    Plan,
    Route,
    describe_event,
    format_budget,
)
from agent.state import CallResult, Pack, Usage
from cli.render import Progress, format_args, format_event, format_notice, format_safety

# Lines of a streamed answer kept re-renderable at the bottom; those above are printed once,
# so an answer longer than the screen neither flickers nor repeats.
_LIVE_LINES = 8
_TARGET_KEYS = ("url", "path", "paths_or_glob", "query", "pattern", "pages")


def format_target(args: dict[str, Any]) -> str:
    """The argument that says what a call reads: its path, URL or query (else all arguments)."""
    for key in _TARGET_KEYS:
        if args.get(key):
            value = str(args[key])
            extra = " (continued)" if "start_index" in args or "start_line" in args else ""
            return (value if len(value) <= 80 else "…" + value[-79:]) + extra
    return format_args(args)


def format_status(
    model: str, route: str | None, pack: Pack | None, usage: Usage, documents: int, tokens: int
) -> str:
    """The one-line status: model, route, what the pack holds, cached tokens, cost so far."""
    parts = [model]
    if route:
        parts.append(f"route {route}")
    parts.append(f"{documents} doc(s), {tokens:,} tokens gathered")
    if pack is not None:
        parts.append(f"pack {pack.tokens:,} tokens")
    parts.append(f"cached {usage.cached_tokens:,}")
    parts.append(f"${usage.cost_usd:.4f} so far" if usage.cost_usd else "no cost so far")
    return " · ".join(parts)


@dataclass
class _Running:
    tool: str
    target: str
    started: float


class LiveGather:
    """Receives agent events; on a terminal shows running calls live, else prints progress lines."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.live_mode = console.is_terminal and not quiet
        self.plain = Progress(console, quiet=quiet)
        self.phase = "idle"  # idle | gathering | answering
        self._running: dict[str, _Running] = {}
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._tokens = 0
        self._calls = 0

    # -- a turn ----------------------------------------------------------------
    def begin(self) -> None:
        self.phase = "gathering"
        self._running.clear()
        self._started = time.perf_counter()
        self._tokens = 0
        self._calls = 0
        self.plain = Progress(self.console, quiet=self.quiet)
        if self.live_mode:
            self._live = Live(
                self,  # rendered through __rich__, so elapsed times tick
                console=self.console,
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def end(self) -> None:
        self.phase = "idle"
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __rich__(self) -> Any:
        now = time.perf_counter()
        rows = Table.grid(padding=(0, 1))
        with self._lock:
            running = list(self._running.values())
        for r in running:
            rows.add_row(
                Spinner("dots", style="cyan"),
                f"{r.tool}",
                Text(r.target, style="bold"),
                f"{now - r.started:.1f}s",
            )
        state = "answering" if self.phase == "answering" else "gathering"
        footer = Text(
            f"{state} · {self._calls} call(s) · {self._tokens:,} tokens · {now - self._started:.1f}s"
            " · Ctrl-C stops this step",
            style="dim",
        )
        return Group(rows, footer) if running else footer

    def _print(self, markup: str) -> None:
        live = self._live
        (live.console if live is not None else self.console).print(markup, highlight=False)

    # -- events ----------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        if not self.live_mode:
            if isinstance(event, Route | AnswerStart):
                self.phase = "answering"
            self.plain(event)
            return
        match event:
            case CallStart(key=key, tool=tool, args=args):
                with self._lock:
                    self._running[key] = _Running(tool, format_target(args), time.perf_counter())
            case CallDone(key=key, result=result):
                with self._lock:
                    running = self._running.pop(key, None)
                self._calls += 1
                tokens = sum(d.tokens for d in result.documents)
                self._tokens += tokens
                self._print(_format_done(result, tokens, running.target if running else ""))
            case Route(route=route, gathered=gathered, budget=budget):
                self.phase = "answering"
                self._print(
                    f"[dim]route {route}: {gathered:,} tokens gathered, budget {format_budget(budget)}[/]"
                )
            case AnswerStart():
                self.phase = "answering"
                self.end()
                self.phase = "answering"
            case Packed(pack=pack, notice=notice):
                if notice:
                    self._print(format_notice(notice))
                left = f", left out {len(pack.omitted)} item(s)" if pack.omitted else ""
                self._print(f"[dim]{describe_event(event)}{left}[/]")
                for line in format_safety(pack):  # redactions, hidden text, flags
                    self._print(line)
            case CallEnd() | Plan():
                return  # CallDone showed it as it happened
            case _:
                if line := format_event(event):
                    self._print(line)


def _format_done(result: CallResult, tokens: int, target: str) -> str:
    mark = {
        "ok": "[green]✓[/]",
        "cancelled": "[yellow]⏹[/]",
        "timeout": "[red]⏱[/]",
        "refused": "[red]⊘[/]",
    }.get(result.status, "[red]✗[/]")
    what = f"{len(result.documents)} doc(s), {tokens:,} tokens" if result.documents else result.status
    line = f"  {mark} {result.tool} {escape(target)} → {what} [dim]{result.duration_s:.2f}s[/]"
    if result.status not in ("ok", "cancelled") and result.text:
        line += f"\n    [red]{escape(result.text[:300])}[/]"
    return line


class MarkdownStream:
    """Render a streamed answer as markdown while it arrives (terminal), or write raw text."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.text = ""
        self._printed = 0  # rendered lines already printed for good
        self._live: Live | None = None
        self._rendered_at = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        self.text = ""
        self._printed = 0

    def feed(self, chunk: str) -> None:
        """Called from the model's thread with each piece of the answer."""
        with self._lock:
            self.text += chunk
            if not self.console.is_terminal:
                self.console.file.write(chunk)
                self.console.file.flush()
                return
            if self._live is None:  # started by the first piece, once the gathering view is gone
                self._live = Live(Text(""), console=self.console, refresh_per_second=10, transient=True)
                self._live.start()
            if time.perf_counter() - self._rendered_at > 0.08:
                self._render(final=False)

    def finish(self) -> str:
        with self._lock:
            if self._live is not None:
                self._render(final=True)
                self._live.stop()
                self._live = None
            elif self.text and not self.text.endswith("\n") and not self.console.is_terminal:
                self.console.file.write("\n")
                self.console.file.flush()
        return self.text

    def _render(self, *, final: bool) -> None:
        assert self._live is not None
        self._rendered_at = time.perf_counter()
        lines = render_markdown_lines(self.text, self.console)
        stable = len(lines) if final else max(self._printed, len(lines) - _LIVE_LINES)
        if stable > self._printed:
            self._live.console.print(Text.from_ansi("".join(lines[self._printed : stable]).rstrip("\n")))
            self._printed = stable
        self._live.update(Text.from_ansi("".join(lines[self._printed :]).rstrip("\n")))


def render_markdown_lines(text: str, like: Console) -> list[str]:
    """The markdown as the terminal would show it, one ANSI string per line."""
    buf = io.StringIO()
    Console(
        file=buf, force_terminal=True, width=like.width, color_system=like.color_system or "standard"
    ).print(Markdown(text))
    return buf.getvalue().splitlines(keepends=True)
