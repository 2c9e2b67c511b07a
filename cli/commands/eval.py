"""`forage eval`: scripted evaluation runs (list, run, report, perf).

Exit codes: 0 ok · 1 bad input, or a gate failed under --check · 2 usage · 3 some cases failed
(they are recorded and re-run next time) · 130 interrupted (a re-run resumes).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.errors import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_USER, err, fail, map_errors, warn

DEFAULT_STRATEGIES = "full,truncate,topk,select,self"

app = typer.Typer(
    help="Scripted evaluation runs: long-context and retrieval suites, reports, benchmarks.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # a file or a pipe: wide enough that the tables do not wrap
    out = Console(highlight=False, soft_wrap=True, width=200)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@app.command("list")
def list_suites() -> None:
    """Name every suite, with a one-line description and a worked example."""
    from evals.suite.strategies import DESCRIPTIONS
    from evals.tasks.registry import SUITES

    for suite in SUITES.values():
        out.print(f"[bold]{suite.name}[/]  {escape(suite.description)}")
        out.print(f"    e.g. {escape(suite.example)}")
        for gate in suite.gates:
            out.print(f"    gate: {escape(gate.describe())}", style="dim")
    out.print("\n[bold]strategies[/] (--strategies, default all five):")
    for name, text in DESCRIPTIONS.items():
        out.print(f"  {name:9} {escape(text)}")
    out.print("\n`all` runs every generated suite; codeqa needs --repo and --questions, history --repo.")


def _rich(data: Any) -> Table:
    """An evals.suite.report.Table as a rich table for the terminal."""
    table = Table(title=escape(data.title), title_justify="left")
    for h in data.headers:
        table.add_column(escape(h))
    for row in data.rows:
        table.add_row(*(escape(c) for c in row))  # cells hold found text: "[tool_call]" is not markup
    return table


def _print_results(rows: list[dict[str, Any]]) -> list[Any]:
    from evals.suite.report import OWN_TABLES, detail_table, history_table, safety_table, summary_table
    from evals.suite.summary import check_gates, summarize

    summary = summarize(rows)
    if any(s["suite"] not in OWN_TABLES for s in summary):
        out.print(_rich(summary_table(summary)))
    if any(s["suite"] == "codeqa" for s in summary):
        out.print(_rich(detail_table(summary, "codeqa")))
    if any(s["suite"] == "safety" for s in summary):
        out.print(_rich(safety_table(rows)))
    if any(s["suite"] == "history" for s in summary):
        out.print(_rich(history_table(rows)))
    gates = check_gates(rows)
    for g in gates:
        colour = {True: "green", False: "red", None: "yellow"}[g.passed]
        out.print(f"[{colour}]{escape(g.describe())}[/]")
    return gates


@app.command()
def run(
    suites: Annotated[list[str], typer.Argument(help="Suites to run (see `forage eval list`), or `all`.")],
    strategies: Annotated[
        str, typer.Option("--strategies", help="Comma-separated: full,truncate,topk,select,self.")
    ] = DEFAULT_STRATEGIES,
    sizes: Annotated[
        str | None,
        typer.Option("--sizes", help="Corpus sizes in tokens, e.g. 8k,32k,128k,1m (codeqa: pack budgets)."),
    ] = None,
    window: Annotated[str, typer.Option("--window", help="Model window in tokens, e.g. 16k.")] = "16k",
    reserve: Annotated[
        str | None,
        typer.Option(
            "--reserve",
            help="Tokens kept free for the answer (default: a quarter of the window, at most 8k).",
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option("--model", help="extractive (offline) or a Gemini model name (needs GEMINI_API_KEY)."),
    ] = "extractive",
    seeds: Annotated[
        int | None, typer.Option("--seeds", min=1, help="Cases per suite and size (seeds 0..K-1).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run folder (re-running into it resumes). Default: runs/eval-TIME."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: sizes 8k,32k, one seed, five codeqa questions.")
    ] = False,
    haystack: Annotated[
        str, typer.Option("--haystack", help="stdlib (Python's own docs, PSF licence) or generated.")
    ] = "stdlib",
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo", help="codeqa: the repository the questions are about; history: any git repository."
        ),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option("--questions", help="codeqa: JSONL of {question, answer} or {question, files}."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, help="codeqa: use only the first N questions; history: commits sampled (30)."
        ),
    ] = None,
    budgets: Annotated[
        str | None, typer.Option("--budgets", help="history: pack budgets, e.g. 4k,8k,16k (the default).")
    ] = None,
    max_files: Annotated[
        int | None,
        typer.Option(
            "--max-files", min=1, help="history: skip commits touching more source files (default 8)."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="history: which commits are sampled (0).")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a suite's gate fails.")] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write the report when done.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run suites x sizes x seeds x strategies through the agent; one JSONL row per case.

    Example: forage eval run niah-multikey variable-tracking --sizes 8k,32k,128k --window 16k --seeds 3 --out runs/base
    """
    from agent.settings import Settings
    from evals.suite.runner import EvalError, Plan, parse_size
    from evals.suite.strategies import STRATEGIES
    from evals.tasks.haystack import HAYSTACKS
    from evals.tasks.registry import expand

    with map_errors({ValueError: EXIT_USAGE, EvalError: EXIT_USAGE}):
        names = expand(suites)
        win = parse_size(window)
        size_list = [parse_size(s) for s in _split(sizes or ("8k,32k" if quick else "8k,32k,128k"))]
        res = parse_size(reserve) if reserve else Settings().reserve_for(win)
    unknown = [s for s in _split(strategies) if s not in STRATEGIES]
    if unknown or not _split(strategies):
        raise fail(
            f"unknown strategy {(unknown or [''])[0]!r}; choose from {', '.join(STRATEGIES)}", EXIT_USAGE
        )
    if haystack not in HAYSTACKS:
        raise fail(f"--haystack {haystack!r}: choose {' or '.join(HAYSTACKS)}", EXIT_USAGE)
    if res >= win:
        raise fail(f"--reserve {res} leaves no room in a {win}-token window", EXIT_USAGE)
    plan = Plan(
        suites=names, strategies=_split(strategies), sizes=size_list, seeds=seeds or (1 if quick else 3),
        window=win, reserve=res, model=model, haystack=haystack,
        options={k: v for k, v in {"repo": repo, "questions": questions, "limit": limit or (5 if quick else None), "quick": quick, "budgets": budgets, "max_files": max_files, "seed": seed}.items() if v is not None and v is not False},
    )  # fmt: skip
    folder = out_dir or Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S")
    rows = _run_plan(plan, folder, quiet=quiet)
    gates = _print_results(rows)
    if report:
        _write_report(folder, None, None)
    else:
        err.print(f"rows in {folder / 'results.jsonl'}; `forage eval report {folder}` writes the report")
    errors = [r for r in rows if r.get("error")]
    if errors:
        err.print(f"[yellow]{len(errors)} case(s) failed; re-run the same command to retry them.[/]")
    if check and any(g.passed is False for g in gates):
        raise typer.Exit(EXIT_USER)
    raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def _run_plan(plan: Any, folder: Path, *, quiet: bool) -> list[dict[str, Any]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agent.events import Notice
    from agent.models import make_model
    from agent.models.base import closing
    from agent.settings import load_settings
    from cli.render import format_notice
    from evals.suite.events import EvalEvent, Planned, RowWritten, Running
    from evals.suite.runner import EvalError, run_plan, show_size

    with map_errors():
        settings = load_settings({"model": plan.model, "window": plan.window})
        model, _ = make_model(settings)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=quiet, transient=False,
    )  # fmt: skip
    task = bar.add_task("eval", total=None)

    def on_event(event: EvalEvent) -> None:
        match event:
            case Planned(total=total, skipped=skipped):
                bar.update(task, total=total)
                if skipped:
                    err.print(f"resuming {folder}: {skipped} finished case(s) skipped")
            case Running(suite=suite, size=size, seed=seed, strategy=strategy):
                bar.update(task, description=f"{suite} {show_size(size)} seed {seed} {strategy}")
            case Notice(text=text):
                bar.console.print(format_notice(text))
            case RowWritten(row=row):
                if row.get("error"):
                    bar.console.print(
                        f"[red]failed:[/] {row['suite']} {show_size(row['size'])} seed {row['seed']} "
                        f"{row['strategy']}: {escape(row['error'])}"
                    )
                bar.advance(task)

    interrupted = f"Interrupted. Finished cases are saved; re-run with --out {folder} to resume."
    with closing(model, warn), map_errors({EvalError: EXIT_USER}, interrupted=interrupted), bar:
        return asyncio.run(run_plan(plan, folder, settings, model, on_event=on_event))


