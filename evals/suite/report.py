"""`forage eval report RUN`: report.md, plots/*.png and one self-contained report.html.

The markdown and the HTML show the same tables (built once, rendered twice); the HTML embeds
its plots as data: URIs, so the one file can be mailed or attached to a CI run.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.suite import plots
from evals.suite.runner import read_rows, show_size
from evals.suite.strategies import describe
from evals.suite.summary import GateResult, check_gates, compare, summarize


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    def markdown(self) -> str:
        out = [f"### {self.title}", ""]
        if self.note:
            out += [self.note, ""]
        out.append("| " + " | ".join(self.headers) + " |")
        out.append("|" + "---|" * len(self.headers))
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.rows]
        return "\n".join(out) + "\n"

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows
        )
        note = f"<p class='note'>{html.escape(self.note)}</p>" if self.note else ""
        return f"<h3>{html.escape(self.title)}</h3>{note}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def tok(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def secs(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}s"


def signed(v: float | None, fmt: str) -> str:
    if v is None:
        return "-"
    return ("+" if v > 0 else "") + (
        f"{100 * v:.0f} pts" if fmt == "pct" else tok(v) if fmt == "tok" else f"{v:.2f}s"
    )


def summary_table(summary: list[dict[str, Any]]) -> Table:
    """The one table to read first: accuracy and evidence recall per suite, strategy and size."""
    summary = [s for s in summary if s["suite"] not in OWN_TABLES]
    sizes = sorted({s["size"] for s in summary})
    table = Table(
        "Summary: accuracy / evidence recall in the pack / tokens sent (mean per case)",
        ["suite", "strategy", *[show_size(n) for n in sizes]],
    )
    cells = {(s["suite"], s["strategy"], s["size"]): s for s in summary}
    for suite, strategy in dict.fromkeys(
        (s["suite"], s["strategy"]) for s in summary if s["suite"] != "codeqa"
    ):
        row = [suite, strategy]
        for n in sizes:
            s = cells.get((suite, strategy, n))
            row.append(
                ""
                if s is None
                else f"{pct(s['accuracy'])} / {pct(s['evidence'])} / {tok(s['tokens_packed'])}"
            )
        table.rows.append(row)
    return table


def detail_table(summary: list[dict[str, Any]], suite: str) -> Table:
    lines = [s for s in summary if s["suite"] == suite]
    extra = [
        k for k in ("source_precision", "source_recall", "cited_precision", "cited_recall") if k in lines[0]
    ]
    size_name = "budget" if suite == "codeqa" else "size"
    table = Table(
        suite,
        ["strategy", size_name, "cases", "accuracy", "score", "evidence", "tokens sent", "share sent",
         "tool calls", "latency (median)", *[e.replace("_", " ") for e in extra], "errors"],
    )  # fmt: skip
    for s in lines:
        table.rows.append(
            [s["strategy"], show_size(s["size"]), str(s["n"]), pct(s["accuracy"]), pct(s["score"]),
             pct(s["evidence"]), tok(s["tokens_packed"]), pct(s["share_sent"]),
             "-" if s["tool_calls"] is None else f"{s['tool_calls']:.1f}", secs(s["latency_s"]),
             *[pct(s.get(e)) for e in extra], str(s["errors"])]
        )  # fmt: skip
    if suite == "codeqa":
        table.note = "evidence: file recall of the cited files in the pack; score: file recall of the answer's citations."
    return table


OWN_TABLES = ("codeqa", "history", "safety", "faults")  # suites shown in their own table, not by corpus size


def history_table(rows: list[dict[str, Any]]) -> Table:
    """The history suite as codeqa's check reports it: file recall per budget, any fidelity and in full, vs BM25."""
    from evals.checks.codeqa import budget_summary

    mine = [r for r in rows if r["suite"] == "history" and r["strategy"] == "forage" and not r.get("error")]
    table = Table(
        "history (evals/checks/history.py): file recall of the files each commit changed, in its parent's tree",
        ["budget", "commits", "forage (any fidelity)", "in full", "+outline", "bm25-60", "s/pack (median)"],
    )
    for budget in sorted({int(r["size"]) for r in mine}):
        s = budget_summary([r for r in mine if int(r["size"]) == budget])
        table.rows.append(
            [show_size(budget), str(len(s["rows"])), *(f"{s[k]['file_recall']:.3f}" for k in _RECALLS),
             f"{s['pack_seconds_median']:.2f}"]
        )  # fmt: skip
    table.note = (
        "Pooled over the gold files (each commit's changed source files): any fidelity counts a 3-line excerpt, "
        "in full only a block at fidelity full; bm25-60 is plain BM25 over 60-line chunks filled to the same budget. "
        "Per-commit rows (sha, question, gold, missed) are in results.jsonl."
    )
    return table


