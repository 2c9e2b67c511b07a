"""Aggregate rows into per-(suite, strategy, size) figures, check the suites' gates, compare runs."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from evals.tasks.base import Gate
from evals.tasks.registry import SUITES

Key = tuple[str, str, int]  # suite, strategy, size
STRATEGY_ORDER = ["full", "truncate", "topk", "select", "self"]


def _mean(values: Iterable[float]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return statistics.fmean(vals) if vals else None


def _order(strategy: str) -> int:
    return STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)


def ok_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("error")]


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (suite, strategy, size): means over seeds (latency: median)."""
    groups: dict[Key, list[dict[str, Any]]] = {}
    errors: dict[Key, int] = {}
    for r in rows:
        key = (r["suite"], r["strategy"], int(r["size"]))
        if r.get("error"):
            errors[key] = errors.get(key, 0) + 1
        else:
            groups.setdefault(key, []).append(r)
    out = []
    for key in sorted(set(groups) | set(errors), key=lambda k: (k[0], _order(k[1]), k[1], k[2])):
        rs = groups.get(key, [])
        line: dict[str, Any] = {"suite": key[0], "strategy": key[1], "size": key[2], "n": len(rs)}
        line["errors"] = errors.get(key, 0)
        line["answer_kind"] = rs[0]["answer_kind"] if rs else None
        line["accuracy"] = _mean(r["correct"] for r in rs)
        line["score"] = _mean(r["score"] for r in rs)
        line["evidence"] = _mean(r["evidence"] for r in rs)
        line["tokens_packed"] = _mean(r["tokens_packed"] for r in rs)
        line["tokens_gathered"] = _mean(r["tokens_gathered"] for r in rs)
        line["share_sent"] = _mean(
            r["tokens_packed"] / r["tokens_gathered"] for r in rs if r["tokens_gathered"]
        )
        line["tool_calls"] = _mean(r["tool_calls"] for r in rs)
        line["latency_s"] = statistics.median(r["latency_s"] for r in rs) if rs else None
        for extra in ("source_precision", "source_recall", "cited_precision", "cited_recall"):
            if any(extra in r for r in rs):
                line[extra] = _mean(r.get(extra) for r in rs)
        out.append(line)
    return out


@dataclass
class GateResult:
    suite: str
    gate: Gate
    value: float | None  # None: no row the gate applies to
    n: int

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.value >= self.gate.at_least

    def describe(self) -> str:
        if self.value is None:
            return f"{self.suite}: {self.gate.describe()}: not checked (no such case in this run)"
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict} {self.suite}: {self.gate.describe()}: {self.value:.3f} over {self.n} case(s)"


def check_gates(rows: Sequence[dict[str, Any]]) -> list[GateResult]:
    """Every gate of every suite present in the rows."""
    good = ok_rows(rows)
    results = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        for gate in SUITES[suite].gates if suite in SUITES else ():
            rs = [
                r
                for r in good
                if r["suite"] == suite
                and r["strategy"] == gate.strategy
                and (r.get("over_budget") or not gate.over_budget)
                and gate.metric in r
            ]
            rs = [r for r in rs if r[gate.metric] is not None]  # None: reported, not gated
            value = _mean(r[gate.metric] for r in rs)
            results.append(GateResult(suite, gate, value, len(rs)))
    return results


def compare(new: Sequence[dict[str, Any]], old: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (suite, strategy, size) present in both runs: the old and new figures and the change."""
    before = {(s["suite"], s["strategy"], s["size"]): s for s in old}
    out = []
    for s in new:
        o = before.get((s["suite"], s["strategy"], s["size"]))
        if o is None:
            continue
        line = {"suite": s["suite"], "strategy": s["strategy"], "size": s["size"]}
        for metric in ("accuracy", "evidence", "tokens_packed", "latency_s"):
            a, b = o.get(metric), s.get(metric)
            line[metric] = (a, b, None if a is None or b is None else b - a)
        out.append(line)
    return out
