"""PNG plots of a run (matplotlib, no display): accuracy and evidence by size, cost, needle depth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.suite.summary import STRATEGY_ORDER, ok_rows

MARKERS = {"full": "o", "truncate": "s", "topk": "v", "select": "D", "self": "^"}
COLOURS = {
    "full": "#4c72b0",
    "truncate": "#dd8452",
    "topk": "#8172b3",
    "select": "#55a868",
    "self": "#c44e52",
}
DEPTH_BINS = 10


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    return plt


def _strategies(summary: Sequence[dict[str, Any]]) -> list[str]:
    found = list(dict.fromkeys(s["strategy"] for s in summary))
    return sorted(found, key=lambda s: STRATEGY_ORDER.index(s) if s in STRATEGY_ORDER else 99)


def _size_label(n: int) -> str:
    from evals.suite.runner import show_size

    return show_size(n)


def by_size(summary: Sequence[dict[str, Any]], metric: str, title: str, path: Path) -> Path | None:
    """One panel per suite: metric against corpus size, one line per strategy."""
    suites = list(dict.fromkeys(s["suite"] for s in summary if s.get(metric) is not None))
    if not suites:
        return None
    plt = _pyplot()
    cols = min(3, len(suites))
    rows = math.ceil(len(suites) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, suite in zip(axes.flat, suites, strict=False):
        lines = [s for s in summary if s["suite"] == suite and s.get(metric) is not None]
        sizes = sorted({s["size"] for s in lines})
        names = _strategies(lines)
        for n, strategy in enumerate(names):
            pts = sorted((s["size"], s[metric]) for s in lines if s["strategy"] == strategy)
            shift = (n - (len(names) - 1) / 2) * 0.04  # lines that agree stay visible side by side
            ax.plot(
                [sizes.index(x) + shift for x, _ in pts], [y for _, y in pts], marker=MARKERS.get(strategy, "o"),
                label=strategy, color=COLOURS.get(strategy), alpha=0.85,
            )  # fmt: skip
        ax.set_title(suite, fontsize=10)
        ax.set_xticks(range(len(sizes)), [_size_label(x) for x in sizes])
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("pack budget" if suite in ("codeqa", "history") else "corpus tokens", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(suites) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def tokens_vs_accuracy(summary: Sequence[dict[str, Any]], path: Path) -> Path | None:
    """Cost against quality: mean tokens sent and accuracy, one point per (suite, size, strategy)."""
    pts = [s for s in summary if s.get("accuracy") is not None and s.get("tokens_packed")]
    if not pts:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for strategy in _strategies(pts):
        mine = [s for s in pts if s["strategy"] == strategy]
        ax.scatter(
            [s["tokens_packed"] for s in mine], [s["accuracy"] for s in mine], label=strategy,
            color=COLOURS.get(strategy), alpha=0.75,
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("tokens sent to the model (mean per case, log scale)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Tokens sent against accuracy (each point: one suite at one size)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def depth_grid(rows: Sequence[dict[str, Any]], suite: str) -> dict[str, dict[tuple[int, int], list[bool]]]:
    """Per strategy: (depth bin, size) -> whether each needle there reached the pack."""
    out: dict[str, dict[tuple[int, int], list[bool]]] = {}
    for r in ok_rows(rows):
        if r["suite"] != suite:
            continue
        for needle in r.get("needles") or []:
            b = min(DEPTH_BINS - 1, int(needle["depth"] * DEPTH_BINS))
            out.setdefault(r["strategy"], {}).setdefault((b, int(r["size"])), []).append(
                bool(needle["in_pack"])
            )
    return out


def depth_heatmap(rows: Sequence[dict[str, Any]], suite: str, path: Path) -> Path | None:
    """Needle depth x corpus size, the share of needles in the pack, one panel per strategy."""
    grid = depth_grid(rows, suite)
    if not grid:
        return None
    plt = _pyplot()
    strategies = [s for s in STRATEGY_ORDER if s in grid] + [s for s in grid if s not in STRATEGY_ORDER]
    sizes = sorted({size for cells in grid.values() for _, size in cells})
    fig, axes = plt.subplots(1, len(strategies), figsize=(2.1 * len(strategies) + 1.2, 3.6), squeeze=False)
    image = None
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    for ax, strategy in zip(axes.flat, strategies, strict=True):
        cells = grid[strategy]
        data = [
            [
                (sum(v) / len(v)) if (v := cells.get((b, size))) else float("nan")
                for size in sizes
            ]
            for b in range(DEPTH_BINS)
        ]  # fmt: skip
        image = ax.imshow(data, vmin=0, vmax=1, cmap=cmap, aspect="auto", origin="upper")
        ax.set_title(strategy, fontsize=9)
        ax.set_xticks(range(len(sizes)), [_size_label(s) for s in sizes], fontsize=7)
        if ax is axes.flat[0]:
            ticks = range(0, DEPTH_BINS, 2)
            ax.set_yticks(ticks, [f"{b * 100 // DEPTH_BINS}%" for b in ticks])
        else:
            ax.set_yticks([])
        ax.tick_params(labelsize=7)
    axes.flat[0].set_ylabel("needle depth")
    if image is not None:
        fig.colorbar(image, ax=list(axes.flat), shrink=0.8, label="needles in the pack")
    fig.suptitle(f"{suite}: needle depth against corpus size (grey: no needle there)", fontsize=10)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def all_plots(rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], folder: Path) -> list[Path]:
    """Write every plot the run supports into folder; return their paths in reading order."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = [
        s for s in summary if s["suite"] not in ("safety", "faults")
    ]  # no sizes, no tokens: own tables
    made = [
        by_size(summary, "accuracy", "Accuracy against corpus size", folder / "accuracy_by_size.png"),
        by_size(summary, "evidence", "Evidence recall in the pack against corpus size", folder / "evidence_by_size.png"),
        tokens_vs_accuracy(summary, folder / "tokens_vs_accuracy.png"),
    ]  # fmt: skip
    for suite in dict.fromkeys(r["suite"] for r in rows):
        made.append(depth_heatmap(rows, suite, folder / f"depth_{suite}.png"))
    return [p for p in made if p is not None]