_RECALLS = ("forage", "forage_full", "forage_with_outlines", "bm25_60_lines")


def safety_table(rows: list[dict[str, Any]]) -> Table:
    """The safety suite: attacks blocked per group (and which were not), false positives on clean material."""
    table = Table("safety (evals/checks/safety.py)", ["kind", "group", "result", "detail"])
    attacks = [r for r in rows if r["suite"] == "safety" and r["strategy"] == "guards" and not r.get("error")]
    for group in dict.fromkeys(r["group"] for r in attacks):
        mine = [r for r in attacks if r["group"] == group]
        missed = [f"NOT BLOCKED: {r['name']} {r.get('detail', '')}".strip() for r in mine if not r["correct"]]
        table.rows.append(
            ["attacks", group, f"{sum(r['correct'] for r in mine)}/{len(mine)} blocked", "; ".join(missed)]
        )
    blocked = sum(r["correct"] for r in attacks)
    table.rows.append(["attacks", "total", f"{blocked}/{len(attacks)} blocked (must be 100%)", ""])
    for r in (r for r in rows if r["suite"] == "safety" and r["strategy"] == "clean"):
        figures = ", ".join(f"{k} {v}" for k, v in (r.get("figures") or {}).items())
        verdict = {True: "ok", False: "FALSE POSITIVES", None: "reported, not gated"}[r["correct"]]
        table.rows.append(["clean", r["group"], verdict, "; ".join([figures, *r.get("examples", [])])])
    return table


def faults_table(rows: list[dict[str, Any]]) -> Table:
    """The faults suite: each injected fault, the surface it hit, what the user saw, and what was kept."""
    table = Table("faults (evals/checks/faults/)", ["fault", "surface", "outcome", "data kept"])
    for r in sorted((r for r in rows if r["suite"] == "faults"), key=lambda r: (r["surface"], r["fault"])):
        code = "" if r.get("exit_code") is None else f"exit {r['exit_code']}: "
        verdict = "ok" if r["correct"] else f"FAILED ({(r.get('detail') or '').splitlines()[0][:200]})"
        line = (r.get("message") or "").replace("|", "/")[:160]
        table.rows.append([r["fault"], r["surface"], f"{verdict} · {code}{line}", r.get("data_kept", "")])
    return table


OWN_TABLE_OF = {"safety": safety_table, "history": history_table, "faults": faults_table}


def gate_table(gates: list[GateResult]) -> Table:
    table = Table("Gates", ["", "suite", "gate", "value", "cases"])
    for g in gates:
        verdict = {True: "PASS", False: "FAIL", None: "not checked"}[g.passed]
        value = "-" if g.value is None else f"{g.value:.3f}"
        table.rows.append([verdict, g.suite, g.gate.describe(), value, str(g.n)])
    return table


def compare_table(changes: list[dict[str, Any]], old: Path) -> Table:
    table = Table(
        f"Compared with {old}",
        ["suite", "strategy", "size", "accuracy (old -> new)", "change", "evidence (old -> new)", "change",
         "tokens sent change", "latency change"],
    )  # fmt: skip
    for c in changes:
        acc, ev, toks, lat = c["accuracy"], c["evidence"], c["tokens_packed"], c["latency_s"]
        table.rows.append(
            [c["suite"], c["strategy"], show_size(c["size"]), f"{pct(acc[0])} -> {pct(acc[1])}", signed(acc[2], "pct"),
             f"{pct(ev[0])} -> {pct(ev[1])}", signed(ev[2], "pct"), signed(toks[2], "tok"), signed(lat[2], "s")]
        )  # fmt: skip
    return table


def error_table(rows: list[dict[str, Any]]) -> Table | None:
    bad = [r for r in rows if r.get("error")]
    if not bad:
        return None
    table = Table(
        "Cases that failed (a re-run tries them again)", ["suite", "size", "strategy", "seed", "error"]
    )
    for r in bad:
        table.rows.append(
            [r["suite"], show_size(int(r["size"])), r["strategy"], str(r["seed"]), r["error"][:300]]
        )
    return table