def _write_report(folder: Path, compare_to: Path | None, target: Path | None) -> None:
    from evals.suite.report import write_report

    with map_errors({FileNotFoundError: EXIT_USER}):
        paths = write_report(folder, compare_to=compare_to, out=target)
    err.print(f"report: {paths['markdown']}, {paths['html']} (plots in {paths['plots']})")


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `forage eval run --out`.")],
    compare_to: Annotated[
        Path | None, typer.Option("--compare", help="An earlier run folder: show what changed.")
    ] = None,
    target: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: the run folder).")
    ] = None,
) -> None:
    """Write report.md, plots/*.png and a self-contained report.html for a run."""
    from evals.suite.runner import read_rows

    if not run_dir.is_dir():
        raise fail(f"{run_dir}: no such run folder")
    rows = read_rows(run_dir)
    if rows:
        _print_results(rows)
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    _write_report(run_dir, compare_to, target)


@app.command("perf")
def perf(
    runs: Annotated[
        int, typer.Option("--runs", min=1, help="Runs of each benchmark (the table shows medians).")
    ] = 3,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller corpora: minutes instead of tens of minutes.")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Comma-separated: web,pdf,retrieval,pack,safety.")
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo", help="A real repository: forage pack against Repomix, and the cost of redaction."
        ),
    ] = None,
    as_json: Annotated[Path | None, typer.Option("--json", help="Also write the table as JSON here.")] = None,
) -> None:
    """Run the evals/perf benchmarks; one table of ratios against in-run baselines (medians)."""
    from evals.perf.table import load_average, run_perf

    err.print(f"machine load before: {load_average()}")
    with map_errors({ValueError: EXIT_USAGE}):
        lines = run_perf(
            runs=runs, quick=quick, only=_split(only) if only else None, repo=repo,
            on_event=lambda event: err.print(f"[dim]running {event.bench} ({event.run}/{event.runs})[/]"),
        )  # fmt: skip
    table = Table(title="Benchmarks: medians against in-run baselines", title_justify="left")
    for h in ("bench", "measures", "against", "median", "range", "runs", "target", ""):
        table.add_column(h)
    for line in lines:
        fmt = _fmt_unit(line["unit"])
        verdict = {True: "[green]ok[/]", False: "[red]miss[/]", None: ""}[line["passed"]]
        median = fmt(line["median"]) if line["median"] is not None else escape(line["error"] or "-")
        spread = f"{fmt(line['min'])}-{fmt(line['max'])}" if line["runs"] > 1 else ""
        table.add_row(
            line["bench"],
            line["figure"],
            line["baseline"],
            median,
            spread,
            str(line["runs"]),
            line["target"] or "(none set)",
            verdict,
        )
    out.print(table)
    err.print(f"machine load after: {load_average()}")
    if as_json:
        as_json.write_text(json.dumps(lines, indent=1) + "\n", encoding="utf-8")
    failed = any(line["error"] and not line["error"].startswith("skipped") for line in lines)
    raise typer.Exit(EXIT_PARTIAL if failed else EXIT_OK)


def _fmt_unit(unit: str) -> Any:
    return {
        "x": lambda v: f"{v:.2f}x",
        "s": lambda v: f"{v:.3f}s",
        "ms": lambda v: f"{v:.0f}ms",
        "share": lambda v: f"{v:.3f}",
    }[unit]
