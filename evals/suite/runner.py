"""Run suites x sizes x seeds x strategies through the agent; one JSONL row per finished case.

A run lives in one folder:
  run.json        what was asked (window, reserve, model, haystack, suite options)
  results.jsonl   one row per (suite, size, strategy, seed); appended as each finishes
  cases/          the generated cases (files, pages, PDFs and case.json), reused on re-runs
  data/           the agent's data dir for the run (embedding cache, Chroma index, server logs)
Re-running into the same folder skips every finished row, so a killed run resumes; a row that
ended in an error is run again.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.events import Notice, ignore
from agent.models.base import ChatModel
from agent.settings import Settings
from evals.suite import scoring
from evals.suite.events import EvalSink, Generating, Planned, RowWritten, Running
from evals.suite.site import StaticSite
from evals.suite.strategies import EMBEDDING_STRATEGIES, STRATEGIES, Outcome, Strategy, Trial, warm_index
from evals.tasks import codeqa as codeqa_suite
from evals.tasks.base import SITE, BuildContext, Case
from evals.tasks.haystack import LICENCE_NOTE, licence_file
from evals.tasks.registry import SUITES

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


class EvalError(Exception):
    """A run cannot start or go on: the message says what to change."""


def parse_size(text: str) -> int:
    """'8k' -> 8192, '1m' -> 1048576, '5000' -> 5000."""
    m = _SIZE.match(text)
    if not m:
        raise EvalError(f"{text!r} is not a size; write tokens like 8k, 32k, 128k, 1m or 5000")
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def show_size(n: int) -> str:
    for unit, scale in (("m", 1024 * 1024), ("k", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


@dataclass
class Plan:
    """What to run."""

    suites: list[str]
    strategies: list[str]
    sizes: list[int]
    seeds: int
    window: int
    reserve: int
    model: str
    haystack: str = "stdlib"
    options: dict[str, Any] = field(default_factory=dict)  # codeqa, history: repo, questions, limit, ...

    def fingerprint(self) -> dict[str, Any]:
        """What must match for rows of an earlier run to count as this run's."""
        return {
            "window": self.window,
            "reserve": self.reserve,
            "model": self.model,
            "haystack": self.haystack,
        }


def row_key(row: dict[str, Any]) -> tuple[str, int, str, int]:
    return (row["suite"], int(row["size"]), row["strategy"], int(row["seed"]))