def _intro(run: Path, meta: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    kinds = sorted({r.get("answer_kind") for r in rows if r.get("answer_kind")})
    budget = next((r["budget"] for r in rows if r.get("budget") and r["suite"] != "codeqa"), None)
    lines = [
        f"Run folder: `{run}`. Model: {meta.get('model', '?')}; window {meta.get('window', '?')} tokens, "
        f"reserve {meta.get('reserve', '?')}, so a pack budget of {budget if budget else '?'} tokens. "
        f"Haystack: {meta.get('haystack', '?')}. Python {meta.get('python', '?')}. "
        f"{len(rows)} rows.",
    ]
    if "extractive" in kinds:
        lines.append(
            "Answers are extractive (the offline model quotes passages): accuracy is the share of cases "
            "whose quoted passages hold every answer value. It is not the accuracy of a generated answer."
        )
    if "generated" in kinds:
        lines.append(
            "Generated answers count as correct when they give every answer value and no distractor's value."
        )
    lines.append(
        "Evidence: the share of the planted evidence found verbatim in the pack (aggregation: the share of "
        "the true top words that the pack's own counts rank on top; codeqa: file recall)."
    )
    lines.append(
        "Latency is the wall time of one strategy on one case, MCP server start-up included, with the "
        "case's corpus already indexed (as after `forage index`); the one-time indexing is index_s in "
        "results.jsonl."
    )
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    lines.append("Strategies: " + "; ".join(f"{s}: {describe(s)}" for s in strategies) + ".")
    if (run / "HAYSTACK-LICENCE.txt").is_file():
        lines.append("Haystack text is Python documentation under the PSF licence: see HAYSTACK-LICENCE.txt.")
    return lines


def write_report(run: Path, *, compare_to: Path | None = None, out: Path | None = None) -> dict[str, Path]:
    """Write report.md, report.html and plots/ for a run folder; return their paths."""
    rows = read_rows(run)
    if not rows:
        raise FileNotFoundError(
            f"{run} holds no results.jsonl rows; run `forage eval run ... --out {run}` first"
        )
    out = out or run
    meta_path = run / "run.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    summary = summarize(rows)
    gates = check_gates(rows)
    tables = [summary_table(summary), gate_table(gates)]
    changes = None
    if compare_to is not None:
        old_rows = read_rows(compare_to)
        if not old_rows:
            raise FileNotFoundError(f"--compare {compare_to}: no results.jsonl rows there")
        changes = compare_table(compare(summary, summarize(old_rows)), compare_to)
    details = [
        OWN_TABLE_OF[s](rows) if s in OWN_TABLE_OF else detail_table(summary, s)
        for s in dict.fromkeys(x["suite"] for x in summary)
    ]
    errors = error_table(rows)
    pictures = plots.all_plots(rows, summary, out / "plots")
    intro = _intro(run, meta, rows)

    md = ["# forage eval report", "", *[line + "\n" for line in intro]]
    md += [tables[0].markdown(), tables[1].markdown()]
    if changes:
        md.append(changes.markdown())
    md += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})\n" for p in pictures]
    md += ["## Details", ""] + [t.markdown() for t in details]
    if errors:
        md.append(errors.markdown())
    md_path = out / "report.md"
    md_path.write_text("\n".join(md), encoding="utf-8")

    images = "".join(
        f"<figure><img alt='{html.escape(p.stem)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'><figcaption>{html.escape(p.stem)}</figcaption></figure>"
        for p in pictures
    )
    parts = [tables[0].html(), tables[1].html(), changes.html() if changes else "", "<h2>Plots</h2>", images]
    parts += ["<h2>Details</h2>", *[t.html() for t in details], errors.html() if errors else ""]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>forage eval report</title>"
        f"<style>{_CSS}</style></head><body><h1>forage eval report</h1>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in intro)
        + "".join(parts)
        + "</body></html>\n"
    )
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return {"markdown": md_path, "html": html_path, "plots": out / "plots"}


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
figure { display: inline-block; margin: 0 1em 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 12px; color: #666; } .note { color: #555; font-size: 13px; }
"""
