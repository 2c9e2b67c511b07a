"""`forage index` on screen: its plan (--plan), and progress that reaches every user.

Progress: one bar on a terminal, a line every ~10 s elsewhere, the reads folded into one line.

Embedding a large repository takes minutes; a user in CI, an editor's log or `nohup` sees the
same figures as one at a terminal (done/total, chunks per second, time left), only as lines.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from agent.events import CallEnd, Event
from agent.retrieval.embeddings import choose_embedder
from agent.retrieval.plan import Plan, make_plan
from agent.settings import Settings
from agent.state import Document
from cli.render import Progress

LINE_EVERY_S = 10.0


def format_duration(seconds: float) -> str:
    """'42 s', '3 min 5 s', '1 h 12 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class EmbedProgress:
    """on_progress(done, total) for build_index: a bar on a terminal, else a line every ~10 s."""

    def __init__(self, console: Console, *, every: float = LINE_EVERY_S, clock: Any = time.monotonic) -> None:
        self.console = console
        self.every = every
        self.clock = clock
        self.started: float | None = None
        self.last_line: float | None = None
        self._bar: Bar | None = None
        self._task: Any = None

    def line(self, done: int, total: int) -> str:
        """'embedded 1,024/8,125 chunks · 38.2 chunks/s · 3 min 6 s left'."""
        elapsed = self.clock() - (self.started or self.clock())
        rate = done / elapsed if elapsed > 0 and done else 0.0
        left = f"{format_duration((total - done) / rate)} left" if rate else "time left: measuring"
        return f"embedded {done:,}/{total:,} chunks · {rate:.1f} chunks/s · {left}"

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.started is None:
            self.started = now
        if self.console.is_terminal:
            self._draw(done, total)
            return
        due = self.last_line is None or now - self.last_line >= self.every
        if due or done >= total:
            self.last_line = now
            self.console.print(self.line(done, total), highlight=False)

    def _draw(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = Bar(
                TextColumn("embedding"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=self.console, transient=True,
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("embed", total=total, rate="")
        elapsed = self.clock() - (self.started or 0)
        rate = f"{done / elapsed:.1f} chunks/s" if elapsed > 0 and done else ""
        self._bar.update(self._task, completed=done, total=total, rate=rate)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Take the bar down (also when indexing stopped half-way)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class ReadProgress(Progress):
    """Gathering progress with the page-by-page read lines folded into one summary (unless verbose)."""

    def __init__(self, console: Console, *, quiet: bool = False, verbose: bool = False) -> None:
        super().__init__(console, quiet=quiet)
        self.verbose = verbose
        self.calls = 0

    def lines(self, event: Event) -> list[str]:
        shown = super().lines(event)
        if isinstance(event, CallEnd):
            self.calls += 1
            if not self.verbose:  # a failed read still says so
                return shown[1:2] if event.message else []
        return shown

    def summary(self) -> str:
        """'read 5,033 documents (4,742,006 tokens) in 212 reads, 14.1 s'."""
        took = time.perf_counter() - self.started
        return f"read {self.files:,} documents ({self.tokens:,} tokens) in {self.calls:,} reads, {took:.1f} s"


def format_plan(plan: Plan) -> list[str]:
    """The lines of `forage index --plan`."""
    n = len(plan.to_embed)
    lines = [
        f"{plan.documents:,} documents, {plan.tokens:,} tokens, {plan.chunks:,} chunks",
        f"to embed: {n:,} chunks (~{plan.embed_tokens:,} tokens) with {plan.graph}"
        + (f"; {plan.cached:,} more are in the cache already" if plan.cached else ""),
    ]
    if plan.skipped.total:
        lines.append(plan.skipped.summary())
    if plan.rate:
        lines.append(
            f"estimated time on this machine: {format_duration(plan.seconds)} "
            f"({plan.rate:.1f} chunks/s measured on {plan.sample} of them just now)"
        )
    elif n:
        lines.append("estimated time: no embedding model, so nothing to embed (BM25 only)")
    graphs = f", plus {plan.models_bytes / 1e6:,.0f} MB of model graphs" if plan.models_bytes else ""
    lines.append(f"disk: about {plan.disk_bytes / 1e6:,.0f} MB (index and embedding cache){graphs}")
    if plan.folders:
        lines.append("biggest folders to embed (chunks, tokens):")
        lines += [f"  {folder:<40} {chunks:>7,}  {tokens:>10,}" for folder, chunks, tokens in plan.folders]
    if plan.skipped_folders:
        lines.append("looks generated, vendored or data (not embedded; --embed-all embeds them):")
        lines += [f"  {folder:<40} {chunks:>7,}  {reason}" for reason, folder, chunks in plan.skipped_folders]
    return lines


def print_plan(out: Console, documents: list[Document], settings: Settings) -> None:
    """Print what `forage index` would do with these documents; store nothing."""
    embedder, _ = choose_embedder(settings)
    for line in format_plan(make_plan(documents, settings, embedder)):
        out.print(escape(line), highlight=False)