def read_rows(out: Path) -> list[dict[str, Any]]:
    """Every row of a run folder; for a key given twice, the last one wins."""
    path = out / "results.jsonl"
    if not path.is_file():
        return []
    rows: dict[tuple[str, int, str, int], dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            print(f"warning: {path}:{n} is not JSON (a killed write?); ignored", file=sys.stderr)
            continue
        rows[row_key(row)] = row
    return list(rows.values())


def _check_folder(out: Path, plan: Plan) -> None:
    meta = out / "run.json"
    if meta.is_file():
        earlier = json.loads(meta.read_text(encoding="utf-8"))
        diff = {k: (earlier.get(k), v) for k, v in plan.fingerprint().items() if earlier.get(k) != v}
        if diff:
            said = ", ".join(f"{k} {old!r} (now {new!r})" for k, (old, new) in diff.items())
            raise EvalError(
                f"{out} holds a run made with {said}; its rows would not be comparable. "
                "Use another --out, or the same settings to resume it."
            )
        options = {**earlier.get("options", {}), **_jsonable(plan.options)}
    else:
        options = _jsonable(plan.options)
    out.mkdir(parents=True, exist_ok=True)
    info = {
        **plan.fingerprint(), "options": options, "python": sys.version.split()[0],
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    meta.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}


def _case(suite_name: str, size: int, seed: int, out: Path, ctx: BuildContext) -> tuple[Case, Path]:
    folder = out / "cases" / suite_name / str(size) / str(seed)
    if (folder / "case.json").is_file():
        return Case.load(folder), folder
    if folder.exists():
        shutil.rmtree(folder)  # a build that was interrupted: start it again
    folder.mkdir(parents=True)
    case = SUITES[suite_name].build(size, seed, folder, ctx)
    case.save(folder)
    return case, folder


def resolve_specs(case: Case, folder: Path, out: Path, site: StaticSite | None) -> list[str]:
    specs = []
    for spec in case.sources:
        if spec.startswith(SITE):
            if site is None:
                raise EvalError(f"{case.suite} needs the loopback web site, which was not started")
            rel = folder.relative_to(out / "cases").as_posix()
            specs.append(f"{site.base}/{rel}{spec[len(SITE) :]}")
        else:
            path = Path(spec)
            specs.append(str(path if path.is_absolute() else folder / path))
    return specs


def score(case: Case, outcome: Outcome) -> dict[str, Any]:
    """The scored part of a row: correctness, evidence, per-needle detail, source precision/recall."""
    pack = outcome.pack
    pack_text = pack.prefix if pack else ""
    out: dict[str, Any] = {}
    if case.kind == "files":
        packed = list(dict.fromkeys(b.uri.split("#", 1)[0] for b in (pack.manifest if pack else [])))
        out["evidence"] = codeqa_suite.file_recall(packed, case)
        out["score"] = codeqa_suite.file_recall(list(dict.fromkeys(outcome.cited)), case)
        out["correct"] = out["score"] == 1.0
        return out
    correct, value = scoring.answer_score(case, outcome.answer, extractive=outcome.extractive)
    out |= {
        "correct": correct,
        "score": round(value, 4),
        "evidence": round(scoring.evidence_score(case, pack_text), 4),
    }
    found = scoring.evidence_found(pack_text, [n.text for n in case.needles])
    out["needles"] = [
        {"depth": n.depth, "in_pack": hit, "in_answer": scoring.contains(outcome.answer, n.value)}
        for n, hit in zip(case.needles, found, strict=True)
    ]
    if case.relevant:
        packed = {scoring.source_of(b.uri, case.sources) for b in (pack.manifest if pack else [])} - {None}
        cited = {scoring.source_of(u, case.sources) for u in outcome.cited} - {None}
        p, r = scoring.precision_recall(packed, case.relevant)  # type: ignore[arg-type]
        cp, cr = scoring.precision_recall(cited, case.relevant)  # type: ignore[arg-type]
        out |= {"source_precision": round(p, 4), "source_recall": round(r, 4)}
        out |= {"cited_precision": round(cp, 4), "cited_recall": round(cr, 4), "sources": len(case.sources)}
    return out


def make_row(case: Case, strategy: str, outcome: Outcome, trial: Trial, model_name: str) -> dict[str, Any]:
    usage = outcome.usage
    pack = outcome.pack
    row: dict[str, Any] = {
        "suite": case.suite, "size": case.size, "strategy": strategy, "seed": case.seed,
        "window": trial.settings.window, "budget": trial.budget, "model": model_name,
        "answer_kind": "extractive" if outcome.extractive else "generated",
        "corpus_tokens": case.corpus_tokens, "tokens_gathered": outcome.gathered_tokens,
        "tokens_packed": pack.tokens if pack else 0, "tokens_prompt": usage.prompt_tokens,
        "tokens_cached": usage.cached_tokens, "tokens_output": usage.output_tokens,
        "cost_usd": usage.cost_usd, "tool_calls": outcome.tool_calls, "latency_s": round(outcome.seconds, 3),
        "route": outcome.route, "over_budget": outcome.gathered_tokens > trial.budget,
        "failures": outcome.failures, "error": None,
    }  # fmt: skip
    row |= score(case, outcome)
    return row


def error_row(case: Case, strategy: str, trial: Trial, model_name: str, error: str) -> dict[str, Any]:
    return {
        "suite": case.suite, "size": case.size, "strategy": strategy, "seed": case.seed,
        "window": trial.settings.window, "budget": trial.budget, "model": model_name, "error": error,
    }  # fmt: skip


async def run_plan(
    plan: Plan,
    out: Path,
    settings: Settings,
    model: ChatModel,
    *,
    on_event: EvalSink | None = None,
    strategies: dict[str, Strategy] | None = None,
) -> list[dict[str, Any]]:
    """Run every case of the plan not finished in `out` yet; return all rows of the folder."""
    emit = on_event or ignore
    table = strategies or STRATEGIES
    unknown = [s for s in plan.strategies if s not in table]
    if unknown:
        raise EvalError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(table)}")
    for name in plan.suites:
        suite = SUITES.get(name)
        if suite is None:
            raise EvalError(f"unknown suite {name!r}; `forage eval list` names them")
        if not suite.available:
            raise EvalError(suite.unavailable_reason)
    _check_folder(out, plan)
    ctx = BuildContext(haystack=plan.haystack, cache_dir=out / "data", options=dict(plan.options))
    if plan.haystack == "stdlib" and (licence := licence_file()) is not None:
        target = out / "HAYSTACK-LICENCE.txt"
        if not target.exists():
            note = LICENCE_NOTE.format(version=sys.version.split()[0], licence=target.name)
            target.write_text(note + "\n\n" + licence.read_text(encoding="utf-8", errors="replace"))
    done = {row_key(r) for r in read_rows(out) if not r.get("error")}
    work: list[tuple[str, int, int]] = []
    own = [n for n in plan.suites if SUITES[n].own_rows and not any(k[0] == n for k in done)]
    for name in plan.suites:
        if SUITES[name].own_rows:
            continue
        try:
            pairs = SUITES[name].cases(plan.sizes, plan.seeds, ctx)
        except (RuntimeError, ValueError, OSError) as exc:
            raise EvalError(f"{name}: {exc}") from exc
        work += [(name, size, seed) for size, seed in pairs]
    todo = sum(1 for w in work for s in plan.strategies if (w[0], w[1], s, w[2]) not in done)
    skipped = (
        len(work) * len(plan.strategies) - todo + sum(SUITES[n].own_rows for n in plan.suites) - len(own)
    )
    emit(Planned(total=todo + len(own), skipped=skipped))
    base = settings.model_copy(
        update={"window": plan.window, "reserve": plan.reserve, "data_dir": out / "data", "model": plan.model}
    )
    needs_web = any("web" in SUITES[n].needs for n in plan.suites)
    if needs_web:
        base = base.model_copy(update={"allow_hosts": sorted({*base.allow_hosts, "127.0.0.1"})})
    site = StaticSite(out / "cases") if needs_web else None
    results = out / "results.jsonl"
    try:
        if site is not None:
            site.__enter__()
        with results.open("a", encoding="utf-8") as sink:
            for name in own:
                emit(Running(suite=name, size=0, seed=0, strategy="(its own cases)"))
                ctx.progress = lambda what, name=name: emit(
                    Running(suite=name, size=0, seed=0, strategy=what)
                )
                try:
                    own_rows = await asyncio.to_thread(SUITES[name].rows, ctx)
                except (RuntimeError, ValueError, OSError) as exc:
                    raise EvalError(f"{name}: {exc}") from exc
                for row in own_rows:
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()
                emit(RowWritten(row={"suite": name, "error": None}))
            for name, size, seed in work:
                pending = [s for s in plan.strategies if (name, size, s, seed) not in done]
                if not pending:
                    continue
                emit(Generating(suite=name, size=size, seed=seed))
                try:
                    case, folder = _case(name, size, seed, out, ctx)
                except (RuntimeError, ValueError, OSError) as exc:
                    raise EvalError(
                        f"{name} (size {size}, seed {seed}) could not be generated: {exc}"
                    ) from exc
                overrides = SUITES[name].settings_for(case, plan.window, plan.reserve)
                trial = Trial(
                    case, resolve_specs(case, folder, out, site), base.model_copy(update=overrides), model
                )
                index_s = None
                if EMBEDDING_STRATEGIES & set(pending):
                    emit(Running(suite=name, size=size, seed=seed, strategy="(indexing)"))
                    try:
                        index_s = round(await warm_index(trial), 3)
                    except Exception as exc:  # noqa: BLE001 - the strategies report it themselves, row by row
                        emit(Notice(text=f"{name} {size} {seed}: indexing ahead failed: {exc}"))
                for strategy in pending:
                    emit(Running(suite=name, size=size, seed=seed, strategy=strategy))
                    try:
                        outcome = await table[strategy](trial)
                        row = make_row(case, strategy, outcome, trial, plan.model) | {"index_s": index_s}
                    except Exception as exc:  # noqa: BLE001 - one case's failure is recorded and re-run later; the run goes on
                        row = error_row(case, strategy, trial, plan.model, f"{type(exc).__name__}: {exc}")
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    sink.flush()
                    emit(RowWritten(row=row))
    finally:
        if site is not None:
            site.__exit__(None, None, None)
    return read_rows(out)
